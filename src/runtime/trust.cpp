#include "evnet/runtime/trust.hpp"

#include <cstdio>
#include <cstdlib>

namespace evnet::runtime {

namespace {

[[noreturn]] void exit_missing(std::string_view program, const error& e) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), e.message.c_str());
  std::exit(2);
}

} // namespace

trust_settings trust_from(const arguments& args) {
  trust_settings t;
  t.insecure = args.has(insecure_flag);
  t.keys_dir = args.get(keys_option).value_or(default_keys_dir);
  return t;
}

void warn_if_insecure(const trust_settings& t, std::string_view program) {
  if (t.insecure) {
    std::fprintf(stderr,
                 "%.*s: WARNING: --insecure: CURVE is off; every link is plaintext and unauthenticated, and "
                 "anyone who reaches a port can act as any CP or driver. For debugging only.\n",
                 static_cast<int>(program.size()), program.data());
  }
}

security::key_pair own_pair_or_exit(const trust_settings& t, std::string_view program, const std::string& name) {
  auto kp = security::load_pair(t.keys_dir, name);
  if (!kp) {
    exit_missing(program, kp.err());
  }
  return std::move(kp).value();
}

std::string public_key_or_exit(const trust_settings& t, std::string_view program, const std::string& name) {
  auto key = security::load_public(t.keys_dir, name);
  if (!key) {
    exit_missing(program, key.err());
  }
  return std::move(key).value();
}

} // namespace evnet::runtime

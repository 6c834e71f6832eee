#pragma once

// --keys DIR and --insecure, as every program reads them, and the key files
// each program needs before it may open a link (see
// evnet/security/keys.hpp). A program that lacks a key file names the file
// and exits 2, before any socket exists; --insecure (debugging only) turns
// CURVE off and says so on stderr at start.
//
// Thread-safety: called from main() only.

#include "evnet/runtime/cli.hpp"
#include "evnet/security/keys.hpp"
#include "evnet/transport.hpp"

#include <string>
#include <string_view>

namespace evnet::runtime {

// The options every program accepts, for parse_arguments().
inline constexpr std::string_view keys_option = "keys";
inline constexpr std::string_view insecure_flag = "insecure";
inline constexpr const char* default_keys_dir = "var/keys";

// The usage lines every program prints for them (a literal, so that each
// program's usage text stays one constant).
#define EVNET_TRUST_USAGE                                                                  \
  "  --keys DIR      CURVE key files (default var/keys; make them with tools/evnet keys init)\n" \
  "  --insecure      no CURVE: anyone who reaches a port is trusted (debugging only)\n"

struct trust_settings {
  bool insecure = false;
  std::string keys_dir = default_keys_dir;
};

trust_settings trust_from(const arguments& args);

// Prints the --insecure warning on stderr when it is on.
void warn_if_insecure(const trust_settings& t, std::string_view program);

// This program's own pair, or exit 2 naming the missing file.
security::key_pair own_pair_or_exit(const trust_settings& t, std::string_view program, const std::string& name);
// A peer's public key, or exit 2 naming the missing file.
std::string public_key_or_exit(const trust_settings& t, std::string_view program, const std::string& name);

} // namespace evnet::runtime

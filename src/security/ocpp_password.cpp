#include "evnet/security/ocpp_password.hpp"

#include <sodium.h>

#include <string>

namespace evnet::security {

namespace {

// Argon2id at libsodium's interactive time cost and 8 MiB (see the header).
constexpr unsigned long long ops_limit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t mem_limit = std::size_t{8} * 1024 * 1024;

bool sodium_ready() {
  // sodium_init() is thread-safe and idempotent; a negative value means the
  // library cannot be used at all.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

} // namespace

status check_ocpp_password(std::string_view password) {
  if (password.size() < min_ocpp_password || password.size() > max_ocpp_password) {
    return error{errc::invalid_field, "an OCPP password has " + std::to_string(min_ocpp_password) + " to " +
                                          std::to_string(max_ocpp_password) + " characters, this one " +
                                          std::to_string(password.size())};
  }
  for (const char c : password) {
    if (c < ' ' || c > '~') {
      return error{errc::invalid_field, "an OCPP password is printable ASCII only"};
    }
  }
  return ok_value;
}

result<std::string> hash_ocpp_password(std::string_view password) {
  if (auto form = check_ocpp_password(password); !form) {
    return form.err();
  }
  if (!sodium_ready()) {
    return error{errc::invalid_state, "libsodium cannot be initialised"};
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops_limit, mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return error{errc::invalid_state, "cannot hash the password (out of memory)"};
  }
  return std::string(out);
}

bool verify_ocpp_password(std::string_view hash, std::string_view password) {
  if (!check_ocpp_password(password) || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES ||
      !sodium_ready()) {
    return false;
  }
  // crypto_pwhash_str_verify wants a NUL-terminated string of at most
  // crypto_pwhash_STRBYTES - 1 characters.
  const std::string stored(hash);
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

} // namespace evnet::security

#pragma once

// CURVE key pairs and the files that hold them.
//
// Every party has one long-term pair: Central ("central"), each CP (its
// Monitor and its Engine share "cp-<ID>") and each driver ("driver-<ID>").
// A pair lives in a key directory (default var/keys/) as two Z85 text files:
// <name>.pub (40 characters and a newline) and <name>.key, the secret one,
// written with mode 0600 and never logged or sent.
//
// The identity a key stands for is what the ZAP handler puts in the
// ZeroMQ User-Id of every message its holder sends: "central", "cp:<ID>" or
// "driver:<ID>"; the Central machine checks every message against it.
//
// Thread-safety: pure functions and file I/O; no shared state.

#include "evnet/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace evnet::security {

inline constexpr std::size_t z85_key_size = 40;

struct key_pair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A fresh pair from libzmq (zmq_curve_keypair, libsodium underneath).
result<key_pair> generate_pair();
// 40 characters of the Z85 alphabet.
bool is_z85_key(std::string_view s);
// The public key that belongs to a secret key (zmq_curve_public).
result<std::string> public_from_secret(std::string_view secret_key);

// File base names.
std::string central_key_name();                        // "central"
std::string cp_key_name(std::string_view cp_id);       // "cp-<ID>"
std::string driver_key_name(std::string_view driver_id);  // "driver-<ID>"

// ZAP user ids.
std::string central_identity();                        // "central"
std::string cp_identity(std::string_view cp_id);       // "cp:<ID>"
std::string driver_identity(std::string_view driver_id);  // "driver:<ID>"

// A user id taken apart. kind none: empty (CURVE off) or not one of ours.
struct identity {
  enum class kind : std::uint8_t { none, central, cp, driver };
  kind what = kind::none;
  std::string id;  // CP or driver id; empty for central/none
};
identity parse_identity(std::string_view user_id);

// DIR/<name>.pub and DIR/<name>.key. Errors (errc::file) name the file that
// is missing or unreadable or holds no valid key, and say how to make one:
// "missing key file var/keys/cp-ALC1.key (create keys with: tools/evnet keys init)".
// A secret key file readable by group or others is refused too.
result<key_pair> load_pair(const std::string& dir, const std::string& name);
result<std::string> load_public(const std::string& dir, const std::string& name);
bool pair_exists(const std::string& dir, const std::string& name);
// Writes both files (creating DIR with mode 0700 if needed): the secret one
// with mode 0600 from the start (never briefly readable), each through a
// temporary file and rename, so a crash leaves the old pair or the new one.
status save_pair(const std::string& dir, const std::string& name, const key_pair& kp);

} // namespace evnet::security

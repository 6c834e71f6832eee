#pragma once

// The secret an OCPP charge point presents under security profiles 1 and 2
// (HTTP Basic authentication: its id and this password), and its salted
// hash, which is all Central's registry keeps.
//
// The form follows the OCPP 1.6 Security Whitepaper: 16 to 40 printable
// ASCII characters. The hash is libsodium's crypto_pwhash_str (Argon2id,
// a random salt, its parameters inside the string), at a memory cost of
// 8 MiB: a charge point's password is a random machine secret, not a word
// a person chose, so a storm of thousands of reconnecting charge points
// must not cost a gigabyte of hashing; the salt still makes every stored
// hash different.
//
// Thread-safety: free functions, safe from any thread (libsodium is
// initialised once, thread-safely, on first use).

#include "evnet/result.hpp"

#include <string>
#include <string_view>

namespace evnet::security {

inline constexpr std::size_t min_ocpp_password = 16;
inline constexpr std::size_t max_ocpp_password = 40;

// errc::invalid_field with a sentence when `password` is not 16..40
// printable ASCII characters (the space included, as in Basic credentials).
status check_ocpp_password(std::string_view password);

// The salted hash of a well-formed password (check_ocpp_password first).
// errc::invalid_field for a bad form; errc::invalid_state when libsodium
// fails (out of memory).
result<std::string> hash_ocpp_password(std::string_view password);

// Whether `password` matches `hash` (as made by hash_ocpp_password). False
// for a malformed hash or password, never an exception.
bool verify_ocpp_password(std::string_view hash, std::string_view password);

} // namespace evnet::security

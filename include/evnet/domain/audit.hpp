#pragma once

// One row of Central's audit trail: a security-relevant event (an
// authentication, a hello, a refused or malformed message, a revocation or
// registration, an operator STOP/RESUME, a fault or recovery). The machine
// writes it through charge_book; the store appends it to its `audit` table
// in the same transaction as the change it records.
//
// Thread-safety: a plain value.

#include "evnet/json.hpp"

#include <cstdint>
#include <string>

namespace evnet::domain {

struct audit_entry {
  std::int64_t time_ms = 0;
  std::string source;   // "operator", "tool", "peer <printable routing id>", "key cp:ALC1 from 127.0.0.1", ...
  std::string action;   // auth, hello, refused, malformed, revoke, register, stop, resume, fault, recovery
  json::object params;  // what it was about (ids, key, address, message type)
  std::string outcome;  // "ok", "admitted", "refused: ...", ...
};

} // namespace evnet::domain

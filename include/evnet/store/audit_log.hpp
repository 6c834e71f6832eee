#pragma once

// Reading Central's audit trail back: `EV_Central --audit [--db FILE]
// [--since TIME]` prints it as JSON lines (one object per row, oldest first)
// and exits. The rows are written by central_store (see central_store.hpp).
//
// Thread-safety: pure functions, except print_audit, which opens its own
// connection to the store and writes to `out`.

#include "evnet/domain/audit.hpp"
#include "evnet/json.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace evnet::store {

// A --since value as milliseconds since the Unix epoch. Accepted, all UTC:
//   1795784700              Unix seconds
//   2026-11-27              midnight
//   2026-11-27T13:05:00Z    (the Z may be left out)
//   2026-11-27 13:05:00
// Anything else (or an impossible date such as 2026-02-30) is errc::usage,
// with a message that lists the accepted forms.
result<std::int64_t> parse_since(std::string_view text);

// The arguments of an `--audit` run (EV_Central's, EV_OCPP's): no
// positional argument, and --since, when given, a time parse_since takes.
// Returns since_ms (0 without --since), or errc::usage.
result<std::int64_t> audit_since(std::size_t positional_count, const std::optional<std::string>& since);

// 1795784700123 -> "2026-11-27T13:05:00.123Z".
std::string iso_utc_ms(std::int64_t time_ms);

// {"time": ISO-8601 UTC with ms, "time_ms", "source", "action", "params", "outcome"}.
json::object audit_json(const domain::audit_entry& e);

// Prints every audit row with time_ms >= since_ms to `out`, one JSON object
// per line. Returns the exit code: 0, or 1 on a store error (a missing
// database included) after one line on stderr.
int print_audit(const std::string& db_path, std::int64_t since_ms, std::FILE* out);

} // namespace evnet::store

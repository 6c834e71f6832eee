#pragma once

// The Monitor's console lines (stdin in --headless, the panel's form):
//   charge [SECONDS]   a charge started at the CP itself (no SECONDS: until unplugged)
//   quit
// Pure: a line in, a command or an error out.
//
// Thread-safety: a pure function.

#include "evnet/result.hpp"

#include <cstdint>
#include <string_view>

namespace evnet::domain {

enum class monitor_verb : std::uint8_t { none, charge, quit };

struct monitor_command {
  monitor_verb verb = monitor_verb::none;  // none: an empty line, nothing to do
  std::int64_t duration_s = 0;             // charge: 0 means until unplugged
};

// Errors: errc::bad_command for a line that is not a command (the message
// lists the commands); errc::bad_duration for `charge` with SECONDS that is
// not a whole number in [1, max_duration_s] (the Monitor answers that one as
// a refused local charge, as it always has).
result<monitor_command> parse_monitor_command(std::string_view line);

} // namespace evnet::domain

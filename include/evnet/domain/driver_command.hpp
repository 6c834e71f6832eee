#pragma once

// EV_Driver's console commands (docs/HEADLESS.md), parsed from one line:
//   list | charge <CP> [SECONDS] | file <PATH> | quit
// A pure function: no I/O, no state. A blank line is `nothing`; anything else
// that is not a command is error{errc::bad_command, <the text to show>}.
//
// Thread-safety: reentrant.

#include "evnet/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace evnet::domain {

namespace driver_cmd {
struct nothing {};  // a blank line
struct list {};
struct charge {
  std::string cp_id;
  std::optional<std::int64_t> duration_s;  // none: the driver's default
};
struct file {
  std::string path;  // the rest of the line, spaces inside kept
};
struct quit {};
} // namespace driver_cmd

using driver_command =
    std::variant<driver_cmd::nothing, driver_cmd::list, driver_cmd::charge, driver_cmd::file, driver_cmd::quit>;

// SECONDS is a whole number in 1..evnet::max_duration_s.
result<driver_command> parse_driver_command(std::string_view line);

} // namespace evnet::domain

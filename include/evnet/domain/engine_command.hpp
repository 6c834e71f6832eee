#pragma once

// The Engine's console lines (stdin in --headless, keys in the panel):
//   plug | unplug | fault | repair | toggle | quit
// `toggle` is ENTER in the panel (as in the original system): fault when
// healthy, repair when faulty; the Engine's machine decides which.
// Pure: a line in, a command or an error out.
//
// Thread-safety: a pure function.

#include "evnet/result.hpp"

#include <cstdint>
#include <string_view>

namespace evnet::domain {

enum class engine_command : std::uint8_t { none, plug, unplug, fault, repair, toggle, quit };

// A blank line is engine_command::none (nothing to do). Errors:
// errc::bad_command, with the text to show: an unknown word lists the
// commands; a known one with an argument says it takes none.
result<engine_command> parse_engine_command(std::string_view line);

} // namespace evnet::domain

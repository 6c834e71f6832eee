#pragma once

// The five states a charging point shows, and the table that decides them.
// Pure: no sockets, no terminal.

#include <optional>
#include <string_view>

namespace evnet::domain {

enum class cp_state { active, busy, broken, out_of_order, disconnected };

// "ACTIVE", "BUSY", "BROKEN", "OUT_OF_ORDER", "DISCONNECTED".
std::string_view to_string(cp_state s);
std::optional<cp_state> parse_cp_state(std::string_view s);

// What Central knows about a CP. The visible state is derived from it, never
// stored, so it cannot disagree with the facts:
//   monitor down                  -> DISCONNECTED (whatever the Engine)
//   monitor up, engine KO         -> BROKEN
//   monitor up, engine OK, stopped-> OUT_OF_ORDER
//   ... charging                  -> BUSY
//   otherwise                     -> ACTIVE
struct cp_condition {
  bool monitor_ok = false;
  bool engine_ok = true;
  bool stopped = false;
  bool charging = false;
};

cp_state derive_state(const cp_condition& c);

} // namespace evnet::domain

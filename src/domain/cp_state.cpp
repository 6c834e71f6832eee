#include "evnet/domain/cp_state.hpp"

#include <array>
#include <utility>

namespace evnet::domain {

namespace {

constexpr std::array<std::pair<cp_state, std::string_view>, 5> names{{
    {cp_state::active, "ACTIVE"},
    {cp_state::busy, "BUSY"},
    {cp_state::broken, "BROKEN"},
    {cp_state::out_of_order, "OUT_OF_ORDER"},
    {cp_state::disconnected, "DISCONNECTED"},
}};

} // namespace

std::string_view to_string(cp_state s) {
  for (const auto& [state, name] : names) {
    if (state == s) {
      return name;
    }
  }
  // Only reachable with a value cast from outside the enum's range.
  return "DISCONNECTED";
}

std::optional<cp_state> parse_cp_state(std::string_view s) {
  for (const auto& [state, name] : names) {
    if (name == s) {
      return state;
    }
  }
  return std::nullopt;
}

cp_state derive_state(const cp_condition& c) {
  // The order of these checks is the precedence of the table in the header:
  // without its Monitor nothing else about a CP can be trusted.
  if (!c.monitor_ok) {
    return cp_state::disconnected;
  }
  if (!c.engine_ok) {
    return cp_state::broken;
  }
  if (c.stopped) {
    return cp_state::out_of_order;
  }
  if (c.charging) {
    return cp_state::busy;
  }
  return cp_state::active;
}

} // namespace evnet::domain

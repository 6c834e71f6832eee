#include "evnet/domain/cp_state.hpp"

namespace evnet::domain {

cp_state derive_state(const cp_condition& c) {
  // The order of these checks is the precedence of the table in the header:
  // without its Monitor nothing else about a CP can be trusted.
  if (!c.monitor_ok) {
    return cp_state::disconnected;
  }
  if (!c.engine_ok) {
    return cp_state::broken;
  }
  if (c.stopped || c.out_of_service) {
    return cp_state::out_of_order;
  }
  if (c.charging) {
    return cp_state::busy;
  }
  return cp_state::active;
}

} // namespace evnet::domain

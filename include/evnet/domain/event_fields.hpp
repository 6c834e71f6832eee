#pragma once

// How protocol values look in events (docs/HEADLESS.md): one spelling for
// every machine, so the panels and the tests read them the same way.
//
// Thread-safety: pure functions.

#include "evnet/json.hpp"
#include "evnet/protocol.hpp"

namespace evnet::domain {

// A CP object: cp, location, price, state, driver, kwh, amount.
json::object cp_fields(const protocol::cp_info& cp);
// A ticket object: cp, charge_id, driver, kwh, price, amount, start, end, reason.
json::object ticket_fields(const protocol::charge_record& r);

} // namespace evnet::domain

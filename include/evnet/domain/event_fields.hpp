#pragma once

// How protocol values look in events (docs/HEADLESS.md): one spelling for
// every program, so the panels and the tests read them the same way.

#include "evnet/json.hpp"
#include "evnet/protocol.hpp"

namespace evnet::runtime {

json::object cp_fields(const protocol::cp_info& cp);
json::value cp_json(const protocol::cp_info& cp);
json::object ticket_fields(const protocol::charge_record& r);

} // namespace evnet::runtime

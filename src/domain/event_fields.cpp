#include "evnet/runtime/json_views.hpp"

namespace evnet::runtime {

json::object cp_fields(const protocol::cp_info& cp) {
  return json::object{{"cp", cp.cp_id},
                      {"location", cp.location},
                      {"price", cp.price},
                      {"state", to_string(cp.state)},
                      {"driver", cp.driver_id},
                      {"kwh", cp.kwh},
                      {"amount", cp.amount}};
}

json::value cp_json(const protocol::cp_info& cp) { return json::value(cp_fields(cp)); }

json::object ticket_fields(const protocol::charge_record& r) {
  return json::object{{"cp", r.cp_id},     {"charge_id", r.charge_id}, {"driver", r.driver_id},
                      {"kwh", r.kwh},      {"price", r.price},         {"amount", r.amount},
                      {"start", r.start_ms}, {"end", r.end_ms},        {"reason", to_string(r.reason)}};
}

} // namespace evnet::runtime

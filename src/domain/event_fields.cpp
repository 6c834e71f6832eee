#include "evnet/domain/event_fields.hpp"

namespace evnet::domain {

json::object cp_fields(const protocol::cp_info& cp) {
  return json::object{{"cp", cp.cp_id},     {"location", cp.location}, {"price", cp.price},
                      {"state", cp.state},  {"driver", cp.driver_id},  {"kwh", cp.kwh},
                      {"amount", cp.amount}};
}

json::object ticket_fields(const protocol::charge_record& r) {
  return json::object{{"cp", r.cp_id},       {"charge_id", r.charge_id}, {"driver", r.driver_id},
                      {"kwh", r.kwh},        {"price", r.price},         {"amount", r.amount},
                      {"start", r.start_ms}, {"end", r.end_ms},          {"reason", r.reason}};
}

} // namespace evnet::domain

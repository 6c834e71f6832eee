#include "evnet/ocpp/admission.hpp"

#include "evnet/vocabulary.hpp"

namespace evnet::ocpp {

admission_verdict admission_for(const json::object& auth_event) {
  const auto text = [&](const char* key) {
    const auto it = auth_event.find(key);
    return it != auth_event.end() && it->second.is_string() ? it->second.get<std::string>() : std::string{};
  };
  const auto ok = auth_event.find("ok");
  if (ok != auth_event.end() && ok->second.is_boolean() && ok->second.get<bool>()) {
    return {admission::admit, {}};
  }
  const std::string reason = text("reason").empty() ? std::string("refused by CENTRAL") : text("reason");
  if (parse_errc(text("code")) == errc::already_connected) {
    return {admission::wait, reason};
  }
  return {admission::refuse, reason};
}

monitor_notice_meaning meaning_of(const domain::notice& n) {
  monitor_notice_meaning m;
  if (n.name == "auth") {
    m.what = monitor_notice_meaning::kind::central_answered;
    m.admission = admission_for(n.fields);
  } else if (n.name == "local_charge") {
    const auto ok = n.fields.find("ok");
    if (ok != n.fields.end() && ok->second.is_boolean() && !ok->second.get<bool>()) {
      const auto r = n.fields.find("reason");
      m.what = monitor_notice_meaning::kind::charge_refused;
      m.reason = r != n.fields.end() && r->second.is_string() ? r->second.get<std::string>() : "refused by CENTRAL";
    }
  }
  return m;
}

gateway_command parse_gateway_command(std::string_view line) {
  if (line.empty()) {
    return gateway_command::none;
  }
  if (line == "list") {
    return gateway_command::list;
  }
  if (line == "quit") {
    return gateway_command::quit;
  }
  return gateway_command::unknown;
}

} // namespace evnet::ocpp

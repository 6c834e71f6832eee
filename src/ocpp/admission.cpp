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

} // namespace evnet::ocpp

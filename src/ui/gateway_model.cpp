#include "evnet/ui/gateway_model.hpp"

#include "evnet/text.hpp"

namespace evnet::ui {

namespace {

using tone = message_log::tone;

} // namespace

gateway_model::gateway_model() : messages_(200) {}

gateway_model::charge_point& gateway_model::cp(const json::value& ev) {
  return cps_[field::text(ev, "cp", "?")];
}

void gateway_model::apply(const json::value& ev) {
  const std::string name = field::text(ev, "event");
  const std::int64_t ts = field::integer(ev, "ts");
  const std::string id = field::text(ev, "cp");

  if (name == "started" && id.empty()) {
    listen_ = std::to_string(field::integer(ev, "listen"));
    central_ = field::text(ev, "central");
    messages_.push(ts, "listening for OCPP 1.6-J on port " + listen_ + ", CENTRAL at " + central_, tone::good);
  } else if (name == "upgrade") {
    cp(ev).remote = field::text(ev, "remote");
    messages_.push(ts, id + " asks to connect from " + cp(ev).remote + "; asking CENTRAL");
  } else if (name == "connected") {
    cp(ev).connected = true;
    cp(ev).rejected = false;
    messages_.push(ts, id + " connected", tone::good);
  } else if (name == "disconnected") {
    cp(ev).connected = false;
    messages_.push(ts, id + " disconnected: " + field::text(ev, "reason"), tone::bad);
  } else if (name == "refused") {
    const std::string who = id.empty() ? field::text(ev, "path", "?") : id;
    messages_.push(ts, "refused " + who + " (" + std::to_string(field::integer(ev, "status")) + "): " +
                           field::text(ev, "reason"), tone::bad);
  } else if (name == "rejected") {
    cp(ev).rejected = true;
    messages_.push(ts, id + " rejected by CENTRAL: " + field::text(ev, "reason"), tone::bad);
  } else if (name == "waiting") {
    messages_.push(ts, id + " waits: " + field::text(ev, "reason"));
  } else if (name == "state" && !id.empty()) {
    cp(ev).state = parse_cp_state(field::text(ev, "state"));
  } else if (name == "ocpp" && !id.empty()) {
    auto& c = cp(ev);
    c.last_message = field::text(ev, "dir") + " " + field::text(ev, "action");
    c.last_ts = ts;
    if (const auto code = field::text(ev, "code"); !code.empty()) {
      c.last_message += " " + code;
    }
  } else if (name == "progress" && !id.empty()) {
    auto& c = cp(ev);
    c.driver = field::text(ev, "driver", c.driver);
    c.kwh = field::number(ev, "kwh", c.kwh);
    c.amount = field::number(ev, "amount", c.amount);
  } else if (name == "plugged" && !id.empty()) {
    messages_.push(ts, id + ": transaction " + std::to_string(field::integer(ev, "transaction")) + " started");
  } else if (name == "finished" && !id.empty()) {
    auto& c = cp(ev);
    c.driver.clear();
    c.kwh = 0.0;
    c.amount = 0.0;
    const ticket_view t = parse_ticket(ev);
    messages_.push(ts, id + ": charge finished, " + format_fixed(t.kwh, 2) + " kWh, " + format_fixed(t.amount, 2) +
                           " EUR, driver " + t.driver, tone::good);
  } else if (name == "error") {
    messages_.push(ts, (id.empty() ? std::string() : id + ": ") + "error: " +
                           field::text(ev, "message", field::text(ev, "code")), tone::bad);
  }
}

std::optional<std::string> gateway_model::on_key(int key, std::int64_t now_ms) {
  if (!question_.empty()) {
    question_.clear();
    if (key == 'y' || key == 'Y') {
      messages_.push(now_ms, "> quit");
      return std::string("quit");
    }
    return std::nullopt;
  }
  if (key == 'q' || key == 'Q') {
    question_ = "Quit the gateway? Its charge points lose their connection (y/n)";
  }
  return std::nullopt;
}

} // namespace evnet::ui

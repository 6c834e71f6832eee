#include "evnet/ui/monitor_model.hpp"

#include <utility>

namespace evnet::ui {

namespace {

using tone = message_log::tone;

} // namespace

monitor_model::monitor_model() : messages_(100) {}

void monitor_model::apply(const json::value& ev) {
  const std::string name = field::text(ev, "event");
  const std::int64_t ts = field::integer(ev, "ts");

  if (name == "started") {
    cp_ = field::text(ev, "cp", cp_);
    engine_ = field::text(ev, "engine", engine_);
    central_ = field::text(ev, "central", central_);
    messages_.push(ts, "monitor of " + cp_ + " started");
  } else if (name == "central") {
    connected_ = field::text(ev, "status") == "connected";
    if (!connected_) {
      // A new session must authenticate again.
      authenticated_.reset();
    }
    central_text_ = field::text(ev, "text", connected_ ? "connected to CENTRAL" : "cannot reach CENTRAL");
    messages_.push(ts, central_text_, connected_ ? tone::good : tone::bad);
  } else if (name == "auth") {
    authenticated_ = field::flag(ev, "ok");
    auth_reason_ = field::text(ev, "reason");
    cp_ = field::text(ev, "cp", cp_);
    location_ = field::text(ev, "location", location_);
    price_ = field::number(ev, "price", price_);
    if (*authenticated_) {
      messages_.push(ts, "authenticated with CENTRAL", tone::good);
    } else {
      messages_.push(ts, "authentication denied: " + auth_reason_, tone::bad);
    }
  } else if (name == "engine") {
    bool ok = field::flag(ev, "ok");
    bool changed = !engine_ok_ || *engine_ok_ != ok;
    engine_ok_ = ok;
    engine_detail_ = field::text(ev, "detail");
    if (field::find(ev, "state") != nullptr) {
      // An Engine not configured yet has no state: "" reads as nullopt.
      engine_state_ = parse_cp_state(field::text(ev, "state"));
    }
    engine_checked_at_ = ts;
    if (changed) {
      std::string text = ok ? "engine OK" : "engine KO";
      if (!engine_detail_.empty()) {
        text += ": " + engine_detail_;
      }
      messages_.push(ts, std::move(text), ok ? tone::good : tone::bad);
    }
  } else if (name == "charge") {
    charge c;
    c.charge_id = field::text(ev, "charge_id");
    c.driver = field::text(ev, "driver");
    c.kwh = field::number(ev, "kwh");
    c.amount = field::number(ev, "amount");
    c.elapsed_s = field::integer(ev, "elapsed_s");
    c.duration_s = field::integer(ev, "duration_s");
    c.plugged = field::flag(ev, "plugged", true);
    if (!charge_ || charge_->charge_id != c.charge_id) {
      messages_.push(ts, "charge " + c.charge_id + " for driver " + c.driver + " started");
    }
    charge_ = std::move(c);
  } else if (name == "ticket") {
    ticket_view t = parse_ticket(ev);
    messages_.push(ts, "ticket: " + format_fixed(t.kwh, 2) + " kWh, " + format_fixed(t.amount, 2) + " EUR",
                   tone::good);
    if (charge_ && (t.charge_id.empty() || charge_->charge_id == t.charge_id)) {
      charge_.reset();
    }
    ticket_ = std::move(t);
  } else if (name == "command") {
    std::string what = field::text(ev, "command");
    bool ok = field::flag(ev, "ok");
    if (const auto order = parse_cp_order(what); ok && order) {
      stopped_ = *order == cp_order::stop;
    }
    std::string text = "CENTRAL " + what + (ok ? " applied" : " failed: " + field::text(ev, "reason"));
    messages_.push(ts, std::move(text), ok ? tone::info : tone::bad);
  } else if (name == "local_charge") {
    if (field::flag(ev, "ok")) {
      refusal_.clear();
      messages_.push(ts, "charge " + field::text(ev, "charge_id") + " started at the CP", tone::good);
    } else {
      refusal_ = field::text(ev, "reason", "refused");
      messages_.push(ts, "charge refused: " + refusal_, tone::bad);
    }
  } else if (name == "error") {
    messages_.push(ts, "error: " + field::text(ev, "message", field::text(ev, "code")), tone::bad);
  }
}

std::optional<std::string> monitor_model::sent(std::string line, std::int64_t now_ms) {
  messages_.push(now_ms, "> " + line);
  return line;
}

std::optional<std::string> monitor_model::on_key(int key, std::int64_t now_ms) {
  if (form_.active()) {
    if (form_.on_key(key) != form::outcome::done) {
      return std::nullopt;
    }
    std::string seconds = form_.values()[0];
    if (seconds.empty()) {
      refusal_.clear();
      return sent("charge", now_ms);
    }
    if (!parse_seconds(seconds)) {
      messages_.push(now_ms, "the duration is a whole number of seconds", tone::bad);
      return std::nullopt;
    }
    refusal_.clear();
    return sent("charge " + seconds, now_ms);
  }
  if (!question_.empty()) {
    question_.clear();
    if (key == 'y' || key == 'Y') {
      return sent("quit", now_ms);
    }
    return std::nullopt;
  }
  switch (key) {
    case 'c':
    case keys::enter:
      form_ = form("CHARGE", {{"Charge for how many seconds (empty = until unplugged)", ""}});
      break;
    case 'q':
    case 'Q':
      question_ = "Quit this Monitor? The CP goes DISCONNECTED. (y/n)";
      break;
    default:
      break;
  }
  return std::nullopt;
}

} // namespace evnet::ui

#include "evnet/ui/engine_model.hpp"

#include <utility>

namespace evnet::ui {

namespace {

using tone = message_log::tone;

} // namespace

engine_model::engine_model() : messages_(100) {}

void engine_model::apply(const json::value& ev) {
  const std::string name = field::text(ev, "event");
  const std::int64_t ts = field::integer(ev, "ts");

  if (name == "started") {
    listen_ = field::text(ev, "listen", listen_);
    messages_.push(ts, "engine listening on " + listen_);
  } else if (name == "configured") {
    cp_ = field::text(ev, "cp", cp_);
    location_ = field::text(ev, "location", location_);
    price_ = field::number(ev, "price", price_);
    messages_.push(ts, "configured as " + cp_ + " (" + location_ + ")", tone::good);
  } else if (name == "central") {
    connected_ = field::text(ev, "status") == "connected";
    central_text_ = field::text(ev, "text", connected_ ? "connected to CENTRAL" : "cannot reach CENTRAL");
    messages_.push(ts, central_text_, connected_ ? tone::good : tone::bad);
  } else if (name == "state") {
    cp_ = field::text(ev, "cp", cp_);
    state_ = parse_cp_state(field::text(ev, "state"));
  } else if (name == "authorized") {
    charge c;
    c.charge_id = field::text(ev, "charge_id");
    c.driver = field::text(ev, "driver");
    c.duration = field::integer(ev, "duration");
    charge_ = std::move(c);
    messages_.push(ts, "charge " + charge_->charge_id + " authorised for driver " + charge_->driver +
                           ": press p to plug in", tone::good);
  } else if (name == "plugged") {
    if (!charge_) {
      charge_ = charge{};
    }
    charge_->charge_id = field::text(ev, "charge_id", charge_->charge_id);
    charge_->plugged = true;
    charge_->plugged_at = ts;
    messages_.push(ts, "plugged in, supplying");
  } else if (name == "progress") {
    if (!charge_) {
      charge_ = charge{};
      charge_->plugged = true;
      charge_->plugged_at = ts;
    }
    charge_->charge_id = field::text(ev, "charge_id", charge_->charge_id);
    charge_->driver = field::text(ev, "driver", charge_->driver);
    charge_->kwh = field::number(ev, "kwh", charge_->kwh);
    charge_->amount = field::number(ev, "amount", charge_->amount);
  } else if (name == "finished") {
    ticket_view t = parse_ticket(ev);
    messages_.push(ts, "charge finished: " + format_fixed(t.kwh, 2) + " kWh, " + format_fixed(t.amount, 2) +
                           " EUR" + (t.reason.empty() ? "" : " (" + t.reason + ")"));
    charge_.reset();
    ticket_ = std::move(t);
  } else if (name == "acknowledged") {
    messages_.push(ts, "CENTRAL stored charge " + field::text(ev, "charge_id"), tone::good);
  } else if (name == "fault") {
    faulted_ = true;
    messages_.push(ts, "FAULT: the CP reports broken (ENTER to repair)", tone::bad);
  } else if (name == "repaired") {
    faulted_ = false;
    messages_.push(ts, "repaired", tone::good);
  } else if (name == "stopped") {
    stopped_ = true;
    messages_.push(ts, "stopped by CENTRAL (out of order)", tone::bad);
  } else if (name == "resumed") {
    stopped_ = false;
    messages_.push(ts, "resumed by CENTRAL", tone::good);
  } else if (name == "error") {
    messages_.push(ts, "error: " + field::text(ev, "message", field::text(ev, "code")), tone::bad);
  }
}

std::optional<std::string> engine_model::sent(std::string line, std::int64_t now_ms) {
  messages_.push(now_ms, "> " + line);
  return line;
}

std::optional<std::string> engine_model::on_key(int key, std::int64_t now_ms) {
  if (!question_.empty()) {
    question_.clear();
    if (key == 'y' || key == 'Y') {
      return sent("quit", now_ms);
    }
    return std::nullopt;
  }
  switch (key) {
    case keys::enter:
    case '\r':
      // As in the original system: ENTER flips between healthy and broken.
      return sent(faulted_ ? "repair" : "fault", now_ms);
    case 'p':
    case 'P':
      return sent("plug", now_ms);
    case 'u':
    case 'U':
      return sent("unplug", now_ms);
    case 'f':
      return sent("fault", now_ms);
    case 'r':
      return sent("repair", now_ms);
    case 'q':
    case 'Q':
      question_ = "Quit this Engine? (y/n)";
      break;
    default:
      break;
  }
  return std::nullopt;
}

} // namespace evnet::ui

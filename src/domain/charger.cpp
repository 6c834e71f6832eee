#include "evnet/domain/charger.hpp"

#include "evnet/domain/billing.hpp"

#include <algorithm>

namespace evnet::domain {

namespace {

constexpr std::int64_t max_duration_s = 86'400;

std::string base36(std::int64_t n) {
  if (n <= 0) {
    return "0";
  }
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  while (n > 0) {
    out.insert(out.begin(), digits[n % 36]);
    n /= 36;
  }
  return out;
}

// An authorisation nobody plugged in is dropped without a record: nothing
// was supplied, so there is nothing to bill.
// (A template so that it can see the private `running` without a header change.)
template <class Running>
void drop_expired(std::optional<Running>& c, std::int64_t now_ms) {
  if (c && c->plugged_ms == 0 && now_ms - c->authorized_ms > charger::plug_timeout_ms) {
    c.reset();
  }
}

error refuse(std::string code, std::string message) { return error{std::move(code), std::move(message)}; }

} // namespace

result<std::string> charger::authorize(const std::string& driver_id, std::int64_t duration_s,
                                       const std::string& request_id, std::int64_t now_ms) {
  if (!config_) {
    return refuse("not_configured", "this CP has not been configured by CENTRAL yet");
  }
  drop_expired(current_, now_ms);
  // A retried request must not start a second charge: answer with the first.
  if (current_ && !request_id.empty() && current_->request_id == request_id) {
    return current_->charge_id;
  }
  if (faulty_) {
    return refuse("broken", "CP " + config_->cp_id + " is broken");
  }
  if (stopped_) {
    return refuse("out_of_order", "CP " + config_->cp_id + " is out of order");
  }
  if (current_) {
    return refuse("busy", "CP " + config_->cp_id + " is busy");
  }
  if (duration_s < 0 || duration_s > max_duration_s) {
    return refuse("bad_duration", "a duration must be between 0 and 86400 seconds");
  }

  running r;
  // The clock part keeps ids unique across restarts of the process, the
  // counter within one millisecond.
  r.charge_id = config_->cp_id + "-" + base36(now_ms) + "-" + std::to_string(++counter_);
  r.driver_id = driver_id;
  r.request_id = request_id;
  r.duration_s = duration_s;
  r.authorized_ms = now_ms;
  if (duration_s > 0) {
    r.plugged_ms = now_ms;
  }
  last_request_id_ = request_id;
  last_charge_id_ = r.charge_id;
  current_ = std::move(r);
  return current_->charge_id;
}

status charger::plug(std::int64_t now_ms) {
  if (faulty_) {
    return refuse("broken", "the CP is broken");
  }
  drop_expired(current_, now_ms);
  if (!current_) {
    return refuse("no_charge", "no charge is authorised on this CP");
  }
  if (current_->plugged_ms != 0) {
    return refuse("already_plugged", "a vehicle is already plugged in");
  }
  current_->plugged_ms = now_ms;
  return ok_value;
}

result<protocol::charge_record> charger::unplug(std::int64_t now_ms) {
  if (!current_ || current_->plugged_ms == 0) {
    return refuse("no_charge", "no vehicle is plugged in");
  }
  advance(now_ms);
  return finish(now_ms, "unplugged");
}

std::optional<protocol::charge_record> charger::tick(std::int64_t now_ms) {
  drop_expired(current_, now_ms);
  if (!current_ || current_->plugged_ms == 0) {
    return std::nullopt;
  }
  advance(now_ms);
  if (current_->duration_s > 0 && current_->supplied_s >= current_->duration_s) {
    // Ticks arrive late by up to a period; the charge really ended when its
    // duration was reached.
    return finish(current_->plugged_ms + current_->duration_s * 1000, "completed");
  }
  return std::nullopt;
}

std::optional<protocol::charge_record> charger::fault(std::int64_t now_ms) {
  faulty_ = true;
  return end(now_ms, "engine fault");
}

void charger::repair() { faulty_ = false; }

std::optional<protocol::charge_record> charger::stop(std::int64_t now_ms) {
  stopped_ = true;
  return end(now_ms, "stopped by CENTRAL");
}

void charger::resume() { stopped_ = false; }

std::optional<protocol::charge_record> charger::end(std::int64_t now_ms, const std::string& reason) {
  drop_expired(current_, now_ms);
  if (!current_) {
    return std::nullopt;
  }
  advance(now_ms);
  return finish(now_ms, reason);
}

protocol::charge_record charger::settle_interrupted(const protocol::charge_view& v, std::int64_t started_ms,
                                                    std::int64_t now_ms) {
  protocol::charge_record r;
  if (config_) {
    r.cp_id = config_->cp_id;
    r.price = config_->price;
  }
  r.charge_id = v.charge_id;
  r.driver_id = v.driver_id;
  // The figures last persisted are what the driver was shown; recomputing
  // them with a price configured since then would bill differently.
  r.kwh = v.kwh;
  r.amount = v.amount;
  r.start_ms = started_ms;
  r.end_ms = now_ms;
  r.reason = "engine restarted";
  return r;
}

protocol::charge_view charger::current() const {
  protocol::charge_view v;
  if (!current_) {
    return v;
  }
  v.charge_id = current_->charge_id;
  v.driver_id = current_->driver_id;
  v.plugged = current_->plugged_ms != 0;
  v.kwh = kwh_for(current_->supplied_s);
  v.amount = amount_for(v.kwh, config_ ? config_->price : 0.0);
  v.elapsed_s = current_->supplied_s;
  v.duration_s = current_->duration_s;
  return v;
}

std::int64_t charger::current_started_ms() const {
  if (!current_) {
    return 0;
  }
  return current_->plugged_ms != 0 ? current_->plugged_ms : current_->authorized_ms;
}

std::string charger::state_name() const {
  if (faulty_) {
    return "BROKEN";
  }
  if (stopped_) {
    return "OUT_OF_ORDER";
  }
  if (current_) {
    return "BUSY";
  }
  return "ACTIVE";
}

protocol::charge_record charger::finish(std::int64_t now_ms, const std::string& reason) {
  protocol::charge_record r;
  r.cp_id = config_ ? config_->cp_id : std::string();
  r.price = config_ ? config_->price : 0.0;
  r.charge_id = current_->charge_id;
  r.driver_id = current_->driver_id;
  r.kwh = kwh_for(current_->supplied_s);
  r.amount = amount_for(r.kwh, r.price);
  r.start_ms = current_->plugged_ms != 0 ? current_->plugged_ms : current_->authorized_ms;
  r.end_ms = now_ms;
  r.reason = reason;
  current_.reset();
  return r;
}

void charger::advance(std::int64_t now_ms) {
  if (!current_ || current_->plugged_ms == 0 || now_ms <= current_->plugged_ms) {
    return;
  }
  std::int64_t seconds = (now_ms - current_->plugged_ms) / 1000;
  if (current_->duration_s > 0) {
    seconds = std::min(seconds, current_->duration_s);
  }
  // A clock stepping backwards must never take back supplied energy.
  current_->supplied_s = std::max(current_->supplied_s, seconds);
}

} // namespace evnet::domain

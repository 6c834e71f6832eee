#include "evnet/domain/charger.hpp"

#include "evnet/domain/billing.hpp"

#include <algorithm>

namespace evnet::domain {

namespace {

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

} // namespace

result<charger::authorization> charger::authorize(const std::string& driver_id, std::int64_t duration_s,
                                                  const std::string& request_id, std::int64_t now_ms) {
  if (!config_) {
    return error{errc::not_configured, "this CP has not been configured by CENTRAL yet"};
  }
  expire(now_ms);
  // A retried request must not reserve a second time: answer with the first.
  if (!request_id.empty()) {
    if (slot_ && slot_->r.request_id == request_id) {
      return authorization{slot_->r.charge_id, true};
    }
    for (const auto& d : decided_) {
      if (d.request_id != request_id) {
        continue;
      }
      if (d.what == outcome::confirmed) {
        return authorization{d.charge_id, true};
      }
      return error{errc::reservation_expired, "the reservation " + d.charge_id + " for this request was dropped"};
    }
  }
  if (faulty_) {
    return error{errc::broken, "CP " + config_->cp_id + " is broken"};
  }
  if (stopped_) {
    return error{errc::out_of_order, "CP " + config_->cp_id + " is out of order"};
  }
  if (slot_) {
    return error{errc::busy, "CP " + config_->cp_id + " is busy"};
  }
  if (duration_s < 0 || duration_s > max_duration_s) {
    return error{errc::bad_duration,
                 "a duration must be between 0 and " + std::to_string(max_duration_s) + " seconds"};
  }

  slot s;
  // The clock part keeps ids unique across restarts of the process, the
  // counter within one millisecond.
  s.r.charge_id = config_->cp_id + "-" + base36(now_ms) + "-" + std::to_string(++counter_);
  s.r.driver_id = driver_id;
  s.r.request_id = request_id;
  s.r.duration_s = duration_s;
  s.reserved_ms = now_ms;
  slot_ = std::move(s);
  return authorization{slot_->r.charge_id, false};
}

result<bool> charger::confirm(std::string_view id, std::int64_t now_ms) {
  expire(now_ms);
  if (slot_ && names(slot_->r, id)) {
    if (slot_->confirmed) {
      return false;
    }
    slot_->confirmed = true;
    slot_->confirmed_ms = now_ms;
    if (slot_->r.duration_s > 0) {
      slot_->plugged_ms = now_ms;  // supply starts with the yes
    }
    remember(slot_->r, outcome::confirmed);
    return true;
  }
  if (const auto* d = find_decided(id); d != nullptr && d->what == outcome::confirmed) {
    return false;  // confirmed before, finished since
  }
  return error{errc::reservation_expired,
               "no reservation " + std::string(id) + " here: it expired or was dropped, nothing was supplied"};
}

result<bool> charger::cancel(std::string_view id, std::int64_t now_ms) {
  expire(now_ms);
  if (slot_ && names(slot_->r, id)) {
    if (slot_->confirmed) {
      return error{errc::invalid_state, "charge " + slot_->r.charge_id + " was confirmed and is running"};
    }
    drop_reservation();
    return true;
  }
  if (const auto* d = find_decided(id); d != nullptr && d->what == outcome::confirmed) {
    return error{errc::invalid_state, "charge " + d->charge_id + " was confirmed"};
  }
  return false;
}

status charger::plug(std::int64_t now_ms) {
  if (faulty_) {
    return error{errc::broken, "the CP is broken"};
  }
  expire(now_ms);
  if (!slot_) {
    return error{errc::no_charge, "no charge is authorised on this CP"};
  }
  if (!slot_->confirmed) {
    return error{errc::no_charge, "charge " + slot_->r.charge_id + " is not confirmed by CENTRAL yet"};
  }
  if (slot_->plugged_ms != 0) {
    return error{errc::already_plugged, "a vehicle is already plugged in"};
  }
  if (now_ms - slot_->confirmed_ms > plug_timeout_ms) {
    return error{errc::no_charge, "charge " + slot_->r.charge_id + " waited too long for the plug"};
  }
  slot_->plugged_ms = now_ms;
  return ok_value;
}

result<protocol::charge_record> charger::unplug(std::int64_t now_ms) {
  if (!charging() || slot_->plugged_ms == 0) {
    return error{errc::no_charge, "no vehicle is plugged in"};
  }
  advance(now_ms);
  return finish(now_ms, end_reason::unplugged);
}

charger::tick_result charger::tick(std::int64_t now_ms) {
  tick_result out;
  out.expired = expire(now_ms);
  if (!charging()) {
    return out;
  }
  if (slot_->plugged_ms == 0) {
    const std::int64_t deadline = slot_->confirmed_ms + plug_timeout_ms;
    if (now_ms > deadline) {
      out.finished = finish(deadline, end_reason::never_plugged);
    }
    return out;
  }
  advance(now_ms);
  if (slot_->r.duration_s > 0 && slot_->supplied_s >= slot_->r.duration_s) {
    // Ticks arrive late by up to a period; the charge really ended when its
    // duration was reached.
    out.finished = finish(slot_->plugged_ms + slot_->r.duration_s * 1000, end_reason::completed);
  }
  return out;
}

std::optional<protocol::charge_record> charger::fault(std::int64_t now_ms) {
  faulty_ = true;
  return end(now_ms, end_reason::engine_fault);
}

void charger::repair() { faulty_ = false; }

std::optional<protocol::charge_record> charger::stop(std::int64_t now_ms) {
  stopped_ = true;
  return end(now_ms, end_reason::stopped);
}

void charger::resume() { stopped_ = false; }

std::optional<protocol::charge_record> charger::end(std::int64_t now_ms, end_reason reason) {
  if (!slot_) {
    return std::nullopt;
  }
  if (!slot_->confirmed) {
    drop_reservation();
    return std::nullopt;
  }
  advance(now_ms);
  return finish(now_ms, reason);
}

protocol::charge_record charger::settle_interrupted(const std::string& cp_id, double price,
                                                    const protocol::charge_view& v, std::int64_t started_ms,
                                                    std::int64_t now_ms) {
  protocol::charge_record r;
  r.cp_id = cp_id;
  r.price = price;
  r.charge_id = v.charge_id;
  r.driver_id = v.driver_id;
  // The figures last persisted are what the driver was shown; recomputing
  // them with a price configured since then would bill differently.
  r.kwh = v.kwh;
  r.amount = v.amount;
  r.start_ms = started_ms;
  r.end_ms = now_ms;
  r.reason = end_reason::engine_restarted;
  return r;
}

charger::reservation charger::pending() const { return reserved() ? slot_->r : reservation{}; }

protocol::charge_view charger::current() const {
  protocol::charge_view v;
  if (!charging()) {
    return v;
  }
  v.charge_id = slot_->r.charge_id;
  v.driver_id = slot_->r.driver_id;
  v.plugged = slot_->plugged_ms != 0;
  v.kwh = kwh_for(slot_->supplied_s);
  v.amount = amount_for(v.kwh, config_ ? config_->price : 0.0);
  v.elapsed_s = slot_->supplied_s;
  v.duration_s = slot_->r.duration_s;
  return v;
}

std::int64_t charger::current_started_ms() const {
  if (!charging()) {
    return 0;
  }
  return slot_->plugged_ms != 0 ? slot_->plugged_ms : slot_->confirmed_ms;
}

cp_state charger::state() const {
  if (faulty_) {
    return cp_state::broken;
  }
  if (stopped_) {
    return cp_state::out_of_order;
  }
  if (slot_) {
    return cp_state::busy;
  }
  return cp_state::active;
}

bool charger::names(const reservation& r, std::string_view id) const {
  return !id.empty() && (r.charge_id == id || r.request_id == id);
}

const charger::decided* charger::find_decided(std::string_view id) const {
  if (id.empty()) {
    return nullptr;
  }
  for (const auto& d : decided_) {
    if (d.charge_id == id || d.request_id == id) {
      return &d;
    }
  }
  return nullptr;
}

void charger::remember(const reservation& r, outcome what) {
  for (auto& d : decided_) {
    if (d.charge_id == r.charge_id) {
      d.what = what;
      return;
    }
  }
  decided_.push_back(decided{r.charge_id, r.request_id, what});
  while (decided_.size() > decisions_kept) {
    decided_.pop_front();
  }
}

void charger::drop_reservation() {
  remember(slot_->r, outcome::dropped);
  slot_.reset();
}

// A reservation no decision reached is dropped without a record: nothing
// was supplied, so there is nothing to bill.
std::optional<charger::reservation> charger::expire(std::int64_t now_ms) {
  if (!reserved() || now_ms - slot_->reserved_ms <= reservation_timeout_ms) {
    return std::nullopt;
  }
  auto r = slot_->r;
  drop_reservation();
  return r;
}

protocol::charge_record charger::finish(std::int64_t now_ms, end_reason reason) {
  protocol::charge_record r;
  r.cp_id = config_ ? config_->cp_id : std::string();
  r.price = config_ ? config_->price : 0.0;
  r.charge_id = slot_->r.charge_id;
  r.driver_id = slot_->r.driver_id;
  r.kwh = kwh_for(slot_->supplied_s);
  r.amount = amount_for(r.kwh, r.price);
  r.start_ms = slot_->plugged_ms != 0 ? slot_->plugged_ms : slot_->confirmed_ms;
  r.end_ms = now_ms;
  r.reason = reason;
  slot_.reset();
  return r;
}

void charger::advance(std::int64_t now_ms) {
  if (!charging() || slot_->plugged_ms == 0 || now_ms <= slot_->plugged_ms) {
    return;
  }
  std::int64_t seconds = (now_ms - slot_->plugged_ms) / 1000;
  if (slot_->r.duration_s > 0) {
    seconds = std::min(seconds, slot_->r.duration_s);
  }
  // A clock stepping backwards must never take back supplied energy.
  slot_->supplied_s = std::max(slot_->supplied_s, seconds);
}

} // namespace evnet::domain

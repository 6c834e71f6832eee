#include "evnet/domain/network.hpp"

namespace evnet::domain {

namespace {

// Charges started at the CP itself carry a pseudo driver id ("@ALC1").
bool is_local_driver(const std::string& id) { return !id.empty() && id.front() == '@'; }

error not_registered(const std::string& cp_id) {
  return error{errc::unknown_cp, "CP " + cp_id + " is not registered"};
}

} // namespace

void network::add_cp(cp_record r) {
  const std::string id = r.id;
  auto [it, inserted] = cps_.try_emplace(id);
  if (inserted || it->second.record != r) {
    it->second.record = std::move(r);
    touch(id);
  }
}

void network::add_driver(driver_record r) { drivers_.insert(std::move(r.id)); }

bool network::knows_cp(const std::string& id) const { return cps_.contains(id); }

bool network::knows_driver(const std::string& id) const { return drivers_.contains(id); }

const cp_entry* network::find(const std::string& id) const {
  const auto it = cps_.find(id);
  return it == cps_.end() ? nullptr : &it->second;
}

std::vector<std::string> network::cp_ids() const {
  std::vector<std::string> ids;
  ids.reserve(cps_.size());
  for (const auto& [id, entry] : cps_) {
    ids.push_back(id);
  }
  return ids;
}

result<cp_record> network::authenticate(const std::string& cp_id) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return not_registered(cp_id);
  }
  cp_entry& e = it->second;
  // The first Monitor keeps the CP: a second one is most likely a
  // misconfigured twin, and letting it in would split the CP's control.
  if (e.condition.monitor_ok) {
    return error{errc::already_connected, "CP " + cp_id + " already has a connected monitor"};
  }
  e.condition.monitor_ok = true;
  // Whatever the Engine did while we could not see it is unknown; assume it
  // healthy until the Monitor's first report says otherwise.
  e.condition.engine_ok = true;
  e.condition.out_of_service = false;
  touch(cp_id);
  return e.record;
}

std::optional<session> network::monitor_lost(const std::string& cp_id) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return std::nullopt;
  }
  cp_entry& e = it->second;
  std::optional<session> lost = std::move(e.charge);
  e.charge.reset();
  e.condition.charging = false;
  if (e.condition.monitor_ok || lost) {
    touch(cp_id);
  }
  e.condition.monitor_ok = false;
  return lost;
}

void network::engine_status(const std::string& cp_id, bool engine_ok, bool out_of_service) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return;
  }
  auto& c = it->second.condition;
  if (c.engine_ok != engine_ok || c.out_of_service != out_of_service) {
    c.engine_ok = engine_ok;
    c.out_of_service = out_of_service;
    touch(cp_id);
  }
}

status network::stop(const std::string& cp_id) { return order(cp_id, cp_order::stop); }

status network::resume(const std::string& cp_id) { return order(cp_id, cp_order::resume); }

status network::order(const std::string& cp_id, cp_order what) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return not_registered(cp_id);
  }
  const bool stopped = what == cp_order::stop;
  if (it->second.condition.stopped != stopped) {
    it->second.condition.stopped = stopped;
    touch(cp_id);
  }
  return ok_value;
}

status network::can_charge(const std::string& cp_id, const std::string& driver_id, std::int64_t duration_s) const {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return not_registered(cp_id);
  }
  // An empty driver registry means Central runs without driver accounts.
  if (!drivers_.empty() && !is_local_driver(driver_id) && !drivers_.contains(driver_id)) {
    return error{errc::unknown_driver, "driver " + driver_id + " is not registered"};
  }
  if (duration_s < 0 || duration_s > max_duration_s) {
    return error{errc::bad_duration, "a duration must be between 0 and " + std::to_string(max_duration_s) +
                                         " seconds, not " + std::to_string(duration_s)};
  }
  const cp_entry& e = it->second;
  switch (derive_state(e.condition)) {
  case cp_state::disconnected:
    return error{errc::disconnected, "CP " + cp_id + " is disconnected"};
  case cp_state::broken:
    return error{errc::broken, "CP " + cp_id + " is broken"};
  case cp_state::out_of_order:
    return error{errc::out_of_order, "CP " + cp_id + " is out of order"};
  case cp_state::busy:
    return error{errc::busy, "CP " + cp_id + " is busy"};
  case cp_state::active:
    break;
  }
  return ok_value;
}

void network::charge_started(const std::string& cp_id, session s) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    return;
  }
  it->second.charge = std::move(s);
  it->second.condition.charging = true;
  touch(cp_id);
}

bool network::charge_progress(const protocol::telemetry& t, bool adoptable) {
  const auto it = cps_.find(t.cp_id);
  if (it == cps_.end()) {
    return false;
  }
  if (!it->second.charge) {
    // Central restarted while this CP was charging: the Engine's reports are
    // the truth, so the charge is adopted and the CP shows BUSY again.
    if (!adoptable || !it->second.condition.monitor_ok || t.charge_id.empty()) {
      return false;
    }
    session adopted;
    adopted.charge_id = t.charge_id;
    adopted.driver_id = t.driver_id;
    it->second.charge = adopted;
    it->second.condition.charging = true;
    touch(t.cp_id);
  }
  session& s = *it->second.charge;
  // Telemetry is unacknowledged and may arrive late or twice: only the
  // newest report of the charge running now may move the figures.
  if (s.charge_id != t.charge_id || t.seq <= s.last_seq) {
    return false;
  }
  s.last_seq = t.seq;
  if (s.kwh != t.kwh || s.amount != t.amount) {
    s.kwh = t.kwh;
    s.amount = t.amount;
    touch(t.cp_id);
  }
  return true;
}

void network::charge_finished(const protocol::charge_record& r) {
  const auto it = cps_.find(r.cp_id);
  if (it == cps_.end() || !it->second.charge) {
    return;
  }
  // A late record for an earlier charge must not free the CP from a newer one.
  if (it->second.charge->charge_id != r.charge_id) {
    return;
  }
  it->second.charge.reset();
  it->second.condition.charging = false;
  touch(r.cp_id);
}

std::optional<session> network::charge_dropped(const std::string& cp_id, const std::string& charge_id) {
  const auto it = cps_.find(cp_id);
  if (it == cps_.end() || !it->second.charge || it->second.charge->charge_id != charge_id) {
    return std::nullopt;
  }
  std::optional<session> ended = std::move(it->second.charge);
  it->second.charge.reset();
  it->second.condition.charging = false;
  touch(cp_id);
  return ended;
}

protocol::cp_info network::info(const std::string& cp_id) const {
  protocol::cp_info out;
  out.cp_id = cp_id;
  const auto it = cps_.find(cp_id);
  if (it == cps_.end()) {
    out.state = cp_state::disconnected;
    return out;
  }
  const cp_entry& e = it->second;
  const cp_state state = derive_state(e.condition);
  out.location = e.record.location;
  out.price = e.record.price;
  out.state = state;
  if (state == cp_state::busy && e.charge) {
    out.driver_id = e.charge->driver_id;
    out.kwh = e.charge->kwh;
    out.amount = e.charge->amount;
  }
  return out;
}

std::vector<protocol::cp_info> network::snapshot() const {
  std::vector<protocol::cp_info> out;
  out.reserve(cps_.size());
  for (const auto& [id, entry] : cps_) {
    out.push_back(info(id));
  }
  return out;
}

std::set<std::string> network::take_changes() {
  std::set<std::string> out;
  out.swap(changed_);
  return out;
}

} // namespace evnet::domain

#include "cp_sim.hpp"

#include "evnet/domain/billing.hpp"

#include <algorithm>
#include <limits>

namespace evnet::fleet {

namespace {
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
} // namespace

cp_sim::cp_sim(std::string cp_id, const sim_context& ctx, counters& books, std::vector<supplied_charge>& supplied)
    : id_(std::move(cp_id)), ctx_(ctx), books_(books), records_(supplied) {}

// ---- links -------------------------------------------------------------------------

void cp_sim::on_up(cp_link l, std::int64_t now) {
  if (l == cp_link::monitor) {
    monitor_up_ = true;
    authenticated_ = false;
    auth_sent_at_ = now;
    to_monitor(protocol::cp_auth{id_});
    return;
  }
  engine_up_ = true;
  hello_acked_ = false;
  hello_sent_at_ = now;
  to_engine(protocol::engine_hello{id_});
  // What Central has not acknowledged goes again on the new link.
  for (auto& o : unacked_) {
    to_engine(protocol::charge_finished{o.record});
    o.next_send_at = now + record_resend;
  }
}

void cp_sim::on_down(cp_link l, std::int64_t /*now*/) {
  if (l == cp_link::monitor) {
    monitor_up_ = false;
    authenticated_ = false;
  } else {
    engine_up_ = false;
    hello_acked_ = false;
  }
}

void cp_sim::on_message(cp_link l, const protocol::message& m, std::int64_t now) {
  if (const auto* e = std::get_if<protocol::error_reply>(&m.payload)) {
    ++books_.errors;
    ++books_.error_codes[std::string(to_string(e->code))];
    if (e->code == errc::unauthenticated) {
      // Central forgot us (it restarted): introduce ourselves again.
      if (l == cp_link::monitor && monitor_up_) {
        authenticated_ = false;
        auth_sent_at_ = now;
        to_monitor(protocol::cp_auth{id_});
      } else if (l == cp_link::engine && engine_up_) {
        hello_acked_ = false;
        hello_sent_at_ = now;
        to_engine(protocol::engine_hello{id_});
      }
    }
    return;
  }
  if (l == cp_link::monitor) {
    on_monitor(m, now);
  } else {
    on_engine(m, now);
  }
}

void cp_sim::on_monitor(const protocol::message& m, std::int64_t now) {
  if (const auto* r = std::get_if<protocol::cp_auth_reply>(&m.payload)) {
    if (r->ok) {
      if (!authenticated_) {
        authenticated_at_ = now;
        next_status_at_ = now;  // the Engine's health, at once
      }
      authenticated_ = true;
      price_ = r->config.price;
    } else {
      authenticated_ = false;  // asked again after auth_retry
    }
  } else if (const auto* a = std::get_if<protocol::authorize_request>(&m.payload)) {
    on_authorize(*a, m.correlation, now);
  } else if (const auto* d = std::get_if<protocol::authorize_decision>(&m.payload)) {
    on_decision(*d, m.correlation, now);
  } else if (const auto* c = std::get_if<protocol::cp_command>(&m.payload)) {
    ++books_.commands;
    const bool stop = c->command == cp_order::stop;
    if (stop && !stopped_ && charge_) {
      finish(end_reason::stopped, now);
    }
    if (stop) {
      drop_reservation();
    }
    stopped_ = stop;
    to_monitor(protocol::ack{true, ""}, m.correlation);
  }
}

void cp_sim::on_engine(const protocol::message& m, std::int64_t now) {
  if (const auto* a = std::get_if<protocol::ack>(&m.payload)) {
    if (a->ok && !hello_acked_) {
      hello_acked_ = true;
      engine_ready_at_ = now;
    }
  } else if (const auto* r = std::get_if<protocol::record_ack>(&m.payload)) {
    const auto it = std::find_if(unacked_.begin(), unacked_.end(),
                                 [&](const owed& o) { return o.record.charge_id == r->charge_id; });
    if (it != unacked_.end()) {
      unacked_.erase(it);
      ++books_.records_acked;
    }
  }
}

// ---- the fence ------------------------------------------------------------------------

void cp_sim::reply(const reservation& r, std::uint64_t corr) {
  to_monitor(protocol::authorize_reply{true, "", r.charge_id, id_, r.request_id}, corr);
}

void cp_sim::on_authorize(const protocol::authorize_request& a, std::uint64_t corr, std::int64_t now) {
  auto no = [&](const std::string& why) {
    ++books_.cp_refusals;
    to_monitor(protocol::authorize_reply{false, why, "", id_, a.request_id}, corr);
  };
  if (reservation_ && reservation_->request_id == a.request_id) {
    return reply(*reservation_, corr);  // a repeated request: the same charge id
  }
  if (charge_ && charge_->request_id == a.request_id) {
    return to_monitor(protocol::authorize_reply{true, "", charge_->charge_id, id_, a.request_id}, corr);
  }
  if (const auto* d = decided_request(a.request_id)) {
    if (d->supplied) {
      return to_monitor(protocol::authorize_reply{true, "", d->charge_id, id_, a.request_id}, corr);
    }
    return no("reservation_expired");
  }
  if (faulty_) {
    return no("broken");
  }
  if (stopped_) {
    return no("out of order");
  }
  if (reservation_ || charge_) {
    return no("busy");
  }
  reservation r;
  r.request_id = a.request_id;
  r.driver_id = a.driver_id;
  r.charge_id = id_ + "-" + ctx_.nonce + "-" + std::to_string(++charges_made_);
  r.duration_s = a.duration_s;
  r.reserved_at = now;
  r.next_reply_at = now + reply_repeat;
  reservation_ = std::move(r);
  ++books_.reservations;
  reply(*reservation_, corr);
}

void cp_sim::on_decision(const protocol::authorize_decision& d, std::uint64_t corr, std::int64_t now) {
  auto ack = [&](bool ok, std::string why) {
    to_monitor(protocol::decision_ack{id_, d.request_id, d.charge_id, ok, std::move(why)}, corr);
  };
  if (reservation_ && reservation_->charge_id == d.charge_id) {
    if (d.confirmed) {
      charge c;
      c.request_id = reservation_->request_id;
      c.driver_id = reservation_->driver_id;
      c.charge_id = reservation_->charge_id;
      c.duration_s = reservation_->duration_s;
      c.started_at = now;
      charge_ = std::move(c);
      ++books_.charges_started;
      remember(decided{reservation_->request_id, reservation_->charge_id, true});
    } else {
      ++books_.charges_cancelled;
      remember(decided{reservation_->request_id, reservation_->charge_id, false});
    }
    reservation_.reset();
    return ack(true, "");
  }
  if (charge_ && charge_->charge_id == d.charge_id) {
    return ack(true, "");  // the decision again
  }
  const auto* known = decided_charge(d.charge_id);
  if (d.confirmed && (known == nullptr || !known->supplied)) {
    ++books_.late_confirms;
    return ack(false, "reservation_expired");
  }
  ack(true, "");
}

void cp_sim::drop_reservation() {
  if (reservation_) {
    remember(decided{reservation_->request_id, reservation_->charge_id, false});
    reservation_.reset();
  }
}

void cp_sim::remember(decided d) {
  decided_.push_back(std::move(d));
  while (decided_.size() > decisions_kept) {
    decided_.pop_front();
  }
}

const cp_sim::decided* cp_sim::decided_request(const std::string& request_id) const {
  for (auto it = decided_.rbegin(); it != decided_.rend(); ++it) {
    if (it->request_id == request_id) {
      return &*it;
    }
  }
  return nullptr;
}

const cp_sim::decided* cp_sim::decided_charge(const std::string& charge_id) const {
  for (auto it = decided_.rbegin(); it != decided_.rend(); ++it) {
    if (it->charge_id == charge_id) {
      return &*it;
    }
  }
  return nullptr;
}

// ---- supply and records -------------------------------------------------------------------

void cp_sim::finish(end_reason why, std::int64_t now) {
  if (!charge_) {
    return;
  }
  protocol::charge_record r;
  r.cp_id = id_;
  r.charge_id = charge_->charge_id;
  r.driver_id = charge_->driver_id;
  r.kwh = domain::kwh_for(charge_->supplied_s);
  r.price = price_;
  r.amount = domain::amount_for(r.kwh, price_);
  r.start_ms = (charge_->started_at + ctx_.epoch_offset_us) / 1000;
  r.end_ms = (now + ctx_.epoch_offset_us) / 1000;
  r.reason = why;
  ++books_.records;
  records_.push_back(supplied_charge{r, charge_->request_id});
  charge_.reset();
  to_engine(protocol::charge_finished{r});
  unacked_.push_back(owed{std::move(r), now + record_resend});
}

void cp_sim::fault(std::int64_t now, std::int64_t length_us) {
  ++books_.faults;
  fault_until_ = std::max(fault_until_, now + length_us);
  if (faulty_) {
    return;
  }
  faulty_ = true;
  if (charge_) {
    // Supply stops; what was supplied is billed.
    charge_->supplied_s = std::min(charge_->duration_s, (now - charge_->started_at) / second);
    finish(end_reason::engine_fault, now);
  }
  drop_reservation();
  next_status_at_ = now;  // Central hears of it at once
}

void cp_sim::send_status() {
  to_monitor(protocol::cp_status{id_, !faulty_, faulty_ ? "fault" : ""});
}

std::optional<std::int64_t> cp_sim::telemetry_sent_at(std::string_view charge_id, double kwh) const {
  if (charge_id != telemetry_charge_) {
    return std::nullopt;
  }
  for (const auto& t : telemetry_) {
    if (t.kwh == kwh) {
      return t.at;
    }
  }
  return std::nullopt;
}

// ---- time ------------------------------------------------------------------------------------

void cp_sim::on_timer(std::int64_t now) {
  if (faulty_ && now >= fault_until_) {
    faulty_ = false;
    next_status_at_ = now;
  }
  if (monitor_up_ && !authenticated_ && now - auth_sent_at_ >= auth_retry) {
    auth_sent_at_ = now;
    to_monitor(protocol::cp_auth{id_});
  }
  if (authenticated() && now >= next_status_at_) {
    send_status();
    next_status_at_ = now + status_every;
  }
  if (engine_up_ && now - hello_sent_at_ >= hello_every) {
    hello_sent_at_ = now;
    to_engine(protocol::engine_hello{id_});
  }
  if (reservation_) {
    if (now - reservation_->reserved_at >= reservation_timeout) {
      drop_reservation();  // no decision reached it: nothing supplied, no record
    } else if (now >= reservation_->next_reply_at) {
      reservation_->next_reply_at = now + reply_repeat;
      if (authenticated()) {
        reply(*reservation_);
      }
    }
  }
  if (charge_) {
    const std::int64_t supplied = std::min(charge_->duration_s, (now - charge_->started_at) / second);
    if (supplied != charge_->supplied_s) {
      charge_->supplied_s = supplied;
      if (supplied >= charge_->duration_s) {
        finish(end_reason::completed, now);
      } else {
        protocol::telemetry t;
        t.cp_id = id_;
        t.charge_id = charge_->charge_id;
        t.driver_id = charge_->driver_id;
        t.seq = ++charge_->seq;
        t.kwh = domain::kwh_for(supplied);
        t.price = price_;
        t.amount = domain::amount_for(t.kwh, price_);
        if (telemetry_charge_ != t.charge_id) {
          telemetry_charge_ = t.charge_id;
          telemetry_[0] = telemetry_[1] = sent_telemetry{};
        }
        telemetry_[t.seq % 2] = sent_telemetry{t.kwh, now};
        ++books_.telemetry;
        to_engine(std::move(t));
      }
    }
  }
  for (auto& o : unacked_) {
    if (now >= o.next_send_at) {
      o.next_send_at = now + record_resend;
      if (engine_up_) {
        ++books_.record_resends;
        to_engine(protocol::charge_finished{o.record});
      }
    }
  }
}

std::int64_t cp_sim::next_deadline() const {
  std::int64_t next = never;
  if (faulty_) {
    next = std::min(next, fault_until_);
  }
  if (monitor_up_ && !authenticated_) {
    next = std::min(next, auth_sent_at_ + auth_retry);
  }
  if (authenticated()) {
    next = std::min(next, next_status_at_);
  }
  if (engine_up_) {
    next = std::min(next, hello_sent_at_ + hello_every);
  }
  if (reservation_) {
    next = std::min({next, reservation_->next_reply_at, reservation_->reserved_at + reservation_timeout});
  }
  if (charge_) {
    next = std::min(next, charge_->started_at + (charge_->supplied_s + 1) * second);
  }
  for (const auto& o : unacked_) {
    next = std::min(next, o.next_send_at);
  }
  return next;
}

} // namespace evnet::fleet

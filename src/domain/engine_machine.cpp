#include "evnet/domain/engine_machine.hpp"

#include <variant>

namespace evnet::domain {

namespace {

const std::string no_decision_in_time = "no decision from CENTRAL in time";
const std::string cancelled_by_central = "cancelled by CENTRAL";

} // namespace

// ---- engine_machine: inputs --------------------------------------------------------------

engine_machine::engine_machine(engine_setup setup, engine_ledger& ledger, std::int64_t now)
    : setup_(std::move(setup)), ledger_(ledger), records_(ledger, out_, now) {
  out_.notify("started", {{"listen", setup_.listen_port}});
  recover(now);
  settle_state();
}

void engine_machine::on_monitor(const std::string& peer, const protocol::message& msg, std::int64_t now) {
  catch_up(now);
  const auto corr = msg.correlation;
  const bool monitors_say_this =
      msg.is<protocol::health_check>() || msg.is<protocol::engine_configure>() || msg.is<protocol::authorize_request>() ||
      msg.is<protocol::authorize_decision>() || msg.is<protocol::cp_command>();
  if (monitors_say_this) {
    // The peer that speaks as a Monitor is the one watching (a stray peer
    // saying something else does not take its place).
    monitor_peer_ = peer;
    monitor_seen_ms_ = now;
    monitors_seen_[peer] = now;
  }
  if (std::holds_alternative<protocol::health_check>(msg.payload)) {
    on_health(peer, corr);
  } else if (const auto* c = std::get_if<protocol::engine_configure>(&msg.payload)) {
    on_configure(peer, corr, c->config, now);
  } else if (const auto* req = std::get_if<protocol::authorize_request>(&msg.payload)) {
    on_authorize(peer, corr, *req, now);
  } else if (const auto* d = std::get_if<protocol::authorize_decision>(&msg.payload)) {
    on_decision(peer, corr, *d, now);
  } else if (const auto* cmd = std::get_if<protocol::cp_command>(&msg.payload)) {
    on_cp_command(peer, corr, *cmd, now);
  } else if (!msg.is<protocol::error_reply>() && !msg.is<protocol::ack>()) {
    // (An error or an ack is never answered: two peers must not argue forever.)
    to_monitor(peer, protocol::error_reply{errc::unexpected, std::string(msg.type()) + " is not for the Engine"},
               corr);
  }
  settle_state();
}

void engine_machine::on_monitor_gone(const std::string& peer, std::int64_t now) {
  catch_up(now);
  monitors_seen_.erase(peer);
  if (!peer.empty() && peer == monitor_peer_) {
    // Another peer spoke as this CP's Monitor lately (a second Monitor with
    // the same key, which Central refused; or the same Monitor reconnected):
    // the charge is still watched, by the one heard last.
    std::optional<std::pair<std::string, std::int64_t>> other;
    for (const auto& [p, seen] : monitors_seen_) {
      if (now - seen <= monitor_silence_ms && (!other || seen > other->second)) {
        other = std::make_pair(p, seen);
      }
    }
    if (other) {
      monitor_peer_ = other->first;
      monitor_seen_ms_ = other->second;
    } else {
      monitor_lost(now);
    }
  }
  settle_state();
}

void engine_machine::on_central(const protocol::message& msg, std::int64_t now) {
  catch_up(now);
  if (const auto* a = std::get_if<protocol::record_ack>(&msg.payload)) {
    records_.on_record_ack(*a);
  } else if (const auto* e = std::get_if<protocol::error_reply>(&msg.payload);
             e != nullptr && e->code == errc::unauthenticated) {
    on_central_unauthenticated(now);
  }
  // Anything else from Central (the ack of a hello, other errors) needs no action.
  settle_state();
}

void engine_machine::on_central_connected(std::int64_t now) {
  catch_up(now);
  central_known_ = true;
  out_.notify("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + setup_.central_address}});
  records_.on_connected(now);
  settle_state();
}

void engine_machine::on_central_disconnected(std::int64_t now) {
  catch_up(now);
  const bool news = records_.central_up() || !central_known_;  // once per outage, not per reconnect attempt
  records_.on_disconnected();
  central_known_ = true;
  if (news) {
    out_.notify("central", {{"status", "unreachable"},
                            {"text", "cannot reach CENTRAL at " + setup_.central_address + ", retrying"}});
  }
  settle_state();
}

void engine_machine::on_central_unauthenticated(std::int64_t now) {
  catch_up(now);
  records_.on_unauthenticated(now);
  settle_state();
}

void engine_machine::on_rejected(const std::string& detail, std::int64_t now) {
  catch_up(now);
  error_notice(errc::rejected, detail);
  settle_state();
}

void engine_machine::on_console(const result<engine_command>& parsed, std::int64_t now) {
  if (!parsed) {
    catch_up(now);
    error_notice(parsed.err().code, parsed.err().message);
    settle_state();
    return;
  }
  on_console(*parsed, now);
}

void engine_machine::on_console(engine_command cmd, std::int64_t now) {
  catch_up(now);
  switch (cmd) {
    case engine_command::none:
      break;
    case engine_command::plug:
      if (auto st = charger_.plug(now); !st) {
        error_notice(st.err().code, st.err().message);
      } else {
        out_.notify("plugged", {{"cp", cp_id()}, {"charge_id", charger_.current().charge_id}});
        save_open();
      }
      break;
    case engine_command::unplug:
      if (auto r = charger_.unplug(now); !r) {
        error_notice(r.err().code, r.err().message);
      } else {
        finish(*r);
      }
      break;
    case engine_command::fault: {
      const auto held = charger_.pending();
      const bool was_reserved = charger_.reserved();
      finish_if(charger_.fault(now));
      if (was_reserved) {
        dropped(held, to_string(end_reason::engine_fault));
      }
      out_.notify("fault", {{"cp", cp_id()}});
      break;
    }
    case engine_command::repair:
      charger_.repair();
      out_.notify("repaired", {{"cp", cp_id()}});
      break;
    case engine_command::toggle:  // ENTER in the panel
      on_console(charger_.faulty() ? engine_command::repair : engine_command::fault, now);
      return;
    case engine_command::quit:
      quit_ = true;
      break;
  }
  settle_state();
}

void engine_machine::on_tick(std::int64_t now) {
  catch_up(now);
  if (charger_.charging()) {
    const auto v = charger_.current();
    if (v.plugged && v.kwh != last_kwh_) {
      last_kwh_ = v.kwh;
      to_central(protocol::telemetry{cp_id(), v.charge_id, v.driver_id, charger_.next_telemetry_seq(), v.kwh,
                                     v.amount, charger_.config()->price});
      out_.notify("progress", {{"cp", cp_id()},
                               {"charge_id", v.charge_id},
                               {"driver", v.driver_id},
                               {"kwh", v.kwh},
                               {"amount", v.amount}});
      save_open();
    }
    if (!monitor_peer_.empty() && now - monitor_seen_ms_ > monitor_silence_ms) {
      monitor_lost(now);
    }
  }
  records_.on_tick(now);
  settle_state();
}

std::string engine_machine::sender() const {
  return charger_.configured() ? "engine:" + cp_id() : "engine-" + std::to_string(setup_.listen_port);
}

// ---- the Monitor's requests ------------------------------------------------------------

void engine_machine::on_health(const std::string& peer, std::uint64_t corr) {
  protocol::health_reply r;
  r.ok = !charger_.faulty();
  r.configured = charger_.configured();
  r.state = charger_.state();
  r.charging = charger_.charging();
  if (r.charging) {
    r.charge = charger_.current();
  }
  r.has_last = records_.last_record().has_value();
  if (records_.last_record()) {
    r.last = *records_.last_record();
  }
  to_monitor(peer, std::move(r), corr);
}

void engine_machine::on_configure(const std::string& peer, std::uint64_t corr, const protocol::cp_config& c,
                                  std::int64_t now) {
  if (!setup_.expected_cp.empty() && c.cp_id != setup_.expected_cp) {
    // The key this Engine holds is CP expected_cp's: it is that CP or none.
    const std::string why = "this Engine is CP " + setup_.expected_cp + ", not " + c.cp_id;
    to_monitor(peer, protocol::ack{false, std::string(to_string(errc::wrong_cp)) + ": " + why}, corr);
    error_notice(errc::wrong_cp, why);
    return;
  }
  const bool busy = charger_.charging() || charger_.reserved();
  if (charger_.configured() && charger_.config()->cp_id != c.cp_id && busy) {
    to_monitor(peer, protocol::ack{false, "busy serving " + cp_id()}, corr);
    return;
  }
  const bool changed = !charger_.configured() || charger_.config()->cp_id != c.cp_id ||
                       charger_.config()->price != c.price || charger_.config()->location != c.location;
  charger_.configure(c);
  to_monitor(peer, protocol::ack{true, ""}, corr);
  if (changed) {
    out_.notify("configured", {{"cp", c.cp_id}, {"location", c.location}, {"price", c.price}});
    records_.introduce(c.cp_id, now);
  }
}

void engine_machine::on_authorize(const std::string& peer, std::uint64_t corr,
                                  const protocol::authorize_request& req, std::int64_t now) {
  protocol::authorize_reply reply;
  reply.cp_id = req.cp_id;
  reply.request_id = req.request_id;
  if (!setup_.expected_cp.empty() && req.cp_id != setup_.expected_cp) {
    reply.reason = "this Engine serves " + setup_.expected_cp;
    to_monitor(peer, std::move(reply), corr);
    return;
  }
  if (charger_.configured() && req.cp_id != cp_id()) {
    reply.reason = "this Engine serves " + cp_id();
    to_monitor(peer, std::move(reply), corr);
    return;
  }
  const auto a = charger_.authorize(req.driver_id, req.duration_s, req.request_id, now);
  if (!a) {
    reply.reason = a.err().message;
    to_monitor(peer, std::move(reply), corr);
    return;
  }
  reply.ok = true;
  reply.charge_id = a->charge_id;
  to_monitor(peer, std::move(reply), corr);
  if (!a->repeated) {
    out_.notify("reserved", {{"cp", cp_id()},
                             {"charge_id", a->charge_id},
                             {"driver", req.driver_id},
                             {"duration", req.duration_s},
                             {"request_id", req.request_id}});
  }
}

void engine_machine::on_decision(const std::string& peer, std::uint64_t corr, const protocol::authorize_decision& d,
                                 std::int64_t now) {
  protocol::decision_ack ack{d.cp_id, d.request_id, d.charge_id, true, ""};
  const std::string& id = d.charge_id.empty() ? d.request_id : d.charge_id;
  if (charger_.configured() && d.cp_id != cp_id()) {
    ack.ok = false;
    ack.reason = to_string(errc::wrong_cp);
  } else if (d.confirmed) {
    const auto started = charger_.confirm(id, now);
    if (!started) {
      ack.ok = false;
      ack.reason = to_string(started.err().code);  // reservation_expired: nothing was, nothing will be supplied
    } else if (*started) {
      started_supply();
    }
  } else {
    const auto held = charger_.pending();
    const auto cancelled = charger_.cancel(id, now);
    if (!cancelled) {
      ack.ok = false;
      ack.reason = to_string(cancelled.err().code);  // invalid_state: a confirmed charge is never taken back
    } else if (*cancelled) {
      dropped(held, cancelled_by_central);
    }
  }
  to_monitor(peer, std::move(ack), corr);
}

void engine_machine::on_cp_command(const std::string& peer, std::uint64_t corr, const protocol::cp_command& c,
                                   std::int64_t now) {
  switch (c.command) {
    case cp_order::stop: {
      const auto held = charger_.pending();
      const bool was_reserved = charger_.reserved();
      finish_if(charger_.stop(now));
      if (was_reserved) {
        dropped(held, to_string(end_reason::stopped));
      }
      out_.notify("stopped", {{"cp", cp_id()}});
      break;
    }
    case cp_order::resume:
      charger_.resume();
      out_.notify("resumed", {{"cp", cp_id()}});
      break;
  }
  to_monitor(peer, protocol::ack{true, ""}, corr);
}

// ---- charges --------------------------------------------------------------------------------

// A charge that was running when this process died is settled from what the
// ledger last saw; finished ones Central never acknowledged are resent.
void engine_machine::recover(std::int64_t now) {
  if (const auto c = records_.recover()) {
    finish(charger::settle_interrupted(c->cp_id, c->price, c->view, c->started_ms, now));
  }
}

void engine_machine::catch_up(std::int64_t now) {
  auto t = charger_.tick(now);
  if (t.expired) {
    dropped(*t.expired, no_decision_in_time);
  }
  finish_if(t.finished);
}

void engine_machine::started_supply() {
  const auto v = charger_.current();
  out_.notify("authorized",
              {{"cp", cp_id()}, {"charge_id", v.charge_id}, {"driver", v.driver_id}, {"duration", v.duration_s}});
  if (v.plugged) {
    out_.notify("plugged", {{"cp", cp_id()}, {"charge_id", v.charge_id}});
  }
  last_kwh_ = -1.0;
  save_open();
}

void engine_machine::dropped(const charger::reservation& r, std::string_view why) {
  out_.notify("cancelled", {{"cp", cp_id()}, {"charge_id", r.charge_id}, {"driver", r.driver_id}, {"reason", why}});
}

void engine_machine::save_open() {
  if (!charger_.charging()) {
    return;
  }
  const open_charge c{charger_.current(), cp_id(), charger_.config()->price, charger_.current_started_ms()};
  if (auto st = ledger_.save_open(c); !st) {
    error_notice(errc::store, st.err().message);
  }
}

void engine_machine::finish(const protocol::charge_record& r) {
  last_kwh_ = -1.0;
  records_.finish(r);
}

void engine_machine::finish_if(const std::optional<protocol::charge_record>& r) {
  if (r) {
    finish(*r);
  }
}

void engine_machine::monitor_lost(std::int64_t now) {
  monitor_peer_.clear();
  if (charger_.charging()) {
    finish_if(charger_.end(now, end_reason::monitor_lost));
  }
}

// ---- small things ---------------------------------------------------------------------------

std::string engine_machine::cp_id() const { return charger_.configured() ? charger_.config()->cp_id : std::string{}; }

void engine_machine::error_notice(errc code, std::string message) {
  out_.notify("error", {{"code", code}, {"message", std::move(message)}});
}

void engine_machine::settle_state() {
  const auto s = charger_.state();
  if (s != state_shown_) {
    state_shown_ = s;
    out_.notify("state", {{"cp", cp_id()}, {"state", s}});
  }
}

} // namespace evnet::domain

#include "evnet/domain/event_fields.hpp"
#include "evnet/domain/monitor_machine.hpp"

#include <utility>

namespace evnet::domain {

namespace {

const std::string no_answer = "the Engine did not answer";


} // namespace

monitor_machine::monitor_machine(monitor_setup setup, std::int64_t now)
    : setup_(std::move(setup)), verdict_(setup_.engine_address, now) {
  out_.notify("started", {{"cp", setup_.cp_id}, {"engine", setup_.engine_address}, {"central", setup_.central_address}});
}

// ---- inputs --------------------------------------------------------------------

void monitor_machine::on_central(const protocol::message& msg, std::int64_t now) {
  const auto corr = msg.correlation;
  if (const auto* r = std::get_if<protocol::cp_auth_reply>(&msg.payload)) {
    on_auth_reply(*r, now);
  } else if (const auto* req = std::get_if<protocol::authorize_request>(&msg.payload)) {
    on_authorize_request(*req, corr, now);
  } else if (const auto* d = std::get_if<protocol::authorize_decision>(&msg.payload)) {
    on_authorize_decision(*d, corr, now);
  } else if (const auto* c = std::get_if<protocol::cp_command>(&msg.payload)) {
    on_cp_command(*c, corr, now);
  } else if (const auto* cr = std::get_if<protocol::charge_reply>(&msg.payload)) {
    on_charge_reply(*cr);
  } else if (const auto* e = std::get_if<protocol::error_reply>(&msg.payload);
             e != nullptr && e->code == errc::unauthenticated) {
    on_central_unauthenticated(now);
  }
  // Anything else from Central is not for a Monitor: ignored.
}

void monitor_machine::on_engine(const protocol::message& msg, std::int64_t now) {
  const auto corr = msg.correlation;
  if (const auto* h = std::get_if<protocol::health_reply>(&msg.payload)) {
    on_health(*h, now);
  } else if (const auto* r = std::get_if<protocol::authorize_reply>(&msg.payload)) {
    on_authorize_reply(*r, corr, now);
  } else if (const auto* a = std::get_if<protocol::decision_ack>(&msg.payload)) {
    on_decision_ack(*a, corr);
  } else if (const auto* k = std::get_if<protocol::ack>(&msg.payload)) {
    on_engine_ack(*k, corr);
  }
}

void monitor_machine::on_central_connected(std::int64_t now) {
  central_up_ = true;
  central_known_ = true;
  out_.notify("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + setup_.central_address}});
  authenticate(now);
}

void monitor_machine::on_central_disconnected(std::int64_t /*now*/) {
  authenticated_ = false;
  fail_local_request(unreachable_text());
  const bool news = central_up_ || !central_known_;  // once per outage, not per reconnect attempt
  central_up_ = false;
  central_known_ = true;
  if (news) {
    out_.notify("central", {{"status", "unreachable"}, {"text", unreachable_text() + ", retrying"}});
  }
}

void monitor_machine::on_central_unauthenticated(std::int64_t now) {
  // Central restarted or expired us: authenticate again.
  authenticated_ = false;
  authenticate(now);
}

void monitor_machine::on_engine_connected(std::int64_t now) {
  // Whatever was offered while the link was down was dropped. A check now
  // gives a (re)started Engine its verdict without waiting for the tick.
  to_engine(protocol::health_check{});
  configure_engine(now);
  for (auto& [id, a] : authorizations_) {
    if (!a.reply) {
      out_.send(std::string(engine_link), a.request, a.engine_correlation);
    }
  }
}

void monitor_machine::on_console(const result<monitor_command>& cmd, std::int64_t now) {
  if (!cmd) {
    if (cmd.err().code == errc::bad_duration) {
      local_charge_refused(cmd.err().message);  // as the person at the CP always got it
    } else {
      out_.notify("error", {{"code", to_string(cmd.err().code)}, {"message", cmd.err().message}});
    }
    return;
  }
  switch (cmd->verb) {
  case monitor_verb::none:
    break;
  case monitor_verb::quit:
    quit_ = true;
    break;
  case monitor_verb::charge:
    start_local_charge(cmd->duration_s, now);
    break;
  }
}

void monitor_machine::on_tick(std::int64_t now) {
  to_engine(protocol::health_check{});
  if (auto r = verdict_.evaluate(now)) {
    report_engine(*r);
  }
  send_status();  // every second, and so also a change seen just now
  if (central_up_ && !authenticated_ && now - last_auth_ms_ >= auth_retry_ms) {
    authenticate(now);
  }
  if (local_request_ && now >= local_request_->deadline_ms) {
    fail_local_request(unreachable_text() + " (no answer)");
  }
  for (auto it = authorizations_.begin(); it != authorizations_.end();) {
    auto& a = it->second;
    if (!a.reply) {
      if (now - a.received_ms >= engine_answer_ms) {
        answer(a, refusal(a.request, no_answer), now);
      }
      ++it;
    } else if (now >= a.repeat_until_ms) {
      it = authorizations_.erase(it);
    } else {
      if (now >= a.next_send_ms) {
        send_reply(a, now);
      }
      ++it;
    }
  }
  for (auto it = engine_waits_.begin(); it != engine_waits_.end();) {
    if (now < it->second.deadline_ms) {
      ++it;
      continue;
    }
    const auto& w = it->second;
    if (w.what == awaiting::command_ack) {
      to_central(protocol::ack{false, no_answer}, w.central_correlation);
      out_.notify("command", {{"command", to_string(w.order)}, {"ok", false}, {"reason", no_answer}});
    }
    // An unanswered configuration is sent again when needed (the Engine says
    // it is not configured); an unanswered decision is resent by Central.
    it = engine_waits_.erase(it);
  }
}

// ---- Central ---------------------------------------------------------------------

void monitor_machine::authenticate(std::int64_t now) {
  last_auth_ms_ = now;
  to_central(protocol::cp_auth{setup_.cp_id, setup_.ocpp_password}, ++correlation_);
}

void monitor_machine::on_auth_reply(const protocol::cp_auth_reply& r, std::int64_t now) {
  const bool was = authenticated_;  // false again after an outage or an "unauthenticated"
  authenticated_ = r.ok;
  if (r.ok) {
    config_ = r.config;
    configure_engine(now);
    send_status();
    // Replies offered while we were not authenticated were dropped or refused.
    for (auto& [id, a] : authorizations_) {
      if (a.reply) {
        send_reply(a, now);
      }
    }
  }
  // One event per change: a retry denied for the same reason is not news,
  // a session authenticated again after an outage is.
  if (!auth_reason_shown_ || r.ok != was || *auth_reason_shown_ != r.reason) {
    auth_reason_shown_ = r.reason;
    json::object fields{{"ok", r.ok},          {"reason", r.reason},
                        {"cp", setup_.cp_id}, {"location", r.config.location},
                        {"price", r.config.price}};
    if (!r.ok) {
      fields["code"] = std::string(to_string(r.code));
    }
    out_.notify("auth", std::move(fields));
  }
}

void monitor_machine::send_status() {
  if (authenticated_ && verdict_.known()) {
    to_central(protocol::cp_status{setup_.cp_id, verdict_.ok(), verdict_.detail(), out_of_service_}, 0);
  }
}

void monitor_machine::on_charge_reply(const protocol::charge_reply& r) {
  if (!local_request_ || r.request_id != local_request_->request_id) {
    return;  // an answer to a request given up already
  }
  local_request_.reset();
  out_.notify("local_charge", {{"ok", r.ok}, {"reason", r.reason}, {"charge_id", r.charge_id}});
}

// ---- the fence ---------------------------------------------------------------------

protocol::authorize_reply monitor_machine::refusal(const protocol::authorize_request& req, std::string reason) const {
  return protocol::authorize_reply{false, std::move(reason), "", setup_.cp_id, req.request_id};
}

void monitor_machine::on_authorize_request(const protocol::authorize_request& req, std::uint64_t corr,
                                           std::int64_t now) {
  if (auto it = authorizations_.find(req.request_id); it != authorizations_.end()) {
    // Asked again: the same answer, or the same question to the Engine
    // (which answers a repeated request_id with the same reservation).
    auto& a = it->second;
    a.central_correlation = corr;
    if (a.reply) {
      send_reply(a, now);
    } else {
      configure_engine(now);
      out_.send(std::string(engine_link), a.request, a.engine_correlation);
    }
    return;
  }
  authorization a;
  a.request = req;
  a.central_correlation = corr;
  a.received_ms = now;
  if (verdict_.ko()) {
    // Refuse only on a verdict: just after start-up there is none yet, and
    // the Engine can answer for itself; if it does not, the relay times out.
    auto& kept = authorizations_.emplace(req.request_id, std::move(a)).first->second;
    answer(kept, refusal(req, "the Engine is not available: " + verdict_.detail()), now);
    return;
  }
  // An Engine restarted within the last health check does not know its CP
  // yet and would refuse: its configuration goes first on the same link, so
  // it arrives first (the Engine ignores a repeat).
  configure_engine(now);
  a.engine_correlation = to_engine(req);
  authorizations_.emplace(req.request_id, std::move(a));
}

void monitor_machine::on_authorize_reply(const protocol::authorize_reply& r, std::uint64_t corr, std::int64_t now) {
  auto it = authorizations_.find(r.request_id);
  if (it == authorizations_.end()) {
    // An Engine that omits the request id is matched on the correlation.
    for (auto j = authorizations_.begin(); j != authorizations_.end(); ++j) {
      if (r.request_id.empty() && j->second.engine_correlation == corr) {
        it = j;
        break;
      }
    }
  }
  if (it == authorizations_.end()) {
    if (r.request_id.empty()) {
      return;  // nothing to match it with
    }
    // Late (after our "did not answer") or after the decision: Central must
    // hear it all the same, to cancel or confirm what the Engine reserved;
    // its decision is idempotent.
    authorization a;
    a.request.cp_id = setup_.cp_id;
    a.request.request_id = r.request_id;
    a.received_ms = now;
    it = authorizations_.emplace(r.request_id, std::move(a)).first;
  }
  auto reply = r;
  reply.request_id = it->first;
  if (reply.cp_id.empty()) {
    reply.cp_id = setup_.cp_id;
  }
  answer(it->second, std::move(reply), now);
}

void monitor_machine::answer(authorization& a, protocol::authorize_reply reply, std::int64_t now) {
  // A yes reserved the CP until Central's decision or the reservation time;
  // a no reserved nothing and matters only while Central may still wait.
  a.repeat_until_ms = now + (reply.ok ? reservation_ms : refusal_repeat_ms);
  a.reply = std::move(reply);
  a.next_send_ms = now;
  send_reply(a, now);
}

void monitor_machine::send_reply(authorization& a, std::int64_t now) {
  if (!authenticated_) {
    return;  // sent once authenticated again: a frame offered now would be dropped
  }
  to_central(*a.reply, a.central_correlation);
  a.next_send_ms = now + reply_repeat_ms;
}

void monitor_machine::on_authorize_decision(const protocol::authorize_decision& d, std::uint64_t corr,
                                            std::int64_t now) {
  authorizations_.erase(d.request_id);  // the reply arrived: stop repeating it
  const auto engine_corr = to_engine(d);
  engine_waits_[engine_corr] = engine_wait{awaiting::decision_ack, cp_order::stop, corr, now + engine_answer_ms};
}

void monitor_machine::on_decision_ack(const protocol::decision_ack& a, std::uint64_t corr) {
  // The ack names its request and charge: it goes to Central even when its
  // correlation is unknown (Central resent the decision meanwhile).
  std::uint64_t central_corr = 0;
  if (auto it = engine_waits_.find(corr); it != engine_waits_.end() && it->second.what == awaiting::decision_ack) {
    central_corr = it->second.central_correlation;
    engine_waits_.erase(it);
  }
  to_central(a, central_corr);
}

// ---- commands and configuration ------------------------------------------------------

void monitor_machine::on_cp_command(const protocol::cp_command& c, std::uint64_t corr, std::int64_t now) {
  // Central resends a command until it is acknowledged (same correlation):
  // only the latest relay is waited for, so a copy the Engine never got
  // (its link was not up yet) is not reported as unanswered after the
  // command itself was acknowledged.
  forget_command(corr);
  const auto engine_corr = to_engine(c);
  engine_waits_[engine_corr] = engine_wait{awaiting::command_ack, c.command, corr, now + engine_answer_ms};
}

void monitor_machine::forget_command(std::uint64_t central_correlation) {
  std::erase_if(engine_waits_, [&](const auto& kv) {
    return kv.second.what == awaiting::command_ack && kv.second.central_correlation == central_correlation;
  });
}

void monitor_machine::configure_engine(std::int64_t now) {
  if (!config_) {
    return;  // not authenticated yet: nothing to pass on
  }
  const auto corr = to_engine(protocol::engine_configure{*config_});
  engine_waits_[corr] = engine_wait{awaiting::configure_ack, cp_order::stop, 0, now + engine_answer_ms};
}

void monitor_machine::on_engine_ack(const protocol::ack& a, std::uint64_t corr) {
  auto it = engine_waits_.find(corr);
  if (it == engine_waits_.end()) {
    return;  // late: already answered for the Engine, or never asked
  }
  const auto w = it->second;
  engine_waits_.erase(it);
  switch (w.what) {
  case awaiting::command_ack:
    forget_command(w.central_correlation);  // the earlier copies of the same command
    to_central(a, w.central_correlation);
    out_.notify("command", {{"command", to_string(w.order)}, {"ok", a.ok}, {"reason", a.reason}});
    break;
  case awaiting::configure_ack:
    if (!a.ok) {
      out_.notify("error", {{"code", to_string(errc::engine)},
                            {"message", "the Engine refused its configuration: " + a.reason}});
    }
    break;
  case awaiting::decision_ack:
    break;  // answered with decision_ack, not ack
  }
}

// ---- the Engine's health ----------------------------------------------------------------

void monitor_machine::on_health(const protocol::health_reply& h, std::int64_t now) {
  if (!h.configured) {
    configure_engine(now);  // the Engine restarted
  }
  if (h.charging) {
    const auto& c = h.charge;
    out_.notify("charge", {{"cp", setup_.cp_id}, {"charge_id", c.charge_id}, {"driver", c.driver_id}, {"kwh", c.kwh},
                           {"amount", c.amount}, {"elapsed_s", c.elapsed_s}, {"duration_s", c.duration_s},
                           {"plugged", c.plugged}});
  }
  if (h.has_last && h.last.charge_id != last_ticket_) {
    last_ticket_ = h.last.charge_id;
    out_.notify("ticket", ticket_fields(h.last));
  }
  const auto r = verdict_.answered(h.ok, h.state, now);
  report_engine(r);
  const bool service_changed = std::exchange(out_of_service_, h.out_of_service) != h.out_of_service;
  if (r.changed || service_changed) {
    send_status();  // a change is told to Central at once
  }
}

void monitor_machine::report_engine(const engine_report& r) {
  out_.notify("engine", {{"ok", r.ok}, {"detail", r.detail}, {"state", r.state ? to_string(*r.state) : std::string_view{}}});
}

// ---- the local charge ---------------------------------------------------------------------

std::string monitor_machine::unreachable_text() const { return "cannot reach CENTRAL at " + setup_.central_address; }

void monitor_machine::start_local_charge(std::int64_t duration_s, std::int64_t now) {
  request_local(std::string("@") + setup_.cp_id, duration_s, now);
}

void monitor_machine::request_charge_for(const std::string& driver_id, std::int64_t duration_s, std::int64_t now) {
  request_local(driver_id, duration_s, now);
}

void monitor_machine::request_local(const std::string& driver_id, std::int64_t duration_s, std::int64_t now) {
  if (!authenticated_) {
    // After an outage was noticed, say so in the words a driver gets.
    local_charge_refused(central_known_ && !central_up_ ? unreachable_text()
                                                        : "not authenticated with CENTRAL at " + setup_.central_address);
    return;
  }
  if (local_request_) {
    local_charge_refused("a local charge request is already waiting for CENTRAL");
    return;
  }
  const auto corr = ++correlation_;
  local_request l;
  l.request_id = setup_.cp_id + "-local-" + std::to_string(now) + "-" + std::to_string(corr);
  l.deadline_ms = now + local_request_timeout_ms;
  to_central(protocol::charge_request{driver_id, setup_.cp_id, duration_s, l.request_id}, corr);
  local_request_ = std::move(l);
}

void monitor_machine::local_charge_refused(std::string reason) {
  out_.notify("local_charge", {{"ok", false}, {"reason", std::move(reason)}, {"charge_id", ""}});
}

// A local charge whose request Central will never answer is refused here, so
// the person at the CP gets an answer, not silence.
void monitor_machine::fail_local_request(std::string reason) {
  if (!local_request_) {
    return;
  }
  local_request_.reset();
  local_charge_refused(std::move(reason));
}

} // namespace evnet::domain

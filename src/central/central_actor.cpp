#include "central_actor.hpp"

#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/json_views.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/runtime/view.hpp"
#include "operator_command.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <sstream>

namespace evnet::central {

namespace {

using namespace std::chrono_literals;
using runtime::make_event;

constexpr auto tick_period = 1s;
// How long a CP has to answer an authorisation before the driver is told no.
constexpr std::int64_t authorize_timeout_ms = 5000;
// Answers remembered per request id, so that a retry gets the same answer.
constexpr std::size_t remembered_answers = 20000;

enum class role_kind { monitor, engine, driver };

struct peer_role {
  role_kind kind;
  std::string id;  // cp id or driver id
};

struct pending_authorization {
  std::string requester;    // peer that asked (driver or monitor)
  std::uint64_t request_correlation = 0;
  protocol::charge_request request;
  std::int64_t deadline_ms = 0;
};

struct pending_command {
  std::string cp_id;
  std::string command;
  std::int64_t deadline_ms = 0;
};

std::string ticket_key(const std::string& cp, const std::string& charge) { return cp + "/" + charge; }

class central_actor : public caf::event_based_actor {
public:
  central_actor(caf::actor_config& cfg, central_links links, central_settings settings,
                std::unique_ptr<store::central_store> db, domain::network model, caf::actor view)
      : caf::event_based_actor(cfg),
        links_(links),
        settings_(std::move(settings)),
        db_(std::move(db)),
        model_(std::move(model)),
        view_(std::move(view)),
        // The stream's sequence starts at the wall clock so that a restarted
        // Central continues above anything subscribers saw before: they see
        // a gap and ask for a snapshot (Clone pattern) instead of ignoring us.
        seq_(static_cast<std::uint64_t>(runtime::now_ms()) * 1000) {}

  caf::behavior make_behavior() override {
    send(this, runtime::tick_atom::value);
    announce_start();
    return {
      [this](transport::inbound& in) {
        on_inbound(in);
        flush_changes();
      },
      [this](transport::link_event& ev) {
        on_link_event(ev);
        flush_changes();
      },
      [this](runtime::command_atom, const std::string& line) {
        on_operator(line);
        flush_changes();
      },
      [this](runtime::tick_atom) {
        on_tick();
        flush_changes();
        delayed_send(this, tick_period, runtime::tick_atom::value);
      },
      [this](runtime::quit_atom) {
        emit("message", {{"text", "CENTRAL shutting down"}});
        send(view_, runtime::quit_atom::value);
        quit();
      },
    };
  }

private:
  // ---- outputs ------------------------------------------------------------

  void emit(std::string name, json::object fields = {}) { send(view_, runtime::event_atom::value, make_event(std::move(name), std::move(fields))); }

  void message(const std::string& text) {
    emit("message", {{"text", text}});
    log_event("message", text);
  }

  void log_event(const std::string& kind, const std::string& text) {
    if (auto st = db_->log_event(kind, text); !st) {
      runtime::log_line("central", "event log: " + st.err().message);
    }
  }

  template <class T>
  void reply(const std::string& peer, T body, std::uint64_t correlation) {
    links_.net->send(links_.router, peer, protocol::make("central", std::move(body), correlation));
  }

  template <class T>
  std::uint64_t request(const std::string& peer, T body) {
    std::uint64_t corr = ++correlation_;
    links_.net->send(links_.router, peer, protocol::make("central", std::move(body), corr));
    return corr;
  }

  void announce_start() {
    auto cps = model_.snapshot();
    emit("started", {{"port", settings_.port}, {"pub_port", settings_.port + 1}, {"db", settings_.db_path},
                     {"cps", cps.size()}});
    emit_cps();
    for (const auto& cp : cps) {
      last_state_[cp.cp_id] = cp.state;
    }
    message("CENTRAL system status OK");
  }

  void emit_cps() {
    json::array rows;
    for (const auto& cp : model_.snapshot()) {
      rows.push_back(runtime::cp_json(cp));
    }
    emit("cps", {{"cps", std::move(rows)}});
  }

  // Publishes every CP whose visible info changed (one stream message each)
  // and tells the view about state changes.
  void flush_changes() {
    for (const auto& id : model_.take_changes()) {
      auto info = model_.info(id);
      links_.net->publish(links_.publisher, "cp", protocol::make("central", protocol::cp_update{++seq_, info}));
      auto& last = last_state_[id];
      if (last != info.state) {
        last = info.state;
        emit("cp_state", runtime::cp_fields(info));
        log_event("cp_state", id + " " + info.state);
      }
    }
  }

  // ---- network input --------------------------------------------------------

  void on_inbound(transport::inbound& in) {
    const auto& peer = in.peer;
    const auto corr = in.msg.correlation;
    std::visit(
        [&](auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, protocol::cp_auth>) {
            on_cp_auth(peer, corr, body);
          } else if constexpr (std::is_same_v<T, protocol::engine_hello>) {
            on_engine_hello(peer, corr, body);
          } else if constexpr (std::is_same_v<T, protocol::driver_hello>) {
            on_driver_hello(peer, corr, body);
          } else if constexpr (std::is_same_v<T, protocol::snapshot_request>) {
            reply(peer, protocol::snapshot{seq_, model_.snapshot()}, corr);
          } else if constexpr (std::is_same_v<T, protocol::error_reply>) {
            runtime::log_line("central", "peer " + peer + " reported error " + body.code + ": " + body.detail);
          } else {
            on_authenticated(peer, corr, body);
          }
        },
        in.msg.payload);
  }

  // Messages only a known peer may send; an unknown peer (e.g. one that was
  // connected before Central restarted) is asked to authenticate again.
  template <class T>
  void on_authenticated(const std::string& peer, std::uint64_t corr, T& body) {
    auto it = roles_.find(peer);
    if (it == roles_.end()) {
      reply(peer, protocol::error_reply{"unauthenticated", "authenticate first (hello or cp_auth)"}, corr);
      return;
    }
    const peer_role role = it->second;
    if constexpr (std::is_same_v<T, protocol::cp_status>) {
      if (role.kind == role_kind::monitor && role.id == body.cp_id) {
        on_cp_status(role.id, body);
        return;
      }
    } else if constexpr (std::is_same_v<T, protocol::authorize_reply>) {
      if (role.kind == role_kind::monitor) {
        on_authorize_reply(corr, body);
        return;
      }
    } else if constexpr (std::is_same_v<T, protocol::ack>) {
      on_ack(corr, body);
      return;
    } else if constexpr (std::is_same_v<T, protocol::charge_request>) {
      on_charge_request(peer, corr, role, body);
      return;
    } else if constexpr (std::is_same_v<T, protocol::telemetry>) {
      if (role.kind == role_kind::engine && role.id == body.cp_id) {
        on_telemetry(body);
        return;
      }
    } else if constexpr (std::is_same_v<T, protocol::charge_finished>) {
      // Only the CP's own Engine may report its charges: anyone else could
      // bill a driver for energy never supplied. An Engine Central does not
      // know yet is asked to say hello first and resends the record.
      if (role.kind == role_kind::engine && role.id == body.record.cp_id) {
        on_charge_finished(peer, corr, body.record);
        return;
      }
    } else if constexpr (std::is_same_v<T, protocol::ticket_ack>) {
      if (role.kind == role_kind::driver) {
        on_ticket_ack(role.id, body);
        return;
      }
    }
    reply(peer, protocol::error_reply{"unexpected", std::string("CENTRAL does not accept ") + std::string(T::name) +
                                                        " from this peer"},
          corr);
  }

  void on_cp_auth(const std::string& peer, std::uint64_t corr, const protocol::cp_auth& auth) {
    // A Monitor re-authenticating on the same link keeps its session.
    if (auto it = roles_.find(peer); it != roles_.end() && it->second.kind == role_kind::monitor &&
                                     it->second.id == auth.cp_id) {
      reply(peer, auth_reply_for(auth.cp_id), corr);
      return;
    }
    auto record = model_.authenticate(auth.cp_id);
    if (!record) {
      reply(peer, protocol::cp_auth_reply{false, record.err().message, {}}, corr);
      emit("auth", {{"cp", auth.cp_id}, {"ok", false}, {"reason", record.err().message}});
      message("authentication denied for " + auth.cp_id + ": " + record.err().message);
      return;
    }
    forget_peer(peer);
    roles_[peer] = peer_role{role_kind::monitor, auth.cp_id};
    monitor_of_[auth.cp_id] = peer;
    reply(peer, auth_reply_for(auth.cp_id), corr);
    emit("auth", {{"cp", auth.cp_id}, {"ok", true}, {"reason", ""}});
    message("authentication accepted for " + auth.cp_id);
    // Bring the CP in line with the operator's last word, including a STOP
    // given while it was away.
    const auto* entry = model_.find(auth.cp_id);
    send_command(auth.cp_id, entry->condition.stopped ? "stop" : "resume", /*announce=*/false);
  }

  protocol::cp_auth_reply auth_reply_for(const std::string& cp_id) const {
    const auto* entry = model_.find(cp_id);
    return protocol::cp_auth_reply{true, "", {entry->record.id, entry->record.location, entry->record.price}};
  }

  void on_engine_hello(const std::string& peer, std::uint64_t corr, const protocol::engine_hello& hello) {
    if (!model_.knows_cp(hello.cp_id)) {
      reply(peer, protocol::ack{false, "CP " + hello.cp_id + " is not registered"}, corr);
      return;
    }
    bool is_new = engine_of_[hello.cp_id] != peer;
    forget_peer(peer);
    roles_[peer] = peer_role{role_kind::engine, hello.cp_id};
    engine_of_[hello.cp_id] = peer;
    reply(peer, protocol::ack{true, ""}, corr);
    if (is_new) {
      emit("engine", {{"cp", hello.cp_id}, {"status", "connected"}});
      // A restarted Engine has forgotten a STOP (it keeps it in memory
      // only): tell it again through its Monitor.
      if (model_.find(hello.cp_id)->condition.stopped) {
        send_command(hello.cp_id, "stop", /*announce=*/false);
      }
    }
  }

  void on_driver_hello(const std::string& peer, std::uint64_t corr, const protocol::driver_hello& hello) {
    if (!model_.knows_driver(hello.driver_id)) {
      reply(peer, protocol::ack{false, "driver " + hello.driver_id + " is not registered"}, corr);
      return;
    }
    bool is_new = driver_peer_[hello.driver_id] != peer;
    forget_peer(peer);
    roles_[peer] = peer_role{role_kind::driver, hello.driver_id};
    driver_peer_[hello.driver_id] = peer;
    reply(peer, protocol::ack{true, ""}, corr);
    if (is_new) {
      deliver_owed_tickets(hello.driver_id);
    }
  }

  void forget_peer(const std::string& peer) {
    auto it = roles_.find(peer);
    if (it == roles_.end()) {
      return;
    }
    const auto role = it->second;
    roles_.erase(it);
    if (role.kind == role_kind::monitor && monitor_of_[role.id] == peer) {
      monitor_of_.erase(role.id);
      monitor_lost(role.id);
    } else if (role.kind == role_kind::engine && engine_of_[role.id] == peer) {
      engine_of_.erase(role.id);
    } else if (role.kind == role_kind::driver && driver_peer_[role.id] == peer) {
      driver_peer_.erase(role.id);
    }
  }

  void monitor_lost(const std::string& cp_id) {
    auto running = model_.monitor_lost(cp_id);
    message(cp_id + " disconnected (no sign of life from its monitor)");
    if (running) {
      // The Engine ends the charge itself when its Monitor goes silent and
      // reports the final figures; the ticket follows from that report.
      interrupt(cp_id, *running, "CP " + cp_id + " disconnected");
    }
  }

  void on_cp_status(const std::string& cp_id, const protocol::cp_status& status) {
    const auto* entry = model_.find(cp_id);
    bool was_ok = entry->condition.engine_ok;
    model_.engine_status(cp_id, status.engine_ok);
    if (was_ok && !status.engine_ok) {
      emit("fault", {{"cp", cp_id}, {"detail", status.detail}});
      message(cp_id + " reported a fault: " + status.detail);
      if (entry->charge && !interrupted_.count(entry->charge->charge_id)) {
        interrupt(cp_id, *entry->charge, "CP " + cp_id + " reported a fault: " + status.detail);
      }
    } else if (!was_ok && status.engine_ok) {
      emit("recovered", {{"cp", cp_id}, {"detail", status.detail}});
      message(cp_id + " recovered");
    }
  }

  void interrupt(const std::string& cp_id, const domain::session& s, const std::string& reason) {
    interrupted_.insert(s.charge_id);
    emit("interrupted", {{"cp", cp_id}, {"charge_id", s.charge_id}, {"driver", s.driver_id}, {"kwh", s.kwh},
                         {"amount", s.amount}, {"reason", reason}});
    if (auto peer = driver_peer_.find(s.driver_id); peer != driver_peer_.end()) {
      reply(peer->second, protocol::charge_interrupted{cp_id, s.charge_id, s.kwh, s.amount, reason}, 0);
    }
  }

  // ---- charges ----------------------------------------------------------------

  void on_charge_request(const std::string& peer, std::uint64_t corr, const peer_role& role,
                         const protocol::charge_request& req) {
    // A Monitor may only start charges at its own CP, under its CP's name.
    const bool local = role.kind == role_kind::monitor;
    if ((local && (req.cp_id != role.id || req.driver_id != "@" + role.id)) ||
        (!local && (role.kind != role_kind::driver || req.driver_id != role.id))) {
      reply(peer, protocol::charge_reply{false, "not allowed to request this charge", req.cp_id, "", req.request_id},
            corr);
      return;
    }
    const std::string key = req.driver_id + "/" + req.request_id;
    if (auto it = answers_.find(key); it != answers_.end()) {
      reply(peer, it->second, corr);  // a retry: same answer, no second charge
      return;
    }
    if (in_flight_.count(key)) {
      return;  // still waiting for the CP; the answer goes to the retry's peer too
    }
    emit("request", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"duration", req.duration_s},
                     {"request_id", req.request_id}});
    if (auto ok = model_.can_charge(req.cp_id, req.driver_id, req.duration_s); !ok) {
      answer(peer, corr, req, protocol::charge_reply{false, ok.err().message, req.cp_id, "", req.request_id});
      return;
    }
    const auto& monitor = monitor_of_.at(req.cp_id);
    auto auth_corr = request(monitor, protocol::authorize_request{req.cp_id, req.driver_id, req.duration_s,
                                                                  req.request_id});
    in_flight_.insert(key);
    pending_auth_[auth_corr] = pending_authorization{peer, corr, req, runtime::now_ms() + authorize_timeout_ms};
  }

  void answer(const std::string& peer, std::uint64_t corr, const protocol::charge_request& req,
              protocol::charge_reply r) {
    const std::string key = req.driver_id + "/" + req.request_id;
    in_flight_.erase(key);
    if (r.ok) {
      emit("authorized", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"charge_id", r.charge_id}});
      message("charge authorized: " + req.driver_id + " at " + req.cp_id);
    } else {
      emit("denied", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"reason", r.reason}});
      message("charge denied: " + req.driver_id + " at " + req.cp_id + ": " + r.reason);
    }
    if (answers_.size() >= remembered_answers) {
      answers_.erase(answer_order_.front());
      answer_order_.pop_front();
    }
    answers_[key] = r;
    answer_order_.push_back(key);
    reply(peer, std::move(r), corr);
  }

  void on_authorize_reply(std::uint64_t corr, const protocol::authorize_reply& r) {
    auto it = pending_auth_.find(corr);
    if (it == pending_auth_.end()) {
      return;  // late answer after our timeout; the Engine drops an unplugged authorisation itself
    }
    auto pending = std::move(it->second);
    pending_auth_.erase(it);
    const auto& req = pending.request;
    if (r.ok) {
      domain::session s;
      s.charge_id = r.charge_id;
      s.driver_id = req.driver_id;
      s.duration_s = req.duration_s;
      s.started_ms = runtime::now_ms();
      model_.charge_started(req.cp_id, s);
      log_event("authorized", req.driver_id + " at " + req.cp_id + " charge " + r.charge_id);
    }
    std::string reason = r.ok ? "" : "CP " + req.cp_id + " refused: " + r.reason;
    answer(pending.requester, pending.request_correlation, req,
           protocol::charge_reply{r.ok, reason, req.cp_id, r.charge_id, req.request_id});
  }

  void on_telemetry(const protocol::telemetry& t) {
    if (!model_.charge_progress(t)) {
      return;
    }
    emit("telemetry", {{"cp", t.cp_id}, {"charge_id", t.charge_id}, {"driver", t.driver_id}, {"kwh", t.kwh},
                       {"amount", t.amount}});
    if (auto peer = driver_peer_.find(t.driver_id); peer != driver_peer_.end()) {
      reply(peer->second, protocol::progress{t.cp_id, t.charge_id, t.kwh, t.amount}, 0);
    }
  }

  void on_charge_finished(const std::string& peer, std::uint64_t corr, const protocol::charge_record& r) {
    if (!model_.knows_cp(r.cp_id)) {
      reply(peer, protocol::error_reply{"unknown_cp", "CP " + r.cp_id + " is not registered"}, corr);
      return;
    }
    auto stored = db_->record_charge(r);
    if (!stored) {
      // Not acknowledged: the Engine keeps the record and sends it again.
      runtime::log_line("central", "cannot store charge " + r.charge_id + ": " + stored.err().message);
      emit("error", {{"code", "store"}, {"message", stored.err().message}});
      return;
    }
    model_.charge_finished(r);
    reply(peer, protocol::record_ack{r.cp_id, r.charge_id}, corr);
    if (!*stored) {
      return;  // already ticketed: a retry never bills twice
    }
    interrupted_.erase(r.charge_id);
    emit("ticket", runtime::ticket_fields(r));
    char figures[64];
    std::snprintf(figures, sizeof figures, "%.0f kWh, %.2f EUR", r.kwh, r.amount);
    message("ticket " + r.cp_id + " " + r.driver_id + ": " + figures + " (" + r.reason + ")");
    if (!r.driver_id.empty() && r.driver_id.front() != '@') {
      owed_[ticket_key(r.cp_id, r.charge_id)] = r;
      send_ticket(r);
    }
  }

  void send_ticket(const protocol::charge_record& r) {
    if (auto peer = driver_peer_.find(r.driver_id); peer != driver_peer_.end()) {
      reply(peer->second, protocol::ticket{r}, 0);
    }
  }

  void deliver_owed_tickets(const std::string& driver_id) {
    auto owed = db_->undelivered_tickets(driver_id);
    if (!owed) {
      runtime::log_line("central", "cannot read tickets: " + owed.err().message);
      return;
    }
    for (const auto& r : *owed) {
      owed_[ticket_key(r.cp_id, r.charge_id)] = r;
      send_ticket(r);
    }
  }

  void on_ticket_ack(const std::string& driver_id, const protocol::ticket_ack& a) {
    // Only the driver a ticket was sent to may settle it.
    auto owed = owed_.find(ticket_key(a.cp_id, a.charge_id));
    if (owed == owed_.end() || owed->second.driver_id != driver_id) {
      return;
    }
    if (auto st = db_->mark_delivered(a.cp_id, a.charge_id); !st) {
      runtime::log_line("central", "cannot mark ticket delivered: " + st.err().message);
      return;
    }
    owed_.erase(owed);
  }

  void on_ack(std::uint64_t corr, const protocol::ack& a) {
    auto it = pending_cmd_.find(corr);
    if (it == pending_cmd_.end()) {
      return;
    }
    auto cmd = std::move(it->second);
    pending_cmd_.erase(it);
    emit("command", {{"command", cmd.command}, {"cp", cmd.cp_id}, {"ok", a.ok}, {"reason", a.reason}});
    message(cmd.cp_id + (cmd.command == "stop" ? " out of order" : " resumed") +
            (a.ok ? std::string{} : " (CP answered: " + a.reason + ")"));
  }

  // ---- link events ------------------------------------------------------------

  void on_link_event(const transport::link_event& ev) {
    switch (ev.kind) {
      case transport::event_kind::peer_gone:
        forget_peer(ev.peer);
        break;
      case transport::event_kind::rejected:
        emit("error", {{"code", "rejected"}, {"message", "from " + ev.peer + ": " + ev.detail}});
        runtime::log_line("central", "rejected frame from " + ev.peer + ": " + ev.detail);
        break;
      case transport::event_kind::send_failed:
        runtime::log_line("central", "send to " + ev.peer + " failed: " + ev.detail);
        break;
      default:
        break;
    }
  }

  void on_tick() {
    const auto now = runtime::now_ms();
    // An unacknowledged STOP/RESUME still holds in the model (and is sent
    // again when the CP re-authenticates); the operator is told it is pending.
    for (auto it = pending_cmd_.begin(); it != pending_cmd_.end();) {
      if (it->second.deadline_ms <= now) {
        emit("command", {{"command", it->second.command}, {"cp", it->second.cp_id}, {"ok", false},
                         {"reason", "the CP did not acknowledge; applied when it reconnects"}});
        message(it->second.cp_id + " did not acknowledge " + it->second.command);
        it = pending_cmd_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = pending_auth_.begin(); it != pending_auth_.end();) {
      if (it->second.deadline_ms <= now) {
        auto pending = std::move(it->second);
        it = pending_auth_.erase(it);
        answer(pending.requester, pending.request_correlation, pending.request,
               protocol::charge_reply{false, "CP " + pending.request.cp_id + " did not answer",
                                      pending.request.cp_id, "", pending.request.request_id});
      } else {
        ++it;
      }
    }
    // Tickets are resent until acknowledged; the driver deduplicates.
    if (++ticks_ % 3 == 0) {
      for (const auto& [key, r] : owed_) {
        send_ticket(r);
      }
    }
  }

  // ---- operator -------------------------------------------------------------

  void on_operator(const std::string& line) {
    auto cmd = parse_operator_command(line);
    if (!cmd) {
      emit("error", {{"code", "bad_command"}, {"message", cmd.err().message}});
      return;
    }
    switch (cmd->verb) {
      case operator_verb::none:
        break;
      case operator_verb::list:
        emit_cps();
        break;
      case operator_verb::quit:
        send(this, runtime::quit_atom::value);
        break;
      case operator_verb::stop:
      case operator_verb::resume:
        for (const auto& id : cmd->target == "all" ? model_.cp_ids() : std::vector<std::string>{cmd->target}) {
          operator_stop_resume(id, cmd->verb == operator_verb::stop);
        }
        break;
      case operator_verb::add: {
        domain::cp_record r{cmd->target, cmd->location, cmd->price};
        if (auto st = db_->add_cp(r); !st) {
          emit("error", {{"code", "store"}, {"message", st.err().message}});
          return;
        }
        model_.add_cp(r);
        message("CP " + r.id + " registered at " + r.location);
        break;
      }
    }
  }

  void operator_stop_resume(const std::string& cp_id, bool stop) {
    const char* verb = stop ? "stop" : "resume";
    auto st = stop ? model_.stop(cp_id) : model_.resume(cp_id);
    if (!st) {
      emit("command", {{"command", verb}, {"cp", cp_id}, {"ok", false}, {"reason", st.err().message}});
      message(std::string(verb) + " " + cp_id + ": " + st.err().message);
      return;
    }
    if (auto saved = db_->set_stopped(cp_id, stop); !saved) {
      emit("error", {{"code", "store"}, {"message", saved.err().message}});
    }
    send_command(cp_id, verb, /*announce=*/true);
  }

  void send_command(const std::string& cp_id, const std::string& command, bool announce) {
    auto monitor = monitor_of_.find(cp_id);
    if (monitor == monitor_of_.end()) {
      if (announce) {
        emit("command", {{"command", command}, {"cp", cp_id}, {"ok", true},
                         {"reason", "CP is disconnected; applied when it returns"}});
        message(cp_id + " " + command + " pending until it reconnects");
      }
      return;
    }
    auto corr = request(monitor->second, protocol::cp_command{cp_id, command, "operator"});
    if (announce) {
      pending_cmd_[corr] = pending_command{cp_id, command, runtime::now_ms() + authorize_timeout_ms};
    }
  }

  central_links links_;
  central_settings settings_;
  std::unique_ptr<store::central_store> db_;
  domain::network model_;
  caf::actor view_;

  std::uint64_t seq_ = 0;
  std::uint64_t correlation_ = 0;
  std::uint64_t ticks_ = 0;
  std::map<std::string, peer_role> roles_;        // peer routing id -> who it is
  std::map<std::string, std::string> monitor_of_; // cp -> peer
  std::map<std::string, std::string> engine_of_;  // cp -> peer
  std::map<std::string, std::string> driver_peer_;// driver -> peer
  std::map<std::string, std::string> last_state_; // cp -> state last shown
  std::map<std::uint64_t, pending_authorization> pending_auth_;
  std::map<std::uint64_t, pending_command> pending_cmd_;
  std::set<std::string> in_flight_;               // request keys waiting for their CP
  std::map<std::string, protocol::charge_reply> answers_;
  std::deque<std::string> answer_order_;
  std::map<std::string, protocol::charge_record> owed_;  // tickets not yet acknowledged
  std::set<std::string> interrupted_;             // charge ids whose driver was told
};

} // namespace

caf::actor spawn_central(caf::actor_system& sys, central_links links, central_settings settings,
                         std::unique_ptr<store::central_store> db, domain::network model, caf::actor view) {
  return sys.spawn<central_actor>(links, std::move(settings), std::move(db), std::move(model), std::move(view));
}

} // namespace evnet::central

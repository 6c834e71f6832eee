#include "engine_actor.hpp"

#include "evnet/domain/charger.hpp"
#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/json_views.hpp"
#include "evnet/runtime/link_status.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/runtime/view.hpp"

#include <chrono>
#include <map>
#include <sstream>

namespace evnet::engine {

namespace {

using namespace std::chrono_literals;
using runtime::make_event;

// Supply is counted in whole seconds from the plug time; ticking four times
// a second keeps each reported second within 250 ms of the real one.
constexpr auto tick_period = 250ms;
// Without a health check for this long, the Monitor is taken for dead and a
// running charge is ended (and ticketed) rather than left to run unwatched.
constexpr std::int64_t monitor_silence_ms = 3000;
constexpr std::int64_t resend_every_ms = 2000;
constexpr std::int64_t hello_every_ms = 5000;

std::string record_key(const protocol::charge_record& r) { return r.cp_id + "/" + r.charge_id; }

class engine_actor : public caf::event_based_actor {
public:
  engine_actor(caf::actor_config& cfg, engine_links links, std::unique_ptr<store::engine_store> db, caf::actor view)
      : caf::event_based_actor(cfg), links_(std::move(links)), db_(std::move(db)), view_(std::move(view)) {}

  caf::behavior make_behavior() override {
    recover_from_store();
    send(this, runtime::tick_atom::value);
    emit("started", {{"listen", links_.listen_port}});
    return {
      [this](transport::inbound& in) {
        if (in.link == links_.central) {
          on_central(in);
        } else {
          on_monitor(in);
        }
      },
      [this](transport::link_event& ev) { on_link_event(ev); },
      [this](runtime::command_atom, const std::string& line) { on_command(line); },
      [this](runtime::tick_atom) {
        on_tick();
        delayed_send(this, tick_period, runtime::tick_atom::value);
      },
      [this](runtime::quit_atom) {
        send(view_, runtime::quit_atom::value);
        quit();
      },
    };
  }

private:
  // ---- outputs ------------------------------------------------------------

  void emit(std::string name, json::object fields = {}) {
    send(view_, runtime::event_atom::value, make_event(std::move(name), std::move(fields)));
  }

  void error_event(const std::string& code, const std::string& text) {
    emit("error", {{"code", code}, {"message", text}});
    runtime::log_line(sender(), code + ": " + text);
  }

  std::string cp_id() const { return charger_.configured() ? charger_.config()->cp_id : std::string{}; }

  std::string sender() const {
    return charger_.configured() ? "engine:" + cp_id() : "engine-" + std::to_string(links_.listen_port);
  }

  template <class T>
  void to_central(T body, std::uint64_t corr = 0) {
    links_.net->send(links_.central, protocol::make(sender(), std::move(body), corr));
  }

  template <class T>
  void to_monitor(const std::string& peer, T body, std::uint64_t corr) {
    links_.net->send(links_.monitor_router, peer, protocol::make(sender(), std::move(body), corr));
  }

  void emit_state() {
    auto state = charger_.state_name();
    if (state != last_state_) {
      last_state_ = state;
      emit("state", {{"cp", cp_id()}, {"state", state}});
    }
  }

  // ---- durable charges -------------------------------------------------------

  // A charge that was running when this process died is settled from what
  // the store last saw; finished ones Central never acknowledged are resent.
  void recover_from_store() {
    auto open = db_->load_open();
    if (!open) {
      error_event("store", open.err().message);
    } else if (*open) {
      const auto& c = **open;
      domain::charger scratch;
      scratch.configure(protocol::cp_config{c.cp_id, "", c.price});
      finish(scratch.settle_interrupted(c.view, c.started_ms, runtime::now_ms()));
    }
    auto pending = db_->unacknowledged();
    if (!pending) {
      error_event("store", pending.err().message);
      return;
    }
    for (auto& r : *pending) {
      unacked_[record_key(r)] = r;
    }
  }

  void save_open() {
    if (!charger_.charging()) {
      return;
    }
    store::open_charge c{charger_.current(), cp_id(), charger_.config()->price, charger_.current_started_ms()};
    if (auto st = db_->save_open(c); !st) {
      error_event("store", st.err().message);
    }
  }

  void finish(const protocol::charge_record& r) {
    if (auto st = db_->save_finished(r); !st) {
      error_event("store", st.err().message);
    }
    unacked_[record_key(r)] = r;
    last_record_ = r;
    has_last_ = true;
    last_kwh_ = -1.0;
    emit("finished", runtime::ticket_fields(r));
    to_central(protocol::charge_finished{r});
    emit_state();
  }

  void finish_if(const std::optional<protocol::charge_record>& r) {
    if (r) {
      finish(*r);
    }
  }

  // ---- Monitor link ----------------------------------------------------------

  void on_monitor(transport::inbound& in) {
    const auto& peer = in.peer;
    const auto corr = in.msg.correlation;
    const auto now = runtime::now_ms();
    monitor_peer_ = peer;
    monitor_seen_ms_ = now;
    if (in.msg.is<protocol::health_check>()) {
      protocol::health_reply r;
      r.ok = !charger_.faulty();
      r.state = charger_.configured() ? charger_.state_name() : "UNCONFIGURED";
      r.charging = charger_.charging();
      if (r.charging) {
        r.charge = charger_.current();
      }
      r.has_last = has_last_;
      r.last = last_record_;
      to_monitor(peer, std::move(r), corr);
    } else if (in.msg.is<protocol::engine_configure>()) {
      const auto& c = in.msg.as<protocol::engine_configure>().config;
      if (charger_.configured() && charger_.config()->cp_id != c.cp_id && charger_.charging()) {
        to_monitor(peer, protocol::ack{false, "busy serving " + cp_id()}, corr);
        return;
      }
      bool changed = !charger_.configured() || charger_.config()->cp_id != c.cp_id ||
                     charger_.config()->price != c.price || charger_.config()->location != c.location;
      charger_.configure(c);
      to_monitor(peer, protocol::ack{true, ""}, corr);
      if (changed) {
        emit("configured", {{"cp", c.cp_id}, {"location", c.location}, {"price", c.price}});
        to_central(protocol::engine_hello{c.cp_id});
        emit_state();
      }
    } else if (in.msg.is<protocol::authorize_request>()) {
      on_authorize(peer, corr, in.msg.as<protocol::authorize_request>(), now);
    } else if (in.msg.is<protocol::cp_command>()) {
      const auto& cmd = in.msg.as<protocol::cp_command>();
      if (cmd.command == "stop") {
        finish_if(charger_.stop(now));
        emit("stopped", {{"cp", cp_id()}});
      } else if (cmd.command == "resume") {
        charger_.resume();
        emit("resumed", {{"cp", cp_id()}});
      } else {
        to_monitor(peer, protocol::ack{false, "unknown command " + cmd.command}, corr);
        return;
      }
      to_monitor(peer, protocol::ack{true, ""}, corr);
      emit_state();
    } else {
      to_monitor(peer, protocol::error_reply{"unexpected", std::string(in.msg.type()) + " is not for the Engine"},
                 corr);
    }
  }

  void on_authorize(const std::string& peer, std::uint64_t corr, const protocol::authorize_request& req,
                    std::int64_t now) {
    if (charger_.configured() && req.cp_id != cp_id()) {
      to_monitor(peer, protocol::authorize_reply{false, "this Engine serves " + cp_id(), ""}, corr);
      return;
    }
    auto charge = charger_.authorize(req.driver_id, req.duration_s, req.request_id, now);
    if (!charge) {
      to_monitor(peer, protocol::authorize_reply{false, charge.err().message, ""}, corr);
      return;
    }
    to_monitor(peer, protocol::authorize_reply{true, "", *charge}, corr);
    emit("authorized", {{"cp", cp_id()}, {"charge_id", *charge}, {"driver", req.driver_id},
                        {"duration", req.duration_s}});
    if (charger_.current().plugged) {
      emit("plugged", {{"cp", cp_id()}, {"charge_id", *charge}});
    }
    save_open();
    emit_state();
  }

  // ---- Central link ----------------------------------------------------------

  void on_central(transport::inbound& in) {
    if (in.msg.is<protocol::record_ack>()) {
      const auto& a = in.msg.as<protocol::record_ack>();
      auto it = unacked_.find(a.cp_id + "/" + a.charge_id);
      if (it == unacked_.end()) {
        return;
      }
      if (auto st = db_->acknowledge(a.cp_id, a.charge_id); !st) {
        error_event("store", st.err().message);
        return;  // resent later; Central deduplicates
      }
      unacked_.erase(it);
      emit("acknowledged", {{"cp", a.cp_id}, {"charge_id", a.charge_id}});
    } else if (in.msg.is<protocol::error_reply>()) {
      const auto& e = in.msg.as<protocol::error_reply>();
      if (e.code == "unauthenticated" && charger_.configured()) {
        to_central(protocol::engine_hello{cp_id()});
      } else {
        runtime::log_line(sender(), "CENTRAL answered " + e.code + ": " + e.detail);
      }
    }
  }

  void on_link_event(const transport::link_event& ev) {
    if (ev.link == links_.central) {
      if (ev.kind == transport::event_kind::connected) {
        central_.connected();
        emit("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + links_.central_address}});
        if (charger_.configured()) {
          to_central(protocol::engine_hello{cp_id()});
        }
        resend_unacked();
      } else if (ev.kind == transport::event_kind::disconnected && central_.disconnected()) {
        emit("central", {{"status", "unreachable"},
                         {"text", "cannot reach CENTRAL at " + links_.central_address + ", retrying"}});
      }
      return;
    }
    if (ev.kind == transport::event_kind::peer_gone && ev.peer == monitor_peer_) {
      monitor_gone(runtime::now_ms());
    } else if (ev.kind == transport::event_kind::rejected) {
      error_event("rejected", ev.detail);
    }
  }

  void monitor_gone(std::int64_t now) {
    monitor_peer_.clear();
    if (charger_.charging()) {
      finish_if(charger_.end(now, "monitor lost"));
    }
  }

  void resend_unacked() {
    for (const auto& [key, r] : unacked_) {
      to_central(protocol::charge_finished{r});
    }
  }

  // ---- time ------------------------------------------------------------------

  void on_tick() {
    const auto now = runtime::now_ms();
    finish_if(charger_.tick(now));
    if (charger_.charging()) {
      auto v = charger_.current();
      if (v.plugged && v.kwh != last_kwh_) {
        last_kwh_ = v.kwh;
        to_central(protocol::telemetry{cp_id(), v.charge_id, v.driver_id, charger_.next_telemetry_seq(), v.kwh,
                                       v.amount, charger_.config()->price});
        emit("progress", {{"cp", cp_id()}, {"charge_id", v.charge_id}, {"driver", v.driver_id}, {"kwh", v.kwh},
                          {"amount", v.amount}});
        save_open();
      }
      if (!monitor_peer_.empty() && now - monitor_seen_ms_ > monitor_silence_ms) {
        monitor_gone(now);
      }
    }
    emit_state();
    if (now - last_resend_ms_ >= resend_every_ms) {
      last_resend_ms_ = now;
      resend_unacked();
    }
    if (charger_.configured() && now - last_hello_ms_ >= hello_every_ms) {
      last_hello_ms_ = now;
      to_central(protocol::engine_hello{cp_id()});
    }
  }

  // ---- console ---------------------------------------------------------------

  void on_command(const std::string& raw) {
    std::istringstream in{raw};
    std::string verb;
    std::string extra;
    in >> verb >> extra;
    const auto now = runtime::now_ms();
    if (verb.empty()) {
      return;
    }
    if (!extra.empty()) {
      error_event("bad_command", "'" + verb + "' takes no argument");
      return;
    }
    if (verb == "plug") {
      if (auto st = charger_.plug(now); !st) {
        error_event(st.err().code, st.err().message);
        return;
      }
      emit("plugged", {{"cp", cp_id()}, {"charge_id", charger_.current().charge_id}});
      save_open();
    } else if (verb == "unplug") {
      auto r = charger_.unplug(now);
      if (!r) {
        error_event(r.err().code, r.err().message);
        return;
      }
      finish(*r);
    } else if (verb == "fault") {
      finish_if(charger_.fault(now));
      emit("fault", {{"cp", cp_id()}});
    } else if (verb == "repair") {
      charger_.repair();
      emit("repaired", {{"cp", cp_id()}});
    } else if (verb == "toggle") {  // ENTER in the console, as in the original system
      on_command(charger_.faulty() ? "repair" : "fault");
      return;
    } else if (verb == "quit") {
      send(this, runtime::quit_atom::value);
      return;
    } else {
      error_event("bad_command", "unknown command '" + raw + "' (try: plug, unplug, fault, repair, quit)");
      return;
    }
    emit_state();
  }

  engine_links links_;
  std::unique_ptr<store::engine_store> db_;
  caf::actor view_;
  domain::charger charger_;

  std::string monitor_peer_;
  runtime::link_status central_;
  std::int64_t monitor_seen_ms_ = 0;
  std::int64_t last_resend_ms_ = 0;
  std::int64_t last_hello_ms_ = 0;
  double last_kwh_ = -1.0;
  std::string last_state_;
  std::map<std::string, protocol::charge_record> unacked_;
  protocol::charge_record last_record_;
  bool has_last_ = false;
};

} // namespace

caf::actor spawn_engine(caf::actor_system& sys, engine_links links, std::unique_ptr<store::engine_store> db,
                        caf::actor view) {
  return sys.spawn<engine_actor>(std::move(links), std::move(db), std::move(view));
}

} // namespace evnet::engine

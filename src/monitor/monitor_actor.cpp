#include "monitor_actor.hpp"

#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/json_views.hpp"
#include "evnet/runtime/link_status.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/runtime/view.hpp"

#include <chrono>
#include <map>
#include <sstream>

namespace evnet::monitor {

namespace {

using namespace std::chrono_literals;
using runtime::make_event;

constexpr auto tick_period = 1s;
// The Engine is KO when its last good answer is older than this: two missed
// checks, so one late reply is not a fault.
constexpr std::int64_t engine_silence_ms = 2500;
// How long the Engine has to answer a relayed command.
constexpr std::int64_t relay_timeout_ms = 3000;
constexpr std::int64_t auth_retry_ms = 3000;
// A local charge request unanswered for this long is given up: longer than
// Central's own wait for the CP's authorisation (5 s), so a slow CP is still
// answered by Central, but a Central that died is not waited for forever.
constexpr std::int64_t local_request_timeout_ms = 8000;

enum class relay_kind { authorize, command, configure };

struct relay {
  relay_kind kind;
  std::uint64_t central_correlation = 0;
  std::string command;
  std::int64_t deadline_ms = 0;
};

class monitor_actor : public caf::event_based_actor {
public:
  monitor_actor(caf::actor_config& cfg, monitor_links links, std::string cp_id, caf::actor view)
      : caf::event_based_actor(cfg), links_(std::move(links)), cp_id_(std::move(cp_id)), view_(std::move(view)) {}

  caf::behavior make_behavior() override {
    send(this, runtime::tick_atom::value);
    emit("started", {{"cp", cp_id_}, {"engine", links_.engine_address}, {"central", links_.central_address}});
    return {
      [this](transport::inbound& in) {
        if (in.link == links_.central) {
          on_central(in);
        } else {
          on_engine(in);
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
  std::string sender() const { return "monitor:" + cp_id_; }

  void emit(std::string name, json::object fields = {}) {
    send(view_, runtime::event_atom::value, make_event(std::move(name), std::move(fields)));
  }

  template <class T>
  std::uint64_t to_central(T body, std::uint64_t corr = 0) {
    links_.net->send(links_.central, protocol::make(sender(), std::move(body), corr));
    return corr;
  }

  template <class T>
  std::uint64_t to_engine(T body) {
    std::uint64_t corr = ++correlation_;
    links_.net->send(links_.engine, protocol::make(sender(), std::move(body), corr));
    return corr;
  }

  // ---- Central ---------------------------------------------------------------

  void authenticate() {
    last_auth_ms_ = runtime::now_ms();
    to_central(protocol::cp_auth{cp_id_}, ++correlation_);
  }

  void on_central(transport::inbound& in) {
    const auto corr = in.msg.correlation;
    if (in.msg.is<protocol::cp_auth_reply>()) {
      const auto& r = in.msg.as<protocol::cp_auth_reply>();
      bool was = authenticated_;
      authenticated_ = r.ok;
      if (r.ok) {
        config_ = r.config;
        configure_engine();
        send_status();
      }
      if (r.ok != was || r.reason != last_auth_reason_) {
        last_auth_reason_ = r.reason;
        emit("auth", {{"ok", r.ok}, {"reason", r.reason}, {"cp", cp_id_}, {"location", r.config.location},
                      {"price", r.config.price}});
      }
    } else if (in.msg.is<protocol::authorize_request>()) {
      // Refuse only on a verdict: just after start-up there is none yet
      // (Central already shows the CP ACTIVE), and the Engine can answer for
      // itself; if it does not, the relay times out with a reason.
      if (engine_known_ && !engine_ok_) {
        to_central(protocol::authorize_reply{false, "the Engine is not available: " + engine_detail_, ""}, corr);
        return;
      }
      // An Engine restarted within the last health check does not know its
      // CP yet and would refuse; the configuration goes first on the same
      // link, so it arrives first (the Engine ignores a repeat).
      configure_engine();
      relay_to_engine(relay_kind::authorize, corr, in.msg.as<protocol::authorize_request>(), "");
    } else if (in.msg.is<protocol::cp_command>()) {
      const auto& cmd = in.msg.as<protocol::cp_command>();
      relay_to_engine(relay_kind::command, corr, cmd, cmd.command);
    } else if (in.msg.is<protocol::charge_reply>()) {
      const auto& r = in.msg.as<protocol::charge_reply>();
      if (r.request_id == local_request_) {
        local_request_.clear();
        emit("local_charge", {{"ok", r.ok}, {"reason", r.reason}, {"charge_id", r.charge_id}});
      }
    } else if (in.msg.is<protocol::error_reply>()) {
      const auto& e = in.msg.as<protocol::error_reply>();
      if (e.code == "unauthenticated") {
        // Central restarted and no longer knows us: authenticate again.
        authenticated_ = false;
        authenticate();
      } else {
        runtime::log_line(sender(), "CENTRAL answered " + e.code + ": " + e.detail);
      }
    }
  }

  template <class T>
  void relay_to_engine(relay_kind kind, std::uint64_t central_corr, T body, std::string command) {
    auto corr = to_engine(std::move(body));
    relays_[corr] = relay{kind, central_corr, std::move(command), runtime::now_ms() + relay_timeout_ms};
  }

  void send_status() {
    if (authenticated_ && engine_known_) {
      to_central(protocol::cp_status{cp_id_, engine_ok_, engine_detail_});
    }
  }

  // ---- Engine ----------------------------------------------------------------

  void configure_engine() {
    if (config_) {
      auto corr = to_engine(protocol::engine_configure{*config_});
      relays_[corr] = relay{relay_kind::configure, 0, "", runtime::now_ms() + relay_timeout_ms};
    }
  }

  void on_engine(transport::inbound& in) {
    const auto corr = in.msg.correlation;
    if (in.msg.is<protocol::health_reply>()) {
      on_health(in.msg.as<protocol::health_reply>());
      return;
    }
    auto it = relays_.find(corr);
    if (it == relays_.end()) {
      return;
    }
    auto r = std::move(it->second);
    relays_.erase(it);
    if (in.msg.is<protocol::authorize_reply>() && r.kind == relay_kind::authorize) {
      to_central(in.msg.as<protocol::authorize_reply>(), r.central_correlation);
    } else if (in.msg.is<protocol::ack>() && r.kind == relay_kind::command) {
      const auto& a = in.msg.as<protocol::ack>();
      to_central(a, r.central_correlation);
      emit("command", {{"command", r.command}, {"ok", a.ok}, {"reason", a.reason}});
    } else if (in.msg.is<protocol::ack>() && r.kind == relay_kind::configure) {
      const auto& a = in.msg.as<protocol::ack>();
      if (!a.ok) {
        emit("error", {{"code", "engine"}, {"message", "the Engine refused its configuration: " + a.reason}});
      }
    }
  }

  void on_health(const protocol::health_reply& h) {
    const auto now = runtime::now_ms();
    engine_seen_ms_ = now;
    engine_reported_ok_ = h.ok;
    engine_state_ = h.state;
    if (h.state == "UNCONFIGURED") {
      configure_engine();  // the Engine restarted
    }
    if (h.charging) {
      const auto& c = h.charge;
      emit("charge", {{"cp", cp_id_}, {"charge_id", c.charge_id}, {"driver", c.driver_id}, {"kwh", c.kwh},
                      {"amount", c.amount}, {"elapsed_s", c.elapsed_s}, {"duration_s", c.duration_s},
                      {"plugged", c.plugged}});
    }
    if (h.has_last && h.last.charge_id != last_ticket_) {
      last_ticket_ = h.last.charge_id;
      emit("ticket", runtime::ticket_fields(h.last));
    }
    evaluate_engine(now, /*answered_now=*/true);
  }

  // Decides OK/KO from the last answer and its age; reports changes at once,
  // and every answer too, so that the screen can show the last check.
  void evaluate_engine(std::int64_t now, bool answered_now = false) {
    if (engine_seen_ms_ == 0 && now - started_ms_ < engine_silence_ms) {
      return;  // give a starting Engine time to answer before calling it KO
    }
    bool answered = engine_seen_ms_ != 0 && now - engine_seen_ms_ <= engine_silence_ms;
    bool ok = answered && engine_reported_ok_;
    std::string detail = !answered ? "no answer from the Engine at " + links_.engine_address
                                   : (engine_reported_ok_ ? "" : "the Engine reports a fault");
    if (ok != engine_ok_ || detail != engine_detail_ || !engine_known_) {
      engine_known_ = true;
      engine_ok_ = ok;
      engine_detail_ = detail;
      emit("engine", {{"ok", ok}, {"detail", detail}, {"state", answered ? engine_state_ : std::string{}}});
      send_status();
    } else if (answered_now) {
      emit("engine", {{"ok", ok}, {"detail", detail}, {"state", engine_state_}});
    }
  }

  // ---- links and time ------------------------------------------------------------

  void on_link_event(const transport::link_event& ev) {
    if (ev.link != links_.central) {
      return;  // the Engine's health is judged by its answers, not by the link
    }
    if (ev.kind == transport::event_kind::connected) {
      central_.connected();
      emit("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + links_.central_address}});
      authenticate();
    } else if (ev.kind == transport::event_kind::disconnected) {
      authenticated_ = false;
      fail_local_request(unreachable_text());
      if (!central_.disconnected()) {
        return;  // once per outage, not per reconnect attempt
      }
      emit("central", {{"status", "unreachable"}, {"text", unreachable_text() + ", retrying"}});
    }
  }

  std::string unreachable_text() const { return "cannot reach CENTRAL at " + links_.central_address; }

  // A local charge whose request Central will never answer is refused here,
  // so the person at the CP gets an answer, not silence.
  void fail_local_request(const std::string& reason) {
    if (local_request_.empty()) {
      return;
    }
    local_request_.clear();
    emit("local_charge", {{"ok", false}, {"reason", reason}, {"charge_id", ""}});
  }

  void on_tick() {
    const auto now = runtime::now_ms();
    to_engine(protocol::health_check{});
    evaluate_engine(now);
    send_status();
    if (!authenticated_ && now - last_auth_ms_ >= auth_retry_ms) {
      authenticate();
    }
    if (!local_request_.empty() && now >= local_deadline_ms_) {
      fail_local_request(unreachable_text() + " (no answer)");
    }
    for (auto it = relays_.begin(); it != relays_.end();) {
      if (it->second.deadline_ms > now) {
        ++it;
        continue;
      }
      const auto& r = it->second;
      const std::string why = "the Engine did not answer";
      if (r.kind == relay_kind::authorize) {
        to_central(protocol::authorize_reply{false, why, ""}, r.central_correlation);
      } else if (r.kind == relay_kind::command) {
        to_central(protocol::ack{false, why}, r.central_correlation);
        emit("command", {{"command", r.command}, {"ok", false}, {"reason", why}});
      }
      it = relays_.erase(it);
    }
    // Health checks nobody answered are not relays; forget their ids.
  }

  void on_command(const std::string& raw) {
    std::istringstream in{raw};
    std::string verb;
    std::string seconds;
    std::string extra;
    in >> verb >> seconds >> extra;
    if (verb.empty()) {
      return;
    }
    if (verb == "quit" && seconds.empty()) {
      send(this, runtime::quit_atom::value);
      return;
    }
    if (verb != "charge" || !extra.empty()) {
      emit("error", {{"code", "bad_command"}, {"message", "unknown command '" + raw + "' (try: charge [SECONDS], quit)"}});
      return;
    }
    std::int64_t duration = 0;
    if (!seconds.empty()) {
      auto d = runtime::parse_seconds(seconds, "SECONDS");
      if (!d) {
        emit("local_charge", {{"ok", false}, {"reason", d.err().message}, {"charge_id", ""}});
        return;
      }
      duration = *d;
    }
    if (!authenticated_) {
      // After an outage was noticed, say so in the words a driver gets.
      const std::string reason = central_.known_down()
                                     ? unreachable_text()
                                     : "not authenticated with CENTRAL at " + links_.central_address;
      emit("local_charge", {{"ok", false}, {"reason", reason}, {"charge_id", ""}});
      return;
    }
    if (!local_request_.empty()) {
      emit("local_charge", {{"ok", false}, {"reason", "a local charge request is already waiting for CENTRAL"},
                            {"charge_id", ""}});
      return;
    }
    local_deadline_ms_ = runtime::now_ms() + local_request_timeout_ms;
    local_request_ = cp_id_ + "-local-" + std::to_string(runtime::now_ms()) + "-" + std::to_string(++correlation_);
    to_central(protocol::charge_request{"@" + cp_id_, cp_id_, duration, local_request_}, ++correlation_);
  }

  monitor_links links_;
  std::int64_t started_ms_ = runtime::now_ms();
  std::string cp_id_;
  caf::actor view_;

  std::optional<protocol::cp_config> config_;
  runtime::link_status central_;
  bool authenticated_ = false;
  std::string last_auth_reason_ = "-";
  std::int64_t last_auth_ms_ = 0;
  std::uint64_t correlation_ = 0;
  std::map<std::uint64_t, relay> relays_;

  std::int64_t engine_seen_ms_ = 0;
  bool engine_reported_ok_ = false;
  bool engine_ok_ = false;
  bool engine_known_ = false;
  std::string engine_detail_;
  std::string engine_state_;
  std::string last_ticket_;
  std::string local_request_;
  std::int64_t local_deadline_ms_ = 0;
};

} // namespace

caf::actor spawn_monitor(caf::actor_system& sys, monitor_links links, std::string cp_id, caf::actor view) {
  return sys.spawn<monitor_actor>(std::move(links), std::move(cp_id), std::move(view));
}

} // namespace evnet::monitor

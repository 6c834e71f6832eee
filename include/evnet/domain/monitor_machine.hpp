#pragma once

// Everything EV_CP_M decides, as a sans-I/O machine: it never touches a
// socket, a clock or a terminal. Its owner (the Monitor's actor, a unit
// test, a simulator) feeds it inputs with the time in ms and drains its
// outbox: messages to the links "central" and "engine" (correlation ids
// assigned here) and the events of docs/HEADLESS.md for the view.
//
// The rules:
//  - Central: cp_auth on `connected`, again every 3 s while connected and
//    not authenticated, and when Central says `unauthenticated`; one `auth`
//    event per change (of the answer, or of the session: a session
//    authenticated again after an outage is told again). cp_status every second while authenticated and the
//    Engine's verdict is known, and at once when the verdict changes.
//  - The Engine: health_check every tick; the verdict (engine_verdict);
//    engine_configure after authenticating, before every relayed
//    authorisation (same link, so it arrives first) and whenever the Engine
//    says it is not configured (it restarted).
//  - The fence (see protocol.hpp, above authorize_request):
//      authorize_request: refused at once while the Engine is KO, otherwise
//        relayed to the Engine (after its configuration).
//      The Engine's authorize_reply goes to Central at once and is repeated
//        every second, matched on request_id, until Central's
//        authorize_decision for it passes back, or for the Engine's
//        reservation time (15 s). A refusal reserved nothing: it is repeated
//        only while Central may still be waiting (5 s).
//      No answer from the Engine in 3 s: Central gets authorize_reply{ok=false,
//        "the Engine did not answer"} (repeated like any refusal); a late
//        answer from the Engine still goes to Central, so that Central can
//        cancel what the Engine reserved.
//      authorize_decision is relayed to the Engine and the Engine's
//        decision_ack to Central, each one (Central resends until acked).
//  - cp_command is relayed with its ack back (3 s, then ack{false, "the
//    Engine did not answer"}), with a `command` event.
//  - The local charge (console `charge [SECONDS]`): one at a time, with a
//    request id, refused at once when not authenticated, given up after 8 s
//    or when the link to Central goes down.
//  - The transport drops frames offered to a link that is down, so what
//    matters is re-sent: auth on `connected`, pending authorisation replies
//    once authenticated again; a health check, the configuration and the
//    unanswered authorisation requests when the Engine's link comes (back) up.
//
// Thread-safety: none; owned by one actor (or test).

#include "evnet/domain/authorization_fence.hpp"
#include "evnet/domain/charger.hpp"
#include "evnet/domain/engine_verdict.hpp"
#include "evnet/domain/monitor_command.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace evnet::domain {

struct monitor_setup {
  std::string cp_id;
  std::string engine_address;   // "host:port", for texts
  std::string central_address;  // "host:port", for texts
  // The OCPP gateway's Monitor: the Basic-auth password its charge point
  // presented, passed in every cp_auth for Central to check. Empty for
  // EV_CP_M.
  std::string ocpp_password = {};
};

class monitor_machine {
public:
  // The names of the two links in outgoing::to.
  static constexpr std::string_view central_link = "central";
  static constexpr std::string_view engine_link = "engine";

  // The period its owner calls on_tick() with.
  static constexpr std::int64_t tick_ms = engine_verdict::check_period_ms;
  static constexpr std::int64_t auth_retry_ms = 3000;
  // How long the Engine has to answer anything relayed to it.
  static constexpr std::int64_t engine_answer_ms = 3000;
  static constexpr std::int64_t reply_repeat_ms = 1000;
  // The Engine drops a reservation no decision reached after this long:
  // no point repeating its yes longer.
  static constexpr std::int64_t reservation_ms = charger::reservation_timeout_ms;
  // Central answers a waiting driver itself after this long: no point
  // repeating a refusal longer.
  static constexpr std::int64_t refusal_repeat_ms = authorization_fence::default_timeout_ms;
  // A local charge request unanswered for this long is given up: longer
  // than Central's own wait for the CP's authorisation (5 s), so a slow CP
  // is still answered by Central, but a Central that died is not waited for.
  static constexpr std::int64_t local_request_timeout_ms = 8000;

  // Queues the `started` event.
  monitor_machine(monitor_setup setup, std::int64_t now);

  // A message from Central / from the Engine.
  void on_central(const protocol::message& msg, std::int64_t now);
  void on_engine(const protocol::message& msg, std::int64_t now);

  // The link to Central came up (first frame of a session) / went down.
  void on_central_connected(std::int64_t now);
  void on_central_disconnected(std::int64_t now);
  // Central no longer knows us (error_reply{unauthenticated}).
  void on_central_unauthenticated(std::int64_t now);

  // The link to the Engine came up (first frame of a session). Its health is
  // judged by its answers, not by the link, so there is no `disconnected`.
  void on_engine_connected(std::int64_t now);

  // A console line, parsed (parse_monitor_command).
  void on_console(const result<monitor_command>& cmd, std::int64_t now);

  // Every tick_ms.
  void on_tick(std::int64_t now);

  outbox& out() { return out_; }

  // The console asked to quit.
  bool quit_requested() const { return quit_; }
  bool authenticated() const { return authenticated_; }
  const engine_verdict& verdict() const { return verdict_; }
  // Authorisations whose reply is still awaited from the Engine or still
  // repeated to Central.
  std::size_t authorizations_in_flight() const { return authorizations_.size(); }
  bool local_charge_waiting() const { return local_request_.has_value(); }
  // A charge started at the CP for a driver it identified (the OCPP
  // gateway: the idTag the charge point read), asked of Central like a
  // local charge; answered by the same `local_charge` event.
  void request_charge_for(const std::string& driver_id, std::int64_t duration_s, std::int64_t now);

private:
  // One relayed authorize_request, by request_id.
  struct authorization {
    protocol::authorize_request request;
    std::uint64_t central_correlation = 0;
    std::uint64_t engine_correlation = 0;
    std::int64_t received_ms = 0;
    std::optional<protocol::authorize_reply> reply;  // what Central is told, repeatedly
    std::int64_t repeat_until_ms = 0;
    std::int64_t next_send_ms = 0;
  };

  // Something relayed to the Engine that is answered by correlation.
  enum class awaiting : std::uint8_t { configure_ack, command_ack, decision_ack };
  struct engine_wait {
    awaiting what = awaiting::configure_ack;
    cp_order order = cp_order::stop;     // command_ack
    std::uint64_t central_correlation = 0;
    std::int64_t deadline_ms = 0;
  };

  struct local_request {
    std::string request_id;
    std::int64_t deadline_ms = 0;
  };

  template <class T>
  std::uint64_t to_engine(T body) {
    const auto corr = ++correlation_;
    out_.send(std::string(engine_link), std::move(body), corr);
    return corr;
  }
  template <class T>
  void to_central(T body, std::uint64_t corr) {
    out_.send(std::string(central_link), std::move(body), corr);
  }

  void authenticate(std::int64_t now);
  void on_auth_reply(const protocol::cp_auth_reply& r, std::int64_t now);
  void send_status();
  // Stops waiting for the Engine's ack of any relay of Central's command
  // `central_correlation`.
  void forget_command(std::uint64_t central_correlation);
  void configure_engine(std::int64_t now);
  void report_engine(const engine_report& r);

  void on_authorize_request(const protocol::authorize_request& req, std::uint64_t corr, std::int64_t now);
  void on_authorize_reply(const protocol::authorize_reply& r, std::uint64_t corr, std::int64_t now);
  void on_authorize_decision(const protocol::authorize_decision& d, std::uint64_t corr, std::int64_t now);
  void on_decision_ack(const protocol::decision_ack& a, std::uint64_t corr);
  void on_cp_command(const protocol::cp_command& c, std::uint64_t corr, std::int64_t now);
  void on_engine_ack(const protocol::ack& a, std::uint64_t corr);
  void on_health(const protocol::health_reply& h, std::int64_t now);
  void on_charge_reply(const protocol::charge_reply& r);

  // Sets the reply Central gets for `a` and sends it now (if authenticated).
  void answer(authorization& a, protocol::authorize_reply reply, std::int64_t now);
  void send_reply(authorization& a, std::int64_t now);
  protocol::authorize_reply refusal(const protocol::authorize_request& req, std::string reason) const;

  void start_local_charge(std::int64_t duration_s, std::int64_t now);
  void local_charge_refused(std::string reason);
  void fail_local_request(std::string reason);
  void request_local(const std::string& driver_id, std::int64_t duration_s, std::int64_t now);
  std::string unreachable_text() const;

  monitor_setup setup_;
  outbox out_;
  std::uint64_t correlation_ = 0;
  bool quit_ = false;

  // Central
  bool central_up_ = false;
  bool central_known_ = false;  // a link event was seen (an outage is reported once)
  bool authenticated_ = false;
  std::optional<std::string> auth_reason_shown_;  // of the last `auth` event
  std::int64_t last_auth_ms_ = 0;
  std::optional<protocol::cp_config> config_;

  // Engine
  engine_verdict verdict_;
  bool out_of_service_ = false;  // the Engine's last word on it, passed on in cp_status
  std::string last_ticket_;

  std::map<std::string, authorization> authorizations_;  // by request_id
  std::map<std::uint64_t, engine_wait> engine_waits_;    // by the Engine's correlation
  std::optional<local_request> local_request_;
};

} // namespace evnet::domain

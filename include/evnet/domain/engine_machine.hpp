#pragma once

// Everything EV_CP_E decides, as a sans-I/O machine: it never touches a
// socket, a clock, a disk or a terminal. Its owner (the Engine's actor, a
// unit test, a simulator) feeds it inputs with the time in ms and drains its
// outbox: messages to the Monitor's routing id and to the link "central"
// (replies carry the correlation of what they answer), and the events of
// docs/HEADLESS.md for the view. What must survive a crash goes through an
// engine_ledger (the SQLite store, or memory_ledger in tests and in the
// simulation); the machine decides what is saved and when.
//
// The rules:
//  - The Monitor: engine_configure (acked; refused while busy serving
//    another CP, or for any CP but engine_setup::expected_cp when that is
//    set; `configured` + engine_hello when it changed); health_check
//    answered with ok, configured, state, the charge and the last record;
//    cp_command STOP/RESUME applied and acked; anything else answered
//    error_reply{unexpected}.
//  - The fence (see protocol.hpp, above authorize_request) on
//    domain::charger: authorize_request reserves and is answered
//    authorize_reply{ok, reason, charge_id, cp_id, request_id} (a repeated
//    request gets the same charge id); authorize_decision confirms (supply
//    starts) or cancels (nothing, ever) and is answered decision_ack, to
//    repeats too; a confirmation for a reservation that expired (15 s) or
//    was dropped gets decision_ack{ok=false, "reservation_expired"}.
//  - Supply: telemetry to Central (and a `progress` event) once a second
//    while supplying, when the kWh changed; the running charge is saved at
//    confirmation, at the plug and with every telemetry.
//  - Records (record_keeper): every finished charge is saved, sent, and
//    kept until record_ack; resent every 2 s and on `connected` (the
//    transport drops what is offered while Central's link is down).
//  - engine_hello (record_keeper) on configure, on `connected`, every 5 s
//    and when Central says `unauthenticated`.
//  - The watchdog: no message from the Monitor for 3 s (it checks health
//    every second), or its link gone, while a charge is confirmed -> the
//    charge ends with end_reason::monitor_lost rather than run unwatched.
//  - Recovery at construction: a charge open in the ledger (the process
//    died mid-charge) is settled as end_reason::engine_restarted; records
//    never acknowledged are reloaded and resent.
//
// Thread-safety: none; owned by one actor (or test, or simulator).

#include "evnet/domain/charger.hpp"
#include "evnet/domain/engine_command.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/domain/record_keeper.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evnet::domain {

// ---- the machine ------------------------------------------------------------------

struct engine_setup {
  std::uint16_t listen_port = 0;  // where the Monitor connects: the `started` event, the name before configuration
  std::string central_address;    // "host:port", for texts
  // The CP this Engine must be (EV_CP_E --cp; its key pair is that CP's):
  // engine_configure and authorisations for any other CP are refused
  // (errc::wrong_cp). Empty: learnt from the Monitor's configuration.
  std::string expected_cp = {};
};

class engine_machine {
public:
  // The name of Central's link in outgoing::to (anything else is a Monitor's routing id).
  static constexpr std::string_view central_link = record_keeper::central_link;

  // The period its owner calls on_tick() with: supply is counted in whole
  // seconds, so each reported second is within a quarter of the real one.
  static constexpr std::int64_t tick_ms = 250;
  // Without a word from the Monitor for this long, a charge is ended.
  static constexpr std::int64_t monitor_silence_ms = 3000;
  static constexpr std::int64_t resend_every_ms = record_keeper::resend_every_ms;
  static constexpr std::int64_t hello_every_ms = record_keeper::hello_every_ms;

  // Queues the `started` event, then recovers from the ledger (which must
  // outlive the machine).
  engine_machine(engine_setup setup, engine_ledger& ledger, std::int64_t now);

  // A message from a Monitor (its routing id on the Engine's ROUTER).
  void on_monitor(const std::string& peer, const protocol::message& msg, std::int64_t now);
  // That Monitor's link expired.
  void on_monitor_gone(const std::string& peer, std::int64_t now);

  // A message from Central.
  void on_central(const protocol::message& msg, std::int64_t now);
  // The link to Central came up (first frame of a session) / went down.
  void on_central_connected(std::int64_t now);
  void on_central_disconnected(std::int64_t now);
  // Central no longer knows us (error_reply{unauthenticated}).
  void on_central_unauthenticated(std::int64_t now);

  // A frame from some peer of the Engine's ROUTER failed to decode: reported
  // (an `error` event, code `rejected`), nothing else.
  void on_rejected(const std::string& detail, std::int64_t now);

  // A console line, parsed (parse_engine_command); a line that is not a
  // command is reported (an `error` event with the parser's words).
  void on_console(engine_command cmd, std::int64_t now);
  void on_console(const result<engine_command>& parsed, std::int64_t now);

  // Every tick_ms.
  void on_tick(std::int64_t now);

  outbox& out() { return out_; }

  // The envelope's sender: "engine:<CP>" once configured, "engine-<port>" before.
  std::string sender() const;
  // The console asked to quit.
  bool quit_requested() const { return quit_; }
  const charger& cp() const { return charger_; }
  // Finished charges Central has not acknowledged yet.
  std::size_t unacknowledged() const { return records_.unacknowledged(); }
  // The Monitor's routing id (empty when none is known).
  const std::string& monitor() const { return monitor_peer_; }

private:
  std::string cp_id() const;
  template <class T>
  void to_central(T body) {
    out_.send(std::string(central_link), std::move(body));
  }
  template <class T>
  void to_monitor(const std::string& peer, T body, std::uint64_t corr) {
    out_.send(peer, std::move(body), corr);
  }
  void error_notice(errc code, std::string message);

  void recover(std::int64_t now);
  void catch_up(std::int64_t now);  // the charger's own deadlines
  void settle_state();              // a `state` event when it changed

  void on_configure(const std::string& peer, std::uint64_t corr, const protocol::cp_config& c, std::int64_t now);
  void on_health(const std::string& peer, std::uint64_t corr);
  void on_authorize(const std::string& peer, std::uint64_t corr, const protocol::authorize_request& req,
                    std::int64_t now);
  void on_decision(const std::string& peer, std::uint64_t corr, const protocol::authorize_decision& d,
                   std::int64_t now);
  void on_cp_command(const std::string& peer, std::uint64_t corr, const protocol::cp_command& c, std::int64_t now);

  void started_supply();
  void dropped(const charger::reservation& r, std::string_view why);
  void save_open();
  void finish(const protocol::charge_record& r);
  void finish_if(const std::optional<protocol::charge_record>& r);
  void monitor_lost(std::int64_t now);

  engine_setup setup_;
  engine_ledger& ledger_;
  outbox out_;
  record_keeper records_;  // finished charges until acknowledged; engine_hello
  charger charger_;
  bool quit_ = false;

  std::string monitor_peer_;
  std::int64_t monitor_seen_ms_ = 0;
  // Every peer that spoke as a Monitor, when last heard (forgotten when its
  // link expires): a Monitor gone while another still watches ends nothing.
  std::map<std::string, std::int64_t> monitors_seen_;
  bool central_known_ = false;  // a link event was seen (an outage is reported once)
  double last_kwh_ = -1.0;  // the kWh last reported; -1: none yet for this charge
  std::optional<cp_state> state_shown_;
};

} // namespace evnet::domain

#pragma once

// One OCPP 1.6-J charge point's conversation with the gateway, sans I/O:
// WebSocket texts in, WebSocket texts out, and the facts in between handed
// to its domain::ocpp_engine (which decides everything about charges). Its
// owner (the gateway's session actor, a test) passes every text the charge
// point sent and the time, calls on_tick() every second, and writes what
// take_texts() returns to the charge point's WebSocket in order.
//
// The rules of OCPP-J it keeps:
//  - A malformed frame is answered with the CALLERROR ocpp_j.hpp names
//    (never a dropped connection); a CALLRESULT or CALLERROR is never
//    answered. An action 1.6 does not define gets NotImplemented; one it
//    defines that evnet does not handle (DataTransfer, firmware and
//    diagnostics notifications) NotSupported; a payload that breaks the 1.6
//    schema the code from_json gives.
//  - Every CALL from the charge point is answered at once, in order, but
//    Authorize and StartTransaction, which may wait for Central (a charge
//    the charge point started itself). One outstanding CALL per direction:
//    while one of the charge point's CALLs waits for its answer, another
//    CALL gets GenericError (OCPP-J names no code for it; 2.0.1's
//    RpcFrameworkError is this case) and the same uniqueId again is
//    ignored (its answer is coming). The wait is at most the engine's
//    held_timeout_ms, 20 s, below the usual CALL timeouts of charge points;
//    one still unanswered after call_timeout_ms counts as given up by the
//    charge point (OCPP-J lets it send again after its own timeout).
//  - One outstanding CALL of ours at a time: the engine's requests wait in a
//    queue; the next goes when the charge point answered the previous one,
//    or after call_timeout_ms (then it counts as refused). An answer to a
//    CALL we did not make (or no longer wait for) is reported and ignored.
//  - BootNotification: what set_registration() says. Accepted (the
//    default) with the heartbeat interval: the gateway admitted the
//    connection only once Central accepted the charge point (registered,
//    unrevoked, right password). Pending, with retry_interval_s, while the
//    gateway cannot reach Central (the charge point's messages are still
//    kept: records wait in the gateway's store). Rejected, with
//    retry_interval_s, once Central refused the charge point on this
//    connection (its password changed, its key revoked): every other CALL
//    then gets SecurityError, as 1.6 forbids a rejected charge point to
//    send anything but BootNotification. Heartbeat: the current time.
//    Authorize and StartTransaction: the engine's (answered at once, or
//    once Central decided on a charge the charge point started itself).
//
// Thread-safety: none; owned by one actor (or test).

#include "evnet/domain/ocpp_engine.hpp"
#include "evnet/json.hpp"
#include "evnet/ocpp/messages.hpp"
#include "evnet/ocpp/ocpp_j.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evnet::ocpp {

class station {
public:
  static constexpr std::int64_t default_heartbeat_interval_s = 60;
  static constexpr std::int64_t call_timeout_ms = 30'000;
  // The interval a Pending or Rejected BootNotification asks the charge
  // point to wait before it boots again.
  static constexpr std::int64_t retry_interval_s = 10;

  // `engine` must outlive the station.
  station(domain::ocpp_engine& engine, std::int64_t heartbeat_interval_s = default_heartbeat_interval_s);

  // A text from the charge point.
  void on_text(std::string_view text, std::int64_t now);
  // Request timeouts, and whatever the engine decided meanwhile (a
  // duration's end, an operator's order relayed by the Monitor).
  void on_tick(std::int64_t now);
  // The engine was given something by another input (a message from
  // Central through the Monitor): send what it asks of the charge point.
  void pump(std::int64_t now);
  // The WebSocket is open: queued requests may go. (Before it, and after
  // on_disconnected, they wait.)
  void on_connected(std::int64_t now);
  // The connection is gone: a CALL of ours in flight is given up (counts as
  // refused); queued requests wait for the next connection.
  void on_disconnected(std::int64_t now);

  // What BootNotification answers from now on (see above).
  void set_registration(registration_status s) { registration_ = s; }
  registration_status registration() const { return registration_; }

  std::vector<std::string> take_texts() { return std::exchange(texts_, {}); }
  // One line per message each way, for the view: {"dir","action","id",...}.
  std::vector<json::object> take_log() { return std::exchange(log_, {}); }

  std::size_t queued_requests() const { return queue_.size() + (in_flight_ ? 1 : 0); }

private:
  struct outstanding {
    std::string id;
    std::string action;
    std::int64_t deadline_ms = 0;
  };

  void on_call(const call& c, std::int64_t now);
  void on_answer(const std::string& id, bool error, const json::value& payload, std::int64_t now);
  void answer(const std::string& id, json::value payload, std::string_view action);
  void refuse(const std::string& id, call_error_code code, std::string description, std::string_view action);
  void send_next(std::int64_t now);
  void collect(std::int64_t now);
  void note(std::string dir, std::string action, std::string id, json::object extra = {});

  domain::ocpp_engine& engine_;
  std::int64_t heartbeat_interval_s_;
  bool connected_ = false;
  std::deque<domain::ocpp_request> queue_;
  std::optional<outstanding> in_flight_;
  std::optional<std::string> cp_call_open_;  // the charge point's CALL the engine has not answered yet
  std::int64_t cp_call_since_ms_ = 0;
  registration_status registration_ = registration_status::accepted;
  std::uint64_t next_id_ = 0;
  std::vector<std::string> texts_;
  std::vector<json::object> log_;
};

} // namespace evnet::ocpp

#pragma once

// The authorisation fence: no energy without a yes. Central asks the CP
// (authorize_request); the CP reserves and answers with the charge id it
// would use (authorize_reply); the fence decides ONCE per request, on the
// first reply:
//   - ok, still pending and the CP may still charge -> CONFIRMED
//   - ok, but the driver was already told no (timeout, refusal), the request
//     is unknown (Central restarted) or the CP may no longer charge
//                                                   -> CANCELLED
//   - not ok while pending -> refused by the CP (nothing was reserved)
// A repeated reply gets the same decision again. Every decision is resent
// every second until its decision_ack arrives or the CP's Monitor is gone.
// A cancelled charge id is remembered as refused (bounded): telemetry or a
// record for it is never adopted or billed. A confirmation the CP answers
// with decision_ack{ok=false} (its reservation had expired) is a late
// confirm: Central ends the session it had announced; nothing was supplied,
// so nothing is billed (a record that comes all the same proves otherwise
// and is billed).
//
// Keys: a request is (cp id, request id); a decision is (cp id, charge id).
// Thread-safety: none; owned by one machine.

#include "evnet/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace evnet::domain {

class authorization_fence {
public:
  static constexpr std::int64_t default_timeout_ms = 5000;
  static constexpr std::int64_t resend_ms = 1000;
  static constexpr std::size_t default_remembered = 20000;

  explicit authorization_fence(std::int64_t timeout_ms = default_timeout_ms,
                               std::size_t remembered = default_remembered)
      : timeout_ms_(timeout_ms), remembered_(remembered) {}

  // Central sent `req` to the CP: pending until now + timeout.
  void open(const protocol::authorize_request& req, std::int64_t now);

  // The pending authorisation for (cp, request id), or nullptr.
  const protocol::authorize_request* pending(const std::string& cp_id, const std::string& request_id) const;
  // Is any authorisation pending at this CP? (one at a time per CP)
  bool pending_at(const std::string& cp_id) const;
  // The authorisations pending at a CP, to ask again through a new Monitor.
  std::vector<protocol::authorize_request> pending_for(const std::string& cp_id) const;

  enum class outcome : std::uint8_t {
    confirmed,      // the driver gets charge_reply ok; the CP is BUSY
    cancelled,      // the CP is told to drop the reservation
    refused_by_cp,  // the CP said no: the driver is told why
    repeated,       // already decided: the same decision again
    ignored,        // a "no" nobody waits for any more
  };
  struct reply_result {
    outcome kind = outcome::ignored;
    // The driver is still waiting for this request (confirmed, refused_by_cp,
    // or cancelled because the CP may no longer charge).
    bool was_pending = false;
    protocol::authorize_request request;                   // when was_pending
    std::optional<protocol::authorize_decision> decision;  // to send now
  };
  // A reply from the CP. `still_allowed`: may the pending charge start now
  // (the network's verdict; only consulted while pending). `already_ran`:
  // the charge id is stored as finished (an earlier Central confirmed it):
  // the yes is confirmed again, pending or not, and the caller starts
  // nothing.
  reply_result on_reply(const protocol::authorize_reply& r, bool still_allowed, std::int64_t now,
                        bool already_ran = false);

  // Pending authorisations to ask the CP again (every second until answered
  // or expired: a question lost on the way, e.g. by a Monitor whose link to
  // its Engine was not up yet, is asked again; the CP answers a repeated
  // request id with the same reservation).
  std::vector<protocol::authorize_request> ask_again(std::int64_t now);

  // Pending authorisations whose CP did not answer in time (deadline <= now),
  // in (cp, request id) order: the driver is told no; a late yes is cancelled.
  std::vector<protocol::authorize_request> expire(std::int64_t now);

  enum class ack_outcome : std::uint8_t { done, late_confirm, ignored };
  // decision_ack from the CP. late_confirm (once): the CP dropped a
  // confirmed reservation; a repeated reply now hears "cancelled". A "no" after
  // the CP acknowledged the confirmation or showed it supplies (supplied())
  // is not a late confirm: a restarted Engine forgot the reservation, not
  // the charge.
  ack_outcome on_decision_ack(const protocol::decision_ack& a);

  // Closes at once the pending authorisations at `cp_id` (empty: any CP)
  // for `driver_id` (empty: any driver), as if they had timed out (a late
  // yes is cancelled), and returns them in (cp, request id) order: a
  // revoked key's requests die with it.
  std::vector<protocol::authorize_request> withdraw(const std::string& cp_id, const std::string& driver_id);

  // Unacknowledged decisions due for resending now (resent every second),
  // in (cp, charge id) order.
  std::vector<protocol::authorize_decision> due(std::int64_t now);

  // The CP shows it applied a confirmation (telemetry or a record for the
  // charge): resending stops, and a later decision_ack{ok=false} (from a
  // restarted Engine that forgot the reservation, not the charge) is no
  // late confirm.
  void supplied(const std::string& cp_id, const std::string& charge_id);

  // The CP's Monitor is gone: its unacknowledged decisions are not resent
  // (a repeated reply through its next Monitor gets them again).
  void monitor_gone(const std::string& cp_id);

  // Was this charge refused (cancelled)?
  bool refused(const std::string& cp_id, const std::string& charge_id) const;

private:
  using key = std::pair<std::string, std::string>;
  enum class request_state : std::uint8_t { pending, timed_out, refused_by_cp, confirmed, cancelled };
  struct request_entry {
    request_state state = request_state::pending;
    protocol::authorize_request request;
    std::int64_t deadline = 0;
    std::int64_t next_ask = 0;
  };
  struct decision_entry {
    protocol::authorize_decision decision;
    bool acked = false;
    bool resend = true;
    bool dropped = false;  // late confirm: the CP had dropped it
    std::int64_t next_send = 0;
    bool supplied = false;  // the CP showed it supplies (or supplied) it
  };
  protocol::authorize_decision decide(const protocol::authorize_reply& r, bool confirmed, std::int64_t now);
  void close(const key& k, request_state s);
  void trim();

  std::int64_t timeout_ms_;
  std::size_t remembered_;
  std::map<key, request_entry> requests_;     // (cp, request id)
  std::map<key, decision_entry> decisions_;   // (cp, charge id)
  std::deque<key> closed_order_;              // requests no longer pending, oldest first
  std::deque<key> decision_order_;            // decisions, oldest first
};

} // namespace evnet::domain

#pragma once

// The Engine's hardware simulation as a pure state machine: the CP side of
// the authorisation fence, plug/unplug, 1 kWh per second of supply, faults,
// STOP/RESUME. Time is passed in (milliseconds since the epoch), so tests
// drive it directly.
//
// No energy without a yes. A charge goes:
//   reserved  (authorize(): the CP is BUSY for this driver, nothing flows)
//     -> cancel() or no decision within reservation_timeout_ms: dropped,
//        no record (nothing was supplied, nobody is billed);
//     -> confirm(): the charge is on. With a duration the plug is implicit
//        and supply starts at the confirmation, ending after `duration_s`
//        seconds. Without one it waits for plug() (up to plug_timeout_ms
//        after the confirmation, else it ends with a 0 kWh record,
//        end_reason::never_plugged) and ends at unplug().
// A fault, a STOP or a lost Monitor ends a confirmed charge early with a
// record keeping what was supplied; they drop a mere reservation silently.
// Every confirmed charge ends in exactly one record.
//
// Decisions are idempotent: a repeated authorize() (same request id) gets
// the same charge id, a repeated confirm() or cancel() changes nothing. The
// charger remembers the last `decisions_kept` decided charges for this.
//
// Thread-safety: none; owned by one machine.

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"
#include "evnet/vocabulary.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace evnet::domain {

class charger {
public:
  // How long a reservation waits for Central's decision before it is dropped.
  static constexpr std::int64_t reservation_timeout_ms = 15'000;
  // How long a confirmed "until unplugged" charge waits for the plug.
  static constexpr std::int64_t plug_timeout_ms = 60'000;
  // How many decided charges are remembered, to answer repeats the same way.
  static constexpr std::size_t decisions_kept = 64;

  // A reservation or a charge, as the fence sees it.
  struct reservation {
    std::string charge_id;
    std::string driver_id;
    std::string request_id;
    std::int64_t duration_s = 0;  // 0: until unplugged
  };

  // What authorize() did: reserved anew, or answered a repeated request.
  struct authorization {
    std::string charge_id;
    bool repeated = false;
  };

  // What tick() saw happen.
  struct tick_result {
    std::optional<protocol::charge_record> finished;  // completed or never plugged
    std::optional<reservation> expired;               // no decision reached it in time
  };

  bool configured() const { return config_.has_value(); }
  void configure(protocol::cp_config c) { config_ = std::move(c); }
  const std::optional<protocol::cp_config>& config() const { return config_; }

  // Reserves the CP for this driver and returns the charge id it will use;
  // supplies nothing. A repeated request_id (of the reservation, the charge
  // running or a remembered confirmed one) gets the same charge id.
  // Errors: not_configured, reservation_expired (a repeated request whose
  // reservation was cancelled or expired), broken, out_of_order, busy,
  // bad_duration.
  result<authorization> authorize(const std::string& driver_id, std::int64_t duration_s,
                                  const std::string& request_id, std::int64_t now_ms);

  // Central's yes for the reservation named by `id` (its charge id or its
  // request id). Returns true when this call started the charge, false for a
  // repeat of a confirmation already applied. Errors: reservation_expired
  // (unknown, expired, cancelled or dropped: nothing was and nothing will
  // be supplied).
  result<bool> confirm(std::string_view id, std::int64_t now_ms);

  // Central's no: drops the reservation named by `id`, without a record.
  // Returns true when this call dropped it, false when there was nothing
  // left to drop (a repeat, an expired or unknown reservation). Errors:
  // invalid_state when that charge was confirmed (a supply is never taken
  // back without its record).
  result<bool> cancel(std::string_view id, std::int64_t now_ms);

  // Errors: no_charge (nothing confirmed to plug into), already_plugged, broken.
  status plug(std::int64_t now_ms);
  // Ends a plugged charge (end_reason::unplugged). Errors: no_charge.
  result<protocol::charge_record> unplug(std::int64_t now_ms);

  // Advances supply to now: ends a charge whose duration is reached (or an
  // unplugged one that waited longer than plug_timeout_ms), drops a
  // reservation that waited longer than reservation_timeout_ms.
  tick_result tick(std::int64_t now_ms);

  // A fault ends any charge (engine_fault), drops a reservation and refuses
  // new ones until repair().
  std::optional<protocol::charge_record> fault(std::int64_t now_ms);
  void repair();
  bool faulty() const { return faulty_; }

  // STOP ends any charge (stopped), drops a reservation and refuses new ones
  // until resume().
  std::optional<protocol::charge_record> stop(std::int64_t now_ms);
  void resume();
  bool stopped() const { return stopped_; }

  // Ends a confirmed charge for `reason` (e.g. the Monitor is lost); drops a
  // reservation without a record.
  std::optional<protocol::charge_record> end(std::int64_t now_ms, end_reason reason);

  // The record of a charge that was running when the process died (from
  // the Engine's store), ended now with end_reason::engine_restarted,
  // keeping the figures last persisted (what the driver was shown).
  static protocol::charge_record settle_interrupted(const std::string& cp_id, double price,
                                                    const protocol::charge_view& v, std::int64_t started_ms,
                                                    std::int64_t now_ms);

  // A reservation waits for Central's decision.
  bool reserved() const { return slot_ && !slot_->confirmed; }
  // The reservation waiting (valid while reserved()).
  reservation pending() const;
  // A confirmed charge is on (waiting for the plug or supplying).
  bool charging() const { return slot_ && slot_->confirmed; }
  // The confirmed charge (valid while charging()).
  protocol::charge_view current() const;
  std::int64_t current_started_ms() const;
  std::uint64_t next_telemetry_seq() { return ++telemetry_seq_; }

  // ACTIVE, BUSY (reserved or charging), BROKEN or OUT_OF_ORDER, as the
  // Engine sees itself.
  cp_state state() const;

private:
  struct slot {
    reservation r;
    std::int64_t reserved_ms = 0;
    bool confirmed = false;
    std::int64_t confirmed_ms = 0;
    std::int64_t plugged_ms = 0;  // 0 until plugged (or confirmed, with a duration)
    std::int64_t supplied_s = 0;  // whole seconds supplied so far
  };
  enum class outcome : std::uint8_t { confirmed, dropped };
  struct decided {
    std::string charge_id;
    std::string request_id;
    outcome what = outcome::dropped;
  };

  bool names(const reservation& r, std::string_view id) const;
  const decided* find_decided(std::string_view id) const;
  void remember(const reservation& r, outcome what);
  void drop_reservation();
  std::optional<reservation> expire(std::int64_t now_ms);
  protocol::charge_record finish(std::int64_t now_ms, end_reason reason);
  void advance(std::int64_t now_ms);

  std::optional<protocol::cp_config> config_;
  std::optional<slot> slot_;
  std::deque<decided> decided_;
  bool faulty_ = false;
  bool stopped_ = false;
  std::uint64_t telemetry_seq_ = 0;
  std::uint64_t counter_ = 0;
};

} // namespace evnet::domain

#pragma once

// The Engine's hardware simulation as a pure state machine: authorisation,
// plug/unplug, 1 kWh per second of supply, faults, STOP/RESUME. Time is
// passed in (milliseconds since the epoch), so tests drive it directly.
//
// A charge goes: authorised (waiting for the plug) -> supplying -> finished.
// With a duration the plug is implicit: supply starts at authorisation and
// ends after `duration_s` seconds. Without one it starts at plug() and ends
// at unplug(). A fault, a STOP or an engine restart ends the charge early,
// keeping what was supplied.
//
// Thread-safety: none; owned by one actor.

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace evnet::domain {

class charger {
public:
  // How long an authorised charge waits for the plug before it is dropped.
  static constexpr std::int64_t plug_timeout_ms = 60'000;

  bool configured() const { return config_.has_value(); }
  void configure(protocol::cp_config c) { config_ = std::move(c); }
  const std::optional<protocol::cp_config>& config() const { return config_; }

  // Errors: "not_configured", "broken", "out_of_order", "busy",
  // "bad_duration". A repeated request_id returns the charge it created.
  result<std::string> authorize(const std::string& driver_id, std::int64_t duration_s,
                                const std::string& request_id, std::int64_t now_ms);

  // Errors: "no_charge" (nothing authorised), "already_plugged", "broken".
  status plug(std::int64_t now_ms);
  // Ends a plugged charge ("unplugged"). Errors: "no_charge".
  result<protocol::charge_record> unplug(std::int64_t now_ms);

  // Advances supply to now. Returns the record when the charge ends
  // because its duration is reached; drops an authorisation that waited
  // longer than plug_timeout_ms (no record: nothing was supplied).
  std::optional<protocol::charge_record> tick(std::int64_t now_ms);

  // A fault ends any charge ("engine fault") and refuses new ones until repair().
  std::optional<protocol::charge_record> fault(std::int64_t now_ms);
  void repair();
  bool faulty() const { return faulty_; }

  // STOP ends any charge ("stopped by CENTRAL") and refuses new ones until resume().
  std::optional<protocol::charge_record> stop(std::int64_t now_ms);
  void resume();
  bool stopped() const { return stopped_; }

  // Ends any charge for `reason` (e.g. the Monitor is gone).
  std::optional<protocol::charge_record> end(std::int64_t now_ms, const std::string& reason);

  // Restores a charge that was running when the process died (from the
  // Engine's store). It is ended at once with reason "engine restarted",
  // keeping what had been supplied.
  protocol::charge_record settle_interrupted(const protocol::charge_view& v, std::int64_t started_ms,
                                             std::int64_t now_ms);

  bool charging() const { return current_.has_value(); }
  // The running charge (valid while charging()).
  protocol::charge_view current() const;
  std::int64_t current_started_ms() const;
  std::uint64_t next_telemetry_seq() { return ++telemetry_seq_; }

  // ACTIVE, BUSY, BROKEN or OUT_OF_ORDER, as the Engine sees itself.
  std::string state_name() const;

private:
  struct running {
    std::string charge_id;
    std::string driver_id;
    std::string request_id;
    std::int64_t duration_s = 0;
    std::int64_t authorized_ms = 0;
    std::int64_t plugged_ms = 0;   // 0 until plugged
    std::int64_t supplied_s = 0;   // whole seconds supplied so far
  };

  protocol::charge_record finish(std::int64_t now_ms, const std::string& reason);
  void advance(std::int64_t now_ms);

  std::optional<protocol::cp_config> config_;
  std::optional<running> current_;
  std::string last_request_id_;
  std::string last_charge_id_;
  bool faulty_ = false;
  bool stopped_ = false;
  std::uint64_t telemetry_seq_ = 0;
  std::uint64_t counter_ = 0;
};

} // namespace evnet::domain

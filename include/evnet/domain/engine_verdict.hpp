#pragma once

// The Monitor's verdict on its Engine, from the answers to its health
// checks: OK, KO, or not known yet. Pure: time is passed in (ms), so unit
// tests run it on a simulated clock.
//
//  - The Monitor asks once a second (check_period_ms).
//  - KO when the last good answer is older than silence_ms (2.5 s): two
//    missed checks, so one late reply is not a fault.
//  - KO at once when the Engine answers that it has a fault.
//  - No verdict at all until the Engine had the chance to answer after the
//    Monitor started (silence_ms), so a starting Engine is not called KO.
//  - Every change is reported at once; every answer is reported too, so
//    the screen shows the last check.
//
// Thread-safety: none; owned by the Monitor's machine.

#include "evnet/vocabulary.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace evnet::domain {

// What the Monitor shows and tells Central about its Engine.
struct engine_report {
  bool ok = false;
  std::string detail;              // why not OK; empty when OK
  std::optional<cp_state> state;   // the Engine's own view, while it answers in time
  bool changed = false;            // the verdict (ok, detail) differs from the last one, or is the first
};

class engine_verdict {
public:
  static constexpr std::int64_t check_period_ms = 1000;
  static constexpr std::int64_t silence_ms = 2500;

  // `engine_address` ("host:port") names the Engine in the detail texts.
  engine_verdict(std::string engine_address, std::int64_t started_ms);

  // The Engine answered a health check: always reported.
  engine_report answered(bool engine_ok, cp_state state, std::int64_t now);

  // Time passed: reported only when the verdict changed (or is reached for
  // the first time).
  std::optional<engine_report> evaluate(std::int64_t now);

  bool known() const { return known_; }
  bool ok() const { return known_ && health_ == health::ok; }
  bool ko() const { return known_ && health_ != health::ok; }
  const std::string& detail() const { return detail_; }

private:
  enum class health : std::uint8_t { ok, silent, fault };

  engine_report judge(std::int64_t now);

  std::string engine_address_;
  std::int64_t started_ms_;
  std::optional<std::int64_t> seen_ms_;  // the last answer
  bool reported_ok_ = false;             // what the last answer said
  cp_state state_ = cp_state::active;

  bool known_ = false;
  health health_ = health::silent;
  std::string detail_;
};

} // namespace evnet::domain

#include "evnet/domain/engine_verdict.hpp"

#include <utility>

namespace evnet::domain {

engine_verdict::engine_verdict(std::string engine_address, std::int64_t started_ms)
    : engine_address_(std::move(engine_address)), started_ms_(started_ms) {}

engine_report engine_verdict::answered(bool engine_ok, cp_state state, std::int64_t now) {
  seen_ms_ = now;
  reported_ok_ = engine_ok;
  state_ = state;
  return judge(now);
}

std::optional<engine_report> engine_verdict::evaluate(std::int64_t now) {
  if (!seen_ms_ && now - started_ms_ < silence_ms) {
    return std::nullopt;  // a starting Engine has not had the time to answer yet
  }
  auto report = judge(now);
  if (!report.changed) {
    return std::nullopt;
  }
  return report;
}

engine_report engine_verdict::judge(std::int64_t now) {
  const bool answering = seen_ms_ && now - *seen_ms_ <= silence_ms;
  const health h = !answering ? health::silent : (reported_ok_ ? health::ok : health::fault);
  engine_report r;
  r.ok = h == health::ok;
  if (h == health::silent) {
    r.detail = "no answer from the Engine at " + engine_address_;
  } else if (h == health::fault) {
    r.detail = "the Engine reports a fault";
  }
  if (answering) {
    r.state = state_;
  }
  r.changed = !known_ || h != health_;
  known_ = true;
  health_ = h;
  detail_ = r.detail;
  return r;
}

} // namespace evnet::domain

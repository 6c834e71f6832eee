#pragma once

// Reconnect delays for a DEALER link: reconnect_min doubling on every failed
// attempt up to reconnect_max, each spread by +-20% so that thousands of CPs
// cut off by the same Central restart do not reconnect in lock step.

#include <chrono>
#include <cstdint>
#include <random>

namespace evnet::transport::detail {

class backoff {
public:
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed);

  // The delay before the next attempt; each call counts one more failure.
  std::chrono::milliseconds next();

  // The shortest delay (min, jittered), without counting a failure: for an
  // attempt that cost the server nothing because it never reached it
  // (refused, or no answer to the TCP connect). Growing the wait protects a
  // server that accepts connections and then cannot serve them; one that is
  // down or restarting is probed cheaply and found as soon as it is back.
  std::chrono::milliseconds shortest();

  // A connection worked: start again from `min`.
  void reset() noexcept { failures_ = 0; }

  int failures() const noexcept { return failures_; }

private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937_64 rng_;

  std::chrono::milliseconds delay(int doublings);
};

} // namespace evnet::transport::detail

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

  // A connection worked: start again from `min`.
  void reset() noexcept { failures_ = 0; }

  int failures() const noexcept { return failures_; }

private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

} // namespace evnet::transport::detail

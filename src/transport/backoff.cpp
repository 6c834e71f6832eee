#include "backoff.hpp"

#include <algorithm>

namespace evnet::transport::detail {

namespace {
constexpr double jitter = 0.2;
constexpr int max_doublings = 30;  // 2^30 * 1 ms already exceeds any sane maximum
} // namespace

backoff::backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed)
    : min_(std::max(min, std::chrono::milliseconds{1})), max_(std::max(max, min_)), rng_(seed) {}

std::chrono::milliseconds backoff::next() {
  const auto doublings = std::min(failures_, max_doublings);
  ++failures_;
  return delay(doublings);
}

std::chrono::milliseconds backoff::shortest() {
  return delay(0);
}

std::chrono::milliseconds backoff::delay(int doublings) {
  const auto base = std::min(static_cast<double>(min_.count()) * static_cast<double>(1LL << doublings),
                             static_cast<double>(max_.count()));
  std::uniform_real_distribution<double> spread(1.0 - jitter, 1.0 + jitter);
  // Jitter may only shorten the delay at the cap: reconnect_max is a promise.
  const auto jittered = std::min(base * spread(rng_), static_cast<double>(max_.count()));
  return std::chrono::milliseconds{std::max<std::int64_t>(1, static_cast<std::int64_t>(jittered))};
}

} // namespace evnet::transport::detail

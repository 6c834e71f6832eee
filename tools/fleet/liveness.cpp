#include "liveness.hpp"

#include <algorithm>

namespace evnet::fleet {

liveness::action liveness::due(std::int64_t now, const link_timing& t) const {
  if (phase_ == phase::waiting) {
    return now >= reconnect_at_ ? action::open_socket : action::none;
  }
  if (lost_ || now - last_heard_ >= limit(t)) {
    return action::close_socket;
  }
  if (now + t.slack_us >= next_heartbeat_) {
    return action::send_heartbeat;
  }
  return action::none;
}

std::int64_t liveness::next_deadline(const link_timing& t) const {
  if (phase_ == phase::waiting) {
    return reconnect_at_;
  }
  if (lost_) {
    return last_heard_;
  }
  return std::min(next_heartbeat_ - t.slack_us, last_heard_ + limit(t));
}

std::int64_t liveness::limit(const link_timing& t) const {
  if (phase_ != phase::connecting || handshaken_) {
    return t.silence_us;
  }
  return reached_ ? t.handshake_timeout_us : t.connect_timeout_us;
}

void liveness::reached(std::int64_t now) {
  if (phase_ == phase::connecting && !reached_) {
    reached_ = true;
    last_heard_ = now;
  }
}

void liveness::handshaken(std::int64_t now) {
  if (phase_ == phase::connecting && !handshaken_) {
    reached_ = true;
    handshaken_ = true;
    last_heard_ = now;
  }
}

void liveness::opened(std::int64_t now) {
  phase_ = phase::connecting;
  lost_ = false;
  reached_ = false;
  handshaken_ = false;
  last_heard_ = now;
  next_heartbeat_ = now;
}

std::int64_t liveness::closed(std::int64_t now, const link_timing& t) {
  const bool never_up = !ever_up_;
  const bool reached_server = reached_ || lost_ || phase_ == phase::up;
  phase_ = phase::waiting;
  lost_ = false;
  reached_ = false;
  handshaken_ = false;
  // Only an attempt that reached the server counts as a failure.
  const int doublings = reached_server ? std::min(failures_, 30) : 0;
  if (reached_server) {
    ++failures_;
  }
  const double base = std::min(static_cast<double>(t.reconnect_min_us) * static_cast<double>(1LL << doublings),
                               static_cast<double>(t.reconnect_max_us));
  const double spread = 0.8 + 0.4 * static_cast<double>(next_random() >> 11) * 0x1.0p-53;
  auto wait = static_cast<std::int64_t>(std::min(base * spread, static_cast<double>(t.reconnect_max_us)));
  if (never_up) {
    wait = std::min(wait, t.connect_retry_max_us);
  }
  wait = std::max<std::int64_t>(wait, 1000);
  reconnect_at_ = now + wait;
  return wait;
}

bool liveness::heard(std::int64_t now) {
  if (phase_ == phase::waiting) {
    return false;
  }
  last_heard_ = now;
  if (phase_ == phase::up) {
    return false;
  }
  phase_ = phase::up;
  ever_up_ = true;
  failures_ = 0;
  return true;
}

std::uint64_t liveness::next_random() {
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace evnet::fleet

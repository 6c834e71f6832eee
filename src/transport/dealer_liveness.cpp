#include "dealer_liveness.hpp"

#include <algorithm>

namespace evnet::transport::detail {

namespace {
constexpr milliseconds max_heartbeat_slack{50};
} // namespace

dealer_timing dealer_timing_for(const options& o) {
  dealer_timing t;
  t.heartbeat_interval = std::max(o.heartbeat_interval, milliseconds{1});
  t.silence_limit = t.heartbeat_interval * std::max(o.liveness, 1);
  // A tenth of the interval, so that early heartbeats never eat the margin
  // between the longest tolerated pause and the silence limit.
  t.heartbeat_slack = std::clamp(t.heartbeat_interval / 10, milliseconds{0}, max_heartbeat_slack);
  t.reconnect_min = std::max(o.reconnect_min, milliseconds{1});
  t.reconnect_max = std::max(o.reconnect_max, t.reconnect_min);
  t.connect_timeout = std::min(t.heartbeat_interval * 2, t.silence_limit);
  t.connect_retry_max = std::clamp(t.reconnect_min * 2, t.reconnect_min, t.reconnect_max);
  t.handshake_timeout = std::max(o.handshake_timeout, t.connect_timeout);
  return t;
}

dealer_liveness::dealer_liveness(const dealer_timing& timing, std::uint64_t seed)
    : timing_(timing), retry_(timing.reconnect_min, timing.reconnect_max, seed) {}

milliseconds dealer_liveness::silence_limit() const {
  if (phase_ != phase::connecting || handshaken_) {
    return timing_.silence_limit;
  }
  return reached_ ? timing_.handshake_timeout : timing_.connect_timeout;
}

dealer_liveness::action dealer_liveness::due(time_point now) const {
  if (phase_ == phase::waiting) {
    return now >= reconnect_at_ ? action::open_socket : action::none;
  }
  if (lost_ || now - last_heard_ >= silence_limit()) {
    return action::close_socket;
  }
  if (now + timing_.heartbeat_slack >= next_heartbeat_) {
    return action::send_heartbeat;
  }
  return action::none;
}

time_point dealer_liveness::next_deadline() const {
  if (phase_ == phase::waiting) {
    return reconnect_at_;
  }
  if (lost_) {
    return last_heard_;  // due already
  }
  return std::min(next_heartbeat_, last_heard_ + silence_limit());
}

void dealer_liveness::opened(time_point now) {
  phase_ = phase::connecting;
  lost_ = false;
  reached_ = false;
  handshaken_ = false;
  ++attempt_;
  last_heard_ = now;  // the silence of this attempt starts now
  next_heartbeat_ = now;
}

void dealer_liveness::heartbeat_sent(time_point now) {
  next_heartbeat_ = now + timing_.heartbeat_interval;
}

void dealer_liveness::reached(time_point now) {
  if (phase_ == phase::connecting && !reached_) {
    reached_ = true;
    last_heard_ = now;
  }
}

void dealer_liveness::handshaken(time_point now) {
  if (phase_ == phase::connecting && !handshaken_) {
    reached_ = true;
    handshaken_ = true;
    last_heard_ = now;
  }
}

milliseconds dealer_liveness::closed(time_point now) {
  // Until a server has answered once, keep looking for it often: clients
  // may start before their server (a Monitor before its Engine). Once a
  // session has existed, a lost server is retried with the full backoff.
  const bool never_up = !ever_up_;
  // A closed connection was accepted first, like a silence after `up`.
  const bool reached_server = reached_ || lost_ || phase_ == phase::up;
  phase_ = phase::waiting;
  lost_ = false;
  reached_ = false;
  handshaken_ = false;
  auto wait = reached_server ? retry_.next() : retry_.shortest();
  if (never_up) {
    wait = std::min(wait, timing_.connect_retry_max);
  }
  reconnect_at_ = now + wait;
  return wait;
}

bool dealer_liveness::restart(time_point now) {
  const bool was_up = up();
  phase_ = phase::waiting;
  lost_ = false;
  reached_ = false;
  handshaken_ = false;
  retry_.reset();
  attempt_ = 0;
  reconnect_at_ = now;
  return was_up;
}

void dealer_liveness::lost() {
  if (phase_ != phase::waiting) {
    lost_ = true;
    reached_ = true;  // only an accepted connection can close
  }
}

bool dealer_liveness::heard(time_point now) {
  if (phase_ == phase::waiting) {
    return false;  // no socket: nothing can have been heard on it
  }
  last_heard_ = now;
  if (phase_ == phase::up) {
    return false;
  }
  phase_ = phase::up;
  ever_up_ = true;
  retry_.reset();
  attempt_ = 0;
  return true;
}

} // namespace evnet::transport::detail

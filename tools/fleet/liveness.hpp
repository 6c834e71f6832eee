#pragma once

// One simulated DEALER link's liveness, the way evnet's transport keeps it
// (src/transport/dealer_liveness.*; the Paranoid Pirate pattern), on time
// passed in as microseconds of a monotonic clock:
//  - a fresh socket sends a heartbeat at once and every 500 ms after;
//  - any inbound frame proves the server alive; the first one makes the
//    link `up` (the application says hello then);
//  - silence for 3 s, or the TCP connection closing, closes the socket; an
//    attempt gets 1 s for its TCP connect to be accepted, then 30 s for the
//    CURVE handshake, then 3 s for the first answer (the socket monitor
//    says how far it got: a slow handshake is waited for, not abandoned);
//  - the next socket opens after a backoff of 1 s doubling to 32 s, +-20%
//    jitter (at most 2 s while the link was never up), so that thousands
//    of CPs cut off by one Central restart do not come back in lock step;
//    an attempt that never reached the server (refused, unanswered) does
//    not count: a Central that is down is probed every second.
// Central cannot tell a fleet CP from a real one by its liveness traffic.
//
// Thread-safety: none; a plain value owned by the fleet's I/O loop.

#include <cstdint>

namespace evnet::fleet {

struct link_timing {
  std::int64_t heartbeat_us = 500'000;
  std::int64_t silence_us = 3'000'000;          // 6 x 500 ms
  std::int64_t connect_timeout_us = 1'000'000;  // 2 x heartbeat, while never heard
  std::int64_t handshake_timeout_us = 30'000'000;  // accepted, handshake under way
  std::int64_t connect_retry_max_us = 2'000'000;
  std::int64_t slack_us = 50'000;               // heartbeats due this soon go now
  std::int64_t reconnect_min_us = 1'000'000;
  std::int64_t reconnect_max_us = 32'000'000;
};

class liveness {
public:
  enum class phase : std::uint8_t { waiting, connecting, up };
  enum class action : std::uint8_t { none, open_socket, send_heartbeat, close_socket };

  // Starts `waiting`, with the first open due at `first_open`.
  liveness(std::uint64_t seed, std::int64_t first_open) : rng_(seed), reconnect_at_(first_open) {}

  action due(std::int64_t now, const link_timing& t) const;
  std::int64_t next_deadline(const link_timing& t) const;

  void opened(std::int64_t now);
  void heartbeat_sent(std::int64_t now, const link_timing& t) { next_heartbeat_ = now + t.heartbeat_us; }
  // The socket is gone; returns the backoff before the next open.
  std::int64_t closed(std::int64_t now, const link_timing& t);
  // An inbound frame; true on the edge to `up`.
  bool heard(std::int64_t now);
  // The socket monitor: the TCP connect was accepted, the handshake
  // succeeded. Each restarts the attempt's clock with its stage's limit.
  void reached(std::int64_t now);
  void handshaken(std::int64_t now);
  // The TCP connection closed: the close is due at once.
  void lost() {
    if (phase_ != phase::waiting) {
      lost_ = true;
      reached_ = true;
    }
  }

  phase state() const { return phase_; }
  bool up() const { return phase_ == phase::up; }
  bool has_socket() const { return phase_ != phase::waiting; }
  bool connection_lost() const { return lost_; }

private:
  std::uint64_t next_random();
  std::int64_t limit(const link_timing& t) const;

  std::uint64_t rng_;
  phase phase_ = phase::waiting;
  bool lost_ = false;
  bool reached_ = false;
  bool handshaken_ = false;
  bool ever_up_ = false;
  int failures_ = 0;
  std::int64_t last_heard_ = 0;
  std::int64_t next_heartbeat_ = 0;
  std::int64_t reconnect_at_ = 0;
};

} // namespace evnet::fleet

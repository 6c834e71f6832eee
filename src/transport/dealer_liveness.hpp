#pragma once

// The client half of the Paranoid Pirate pattern for one DEALER link, as a
// state machine on time passed in by the caller. Nothing here reads a clock,
// touches a socket or reports anything: the transport thread reads the clock
// once per loop turn, asks what is due, does it (send a heartbeat, close the
// socket, open a new one, report `connected`/`disconnected`) and says so.
// That keeps every timing decision testable on simulated time.
//
//   waiting ──open due──▶ connecting ──first inbound frame──▶ up
//      ▲                      │                                │
//      └──── backoff ◀────────┴── silent for silence_limit ◀───┘
//                                 (or its TCP connection closed,
//                                  or a reconnect requested)
//
// `connecting` gives an attempt as long as its stage deserves: a TCP connect
// nobody answers is abandoned after connect_timeout (the server is down or
// unreachable; look again soon), but once the server accepted the TCP
// connection its CURVE handshake may take up to handshake_timeout (a server
// under a reconnect storm works through thousands of them: abandoning one
// half done wastes the work and queues a new one), and once the handshake
// succeeded the server has silence_limit to answer. Only attempts that
// reached the server grow the backoff: probing a server that is down costs
// it nothing, so a restarted server is found within about reconnect_min.
//
// `connecting` and `up` own a socket; `waiting` has none. Only `up` carries
// application frames (see session_gate).
//
// Thread-safety: none; owned by the transport thread.

#include "backoff.hpp"

#include "evnet/transport.hpp"

#include <chrono>
#include <cstdint>

namespace evnet::transport::detail {

using std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

struct dealer_timing {
  milliseconds heartbeat_interval{1000};
  milliseconds silence_limit{3000};  // heartbeat_interval x liveness
  // A socket that has not heard its server yet gives up sooner: a live
  // server answers the first heartbeat within milliseconds, and a server
  // started after its clients must be found soon, not after a long backoff.
  milliseconds connect_timeout{1000};  // 2 x heartbeat_interval, at most silence_limit
  milliseconds connect_retry_max{2000};  // backoff cap while never connected
  // From the server's TCP accept to the end of the CURVE handshake; libzmq's
  // own ZMQ_HANDSHAKE_IVL is set to the same, so both give up together.
  milliseconds handshake_timeout{30000};
  // Heartbeats due this soon go out now: a process with many DEALER links
  // then wakes a few times per interval, not once per link.
  milliseconds heartbeat_slack{50};
  milliseconds reconnect_min{1000};
  milliseconds reconnect_max{32000};
};

// The timing the transport derives from its options (sanitised: no zero
// intervals, liveness at least 1).
dealer_timing dealer_timing_for(const options& o);

class dealer_liveness {
public:
  enum class phase : std::uint8_t { waiting, connecting, up };
  enum class action : std::uint8_t { none, open_socket, send_heartbeat, close_socket };

  // Starts `waiting` with an open due at once.
  dealer_liveness(const dealer_timing& timing, std::uint64_t seed);

  // The one thing due at `now`; ask again after doing it and reporting it
  // (opened / heartbeat_sent / closed), until `none`.
  action due(time_point now) const;

  // When due() next has something to say if no frame arrives: the caller's
  // poll deadline.
  time_point next_deadline() const;

  // A fresh socket exists: `connecting`. A heartbeat is due at once so that
  // the server's answer, our `connected`, comes without waiting an interval.
  void opened(time_point now);

  void heartbeat_sent(time_point now);

  // The socket monitor's news about the current attempt: the server accepted
  // the TCP connection (ZMQ_EVENT_CONNECTED), then the ZMTP/CURVE handshake
  // succeeded (ZMQ_EVENT_HANDSHAKE_SUCCEEDED). Each restarts the attempt's
  // silence clock with the limit of the new stage. No-op unless `connecting`.
  void reached(time_point now);
  void handshaken(time_point now);

  // The socket is gone (silence, a failed open): `waiting` for the backoff
  // delay, which is returned for the report. An attempt that never reached
  // the server waits the shortest delay and does not count as a failure.
  milliseconds closed(time_point now);

  // The socket's TCP connection closed (the socket monitor said so): the
  // close is due at once, like a silence that reached its limit. The wait
  // after it is the usual backoff, so after a session that was up the first
  // attempt comes after reconnect_min (with jitter), and a server that keeps
  // dropping us is not hammered. No-op while `waiting`.
  void lost();
  bool connection_lost() const noexcept { return lost_; }

  // The application asked for a clean session: `waiting`, the backoff and the
  // attempt count start again, and the open is due at once. Returns whether
  // the link was up (then the caller reports `disconnected`).
  bool restart(time_point now);

  // Any inbound frame proves the server alive. True on the edge to `up`: the
  // caller reports `connected` (and the backoff starts again from the minimum).
  bool heard(time_point now);

  phase state() const noexcept { return phase_; }
  bool up() const noexcept { return phase_ == phase::up; }
  bool has_socket() const noexcept { return phase_ != phase::waiting; }
  // Sockets opened since the link was last up (1 for the first attempt).
  int attempt() const noexcept { return attempt_; }
  time_point reconnect_at() const noexcept { return reconnect_at_; }
  time_point last_heard() const noexcept { return last_heard_; }
  const dealer_timing& timing() const noexcept { return timing_; }

private:
  dealer_timing timing_;
  backoff retry_;
  phase phase_ = phase::waiting;
  int attempt_ = 0;
  time_point last_heard_{};
  time_point next_heartbeat_{};
  time_point reconnect_at_{};
  bool ever_up_ = false;  // this link has had a session
  bool lost_ = false;     // the current socket's connection closed
  bool reached_ = false;  // the current attempt's TCP connection was accepted
  bool handshaken_ = false;  // ... and its handshake succeeded

  milliseconds silence_limit() const;  // of the current phase
};

} // namespace evnet::transport::detail

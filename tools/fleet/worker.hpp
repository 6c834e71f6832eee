#pragma once

// One fleet worker process: a slice of the CPs and drivers (plan.hpp), their
// sockets in one ZeroMQ context with one I/O thread, one epoll loop on one
// thread. It takes commands on a pipe (one per line) and reports JSON lines
// on another; the fleet's parent (supervisor.hpp) merges the workers'.
//
// Commands:
//   go            start the plan (time 0 of the plan is now); the window
//                 counters start too
//   window        report what happened since `go` or the last `window`
//                 (requests, answers, latencies, this process's CPU), then
//                 start a new window
//   blast K       ingest blast: every authenticated Monitor sends K
//                 cp_status at once (as fast as the sockets take them), then
//                 a marker (cp_auth) that Central answers; reported when
//                 every marker is answered
//   storm T0      T0 = CLOCK_MONOTONIC ns of a Central kill: reported when
//                 every CP has both links authenticated again after T0, and
//                 every driver has been introduced again
//   drain         no new requests; reported when every request is answered,
//                 every charge ended, every record acknowledged and every
//                 ticket received (or after the longest charge + 40 s)
//   books         the final books: counters, lost, doubled (and the records
//                 file, when a books directory was given)
//   quit
// Reports: progress (every second), ready (once: every CP and driver of
// the slice introduced, drivers on the stream), window, blast, storm,
// drained, books, limit (a machine limit hit, e.g. out of file descriptors).
//
// Thread-safety: a worker is its process's only thread besides libzmq's.

#include "naming.hpp"
#include "plan.hpp"
#include "cp_sim.hpp"
#include "setup.hpp"

#include <cstdint>
#include <string>

namespace evnet::fleet {

struct worker_settings {
  int index = 0;
  slice share;
  plan_settings plan;
  naming names;
  sim_context ctx;
  std::string host = "127.0.0.1";
  std::uint16_t port = 7000;
  const fleet_keys* keys = nullptr;  // nullptr: plaintext (--insecure)
  int control_fd = -1;
  int report_fd = -1;
  std::string books_dir;             // records-<index>.txt goes there ("": none)
  int io_threads = 1;
  int heartbeat_ms = 500;
  // Connection attempts (socket opened, server not heard yet) in flight at
  // once, at most; a link due to open waits for a slot. Our CPs share this
  // process's CPU, real ones do not: without a bound, thousands of CURVE
  // handshakes (milliseconds of CPU each, on both sides) started together
  // miss their 1 s connect timeout, are retried, and the retries starve each
  // other. Within this bound the window adapts like TCP's congestion window:
  // +1 per connection that came up, halved (at most once a second) when an
  // attempt times out, so that attempts stay within what completes in time.
  int max_connecting = 200;
  // Sockets this process may hold (ZMQ_MAX_SOCKETS): closed sockets linger
  // until libzmq's reaper frees them, so allow more than the links.
  int max_sockets = 0;
};

// Runs until `quit` (or the control pipe closes). Returns the exit status.
int run_worker(const worker_settings& s);

} // namespace evnet::fleet

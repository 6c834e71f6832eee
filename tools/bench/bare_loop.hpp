#pragma once

// The physical limit of our stack on this machine: a bare ZeroMQ ROUTER
// (CURVE server with Central's key, no ZAP: every key is admitted, as
// libzmq does without a handler; 2 I/O threads like Central; a listen
// backlog of 4096, see bare_loop.cpp) and a PUB
// beside it, in one loop that decodes every frame with protocol::decode
// and answers only what a client needs to stay connected: heartbeats (the
// pre-encoded frame), cp_auth (cp_auth_reply ok), engine_hello and
// driver_hello (ack), snapshot_request (an empty snapshot naming the PUB
// port); a stream_heartbeat is published every second. No model, no store,
// no actor. ev_bench runs it as `ev_bench --bare PORT [--keys DIR |
// --insecure]` under the same fleet as Central, so that the two share every
// condition but Central's own work.
//
// Thread-safety: runs on the calling thread until SIGTERM/SIGINT.

#include <cstdint>
#include <string>

namespace evnet::bench {

// Returns the exit status.
int run_bare(std::uint16_t port, const std::string& keys_dir, bool insecure);

} // namespace evnet::bench

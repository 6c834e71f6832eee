#pragma once

// One ev_bench run at N CPs, every figure from the same run:
//  1. setup: a temporary directory with the seed (N CPs, M drivers), every
//     key pair, the keys registered in a fresh store (ev_fleet's setup);
//  2. the bare loop (bare_loop.hpp) under an ev_fleet holding the same
//     connections (no requests): time until every CP is in, then an ingest
//     blast (every Monitor sends K cp_status, then a marker each must have
//     answered) -> bare_ingest_per_s; its RSS -> bare_rss_mib;
//  3. a real EV_Central on the same store under a new ev_fleet with
//     requests: time until every CP is in (auth_all_s); `go`; S seconds of
//     steady load -> Central's CPU (from /proc/<pid>/stat) and RSS, the
//     window's latencies and refusals; the same blast -> ingest_per_s;
//     kill -9 and restart on the same store -> reconnect_s (until every CP
//     has both links authenticated again); drain; the fleet's books, then
//     Central's store read back -> lost and doubled.
// A figure that could not be measured is null, with a note saying why;
// nothing here ever fails on time.
//
// Thread-safety: none.

#include "evnet/json.hpp"

#include <cstdint>
#include <string>

namespace evnet::bench {

struct bench_settings {
  int cps = 1000;
  int drivers = 100;
  double rate = 100.0;
  double seconds = 10.0;
  std::int64_t min_duration_s = 3;
  std::int64_t max_duration_s = 6;
  double fault_rate = 0.0;
  std::uint64_t seed = 1;
  bool insecure = false;
  int blast = 0;  // cp_status per Monitor in the blast; 0: about 25,000 messages in all
  std::string central_path;
  std::string fleet_path;
  std::string self_path;  // ev_bench itself, for --bare
  bool keep = false;      // keep the temporary directory
  bool skip_bare = false;
  bool skip_storm = false;
  bool verbose = true;    // phase lines on stderr
  int heartbeat_ms = 500; // the fleet's DEALER heartbeat interval (the transport's: 500)
};

json::object run_bench(const bench_settings& s);

} // namespace evnet::bench

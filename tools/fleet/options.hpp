#pragma once

// ev_fleet's command line, and the machine's limits it must fit in.
//
//   ev_fleet --cps N --drivers M [--rate R] [--duration MIN[-MAX]]
//            [--fault-rate F] [--seed S] [--central HOST:PORT]
//            [--keys DIR | --insecure] [--seconds S] [--json] [--control]
//            [--workers K] [--books DIR] [--io-threads T] [--max-connecting C]
//            [--cp-prefix P] [--driver-prefix P]
//   ev_fleet --setup DIR --cps N --drivers M [--insecure] [prefixes]
//
// Thread-safety: plain values and pure functions (plus reads of /proc).

#include "evnet/result.hpp"

#include <cstdint>
#include <string>

namespace evnet::fleet {

struct fleet_options {
  int cps = 100;
  int drivers = 10;
  double rate = 0.0;                 // requests per second
  std::int64_t min_duration_s = 3;
  std::int64_t max_duration_s = 6;
  double fault_rate = 0.0;           // faults per second
  std::uint64_t seed = 1;
  std::string host = "127.0.0.1";
  std::uint16_t port = 7000;
  std::string keys_dir = "var/keys";
  bool insecure = false;
  double seconds = 10.0;
  bool json = false;
  bool control = false;              // commands on stdin (ev_bench); otherwise run, drain, report, exit
  int workers = 0;                   // 0: as many as the fd limit needs
  std::string books_dir;
  int io_threads = 1;
  int heartbeat_ms = 500;            // the transport's heartbeat_interval; silence = 6 x it
  int max_connecting = 200;          // connection attempts in flight per worker, at most
  std::string cp_prefix = "FC";
  std::string driver_prefix = "FD";
  std::string setup_dir;             // --setup DIR
  bool help = false;
};

extern const char* const fleet_usage;

result<fleet_options> parse_fleet_options(int argc, char** argv);

// "HOST:PORT", "[v6]:PORT" or "v6:PORT" (the last colon splits).
status parse_host_port(const std::string& text, std::string& host, std::uint16_t& port);

// What one process may hold and how many processes the fleet needs.
struct fd_budget {
  long limit = 0;             // RLIMIT_NOFILE (soft, raised to the hard limit when allowed)
  long per_worker = 0;        // usable for sockets, with a margin
  long needed = 0;            // 4 per CP (two sockets, each a TCP fd and a mailbox fd), 4 per driver
  int workers = 1;
};
fd_budget plan_fd_budget(int cps, int drivers, int at_least);

// The machine's limits the fleet checks before it starts; empty when it fits.
struct machine_check {
  std::string blocking;  // why the fleet cannot run here ("" when it can)
  std::string warning;   // close to a limit
};
machine_check check_machine(int cps, int drivers, int workers);

} // namespace evnet::fleet

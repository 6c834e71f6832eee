// ev_bench: how EV_Central holds up under a city of simulated CPs and
// drivers (ev_fleet), against the physical limit of our stack (a bare
// ZeroMQ ROUTER + MessagePack loop), every figure from one run. See
// scenario.hpp for the steps and docs/PERFORMANCE.md for the method.

#include "bare_loop.hpp"
#include "process.hpp"
#include "report.hpp"
#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

constexpr const char* usage =
    "usage: ev_bench --cps N [--drivers M] [--rate R] [--seconds S] [--json] [--central PATH]\n"
    "                [--chart FILE.svg] [--sweep N1,N2,...] [--duration MIN[-MAX]] [--fault-rate F]\n"
    "                [--seed S] [--blast K] [--heartbeat-ms H] [--insecure] [--keep] [--no-bare]\n"
    "                [--no-storm] [--quiet]\n"
    "       ev_bench --bare PORT [--keys DIR | --insecure]\n"
    "\n"
    "  Runs N simulated CPs and M drivers (ev_fleet, next to this program) first\n"
    "  against a bare ZeroMQ ROUTER + MessagePack loop, then against a real EV_Central\n"
    "  (found in the build tree, or --central PATH): start-up, S seconds of load at R\n"
    "  requests/s, an ingest blast, a kill -9 and restart, a drain; then prints a table\n"
    "  (or with --json one JSON object) of latencies, CPU, memory, ingest, reconnect time,\n"
    "  lost and doubled charges. Defaults: M = N/10 (2..500), R = M, S = 10.\n"
    "  --sweep 100,1000,5000  one run per N (M and R scaled unless given), JSON lines\n"
    "  --chart FILE.svg       add the run(s) to FILE.dat (one row per N) and draw FILE.svg\n"
    "                         with gnuplot: memory and CPU per CP, p99 latencies against N\n"
    "  --blast K              cp_status per Monitor in the ingest blast (default ~25,000 in all)\n"
    "  --heartbeat-ms H       the simulated links' heartbeat interval (default 500, the\n"
    "                         transport's): to see what liveness traffic costs\n"
    "  --keep                 keep the temporary directory (logs, store, keys, fleet lines)\n"
    "A benchmark: it never fails on time. Exit status 2 on bad arguments, 1 when it\n"
    "cannot run at all (no EV_Central, no ev_fleet).\n";

int bad(const std::string& problem) {
  std::fprintf(stderr, "ev_bench: %s\n\n%s", problem.c_str(), usage);
  return 2;
}

double number(const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !std::isfinite(d) || d < 0) {
    throw std::invalid_argument(v);
  }
  return d;
}

} // namespace

int main(int argc, char** argv) {
  using namespace evnet::bench;
  bench_settings s;
  bool json_out = false;
  std::string chart;
  std::vector<int> sweep;
  int bare_port = -1;
  std::string keys_dir = "var/keys";
  bool drivers_given = false;
  bool rate_given = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string opt = argv[i];
      if (opt == "--json") {
        json_out = true;
      } else if (opt == "--insecure") {
        s.insecure = true;
      } else if (opt == "--keep") {
        s.keep = true;
      } else if (opt == "--no-bare") {
        s.skip_bare = true;
      } else if (opt == "--no-storm") {
        s.skip_storm = true;
      } else if (opt == "--quiet") {
        s.verbose = false;
      } else if (opt == "--help") {
        std::printf("%s", usage);
        return 0;
      } else if (i + 1 >= argc) {
        return bad(opt + " needs a value");
      } else {
        const std::string v = argv[++i];
        if (opt == "--cps") {
          s.cps = static_cast<int>(number(v));
        } else if (opt == "--drivers") {
          s.drivers = static_cast<int>(number(v));
          drivers_given = true;
        } else if (opt == "--rate") {
          s.rate = number(v);
          rate_given = true;
        } else if (opt == "--seconds") {
          s.seconds = number(v);
        } else if (opt == "--fault-rate") {
          s.fault_rate = number(v);
        } else if (opt == "--seed") {
          s.seed = static_cast<std::uint64_t>(number(v));
        } else if (opt == "--heartbeat-ms") {
          s.heartbeat_ms = std::max(10, static_cast<int>(number(v)));
        } else if (opt == "--blast") {
          s.blast = static_cast<int>(number(v));
        } else if (opt == "--duration") {
          const auto dash = v.find('-');
          s.min_duration_s = static_cast<std::int64_t>(number(v.substr(0, dash)));
          s.max_duration_s =
              dash == std::string::npos ? s.min_duration_s : static_cast<std::int64_t>(number(v.substr(dash + 1)));
          if (s.min_duration_s < 1 || s.max_duration_s < s.min_duration_s) {
            return bad("--duration wants MIN[-MAX] with 1 <= MIN <= MAX");
          }
        } else if (opt == "--central") {
          s.central_path = v;
        } else if (opt == "--chart") {
          chart = v;
        } else if (opt == "--keys") {
          keys_dir = v;
        } else if (opt == "--bare") {
          bare_port = static_cast<int>(number(v));
        } else if (opt == "--sweep") {
          std::istringstream list{v};
          for (std::string n; std::getline(list, n, ',');) {
            sweep.push_back(static_cast<int>(number(n)));
          }
        } else {
          return bad("unknown option " + opt);
        }
      }
    }
  } catch (const std::exception&) {
    return bad("a value is not a non-negative number");
  }
  if (bare_port >= 0) {
    if (bare_port < 1 || bare_port > 65534) {
      return bad("--bare wants a port below 65535");
    }
    return run_bare(static_cast<std::uint16_t>(bare_port), keys_dir, s.insecure);
  }
  const std::string here = own_directory();
  s.self_path = here + "/ev_bench";
  s.fleet_path = here + "/ev_fleet";
  if (s.central_path.empty()) {
    s.central_path = std::filesystem::weakly_canonical(here + "/../src/central/EV_Central").string();
  }
  for (const auto* path : {&s.central_path, &s.fleet_path}) {
    if (::access(path->c_str(), X_OK) != 0) {
      std::fprintf(stderr, "ev_bench: cannot run %s (build it, or give --central PATH)\n", path->c_str());
      return 1;
    }
  }
  if (sweep.empty()) {
    sweep.push_back(s.cps);
  }
  std::vector<evnet::json::object> runs;
  for (const int n : sweep) {
    bench_settings one = s;
    one.cps = std::max(n, 1);
    if (!drivers_given) {
      one.drivers = std::clamp(one.cps / 10, 2, 500);
    }
    if (!rate_given) {
      one.rate = one.drivers;
    }
    auto r = run_bench(one);
    if (json_out) {
      std::printf("%s\n", evnet::json::dump(evnet::json::value(r)).c_str());
      std::fflush(stdout);
    } else {
      print_table(r);
    }
    runs.push_back(std::move(r));
  }
  if (!chart.empty()) {
    std::fprintf(stderr, "ev_bench: %s\n", draw_chart(chart, runs).c_str());
  }
  return 0;
}

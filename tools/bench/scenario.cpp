#include "scenario.hpp"

#include "fleet_client.hpp"
#include "process.hpp"
#include "store_check.hpp"

#include "naming.hpp"
#include "setup.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace evnet::bench {

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::seconds;

void say(const bench_settings& s, const std::string& text) {
  if (s.verbose) {
    std::fprintf(stderr, "ev_bench: %s\n", text.c_str());
  }
}

std::string fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A port P with P and P+1 free, below the ephemeral range (so that no
// outgoing connection of the fleet takes it meanwhile).
std::uint16_t pick_port() {
  std::mt19937 rng{std::random_device{}()};
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int p = std::uniform_int_distribution<int>(20000, 31000)(rng);
    if (port_free(p) && port_free(p + 1)) {
      return static_cast<std::uint16_t>(p);
    }
  }
  return 0;
}

std::int64_t wall_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The `ts` of every `started` line Central wrote so far.
std::vector<std::int64_t> started_lines(const std::string& path) {
  std::vector<std::int64_t> out;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"event\":\"started\"") == std::string::npos) {
      continue;
    }
    auto v = json::parse(line);
    if (v && json::find(*v, "ts") != nullptr && (*v)["ts"].is_number_integer()) {
      out.push_back((*v)["ts"].get<std::int64_t>());
    }
  }
  return out;
}

// Waits until Central has written its `count`-th started line.
bool wait_started(const std::string& path, child_process& c, std::size_t count, seconds timeout) {
  const auto deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  while (monotonic_ns() < deadline) {
    if (started_lines(path).size() >= count) {
      return true;
    }
    if (wait_exit(c, 0ms)) {
      return false;  // it ended
    }
    ::usleep(20'000);
  }
  return false;
}

double num(const json::value& v, const char* key, double fallback = 0.0) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->is_number() ? f->get<double>() : fallback;
}

// The 1-minute load average: other work on the machine skews every figure.
double load_average() {
  std::ifstream in{"/proc/loadavg"};
  double one = -1.0;
  in >> one;
  return one;
}

std::uint64_t count(const json::value& v, const char* key) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->is_number_unsigned() ? f->get<std::uint64_t>() : 0;
}

// The ingest blast, up to three times (the best counts: a peak, on a machine
// other work shares); stops early when one takes over 5 s. nullopt when no
// blast was answered.
std::optional<json::value> best_blast(fleet_client& f, int per_monitor, std::vector<std::string>& notes,
                                      const std::string& phase) {
  std::optional<json::value> best;
  for (int round = 0; round < 3; ++round) {
    f.send("blast " + std::to_string(per_monitor));
    auto b = f.wait_for("blast", std::chrono::seconds{300});
    if (!b) {
      notes.push_back(phase + " blast: no answer within 300 s");
      break;
    }
    if (count(*b, "missing") > 0) {
      notes.push_back(phase + " blast: " + std::to_string(count(*b, "missing")) +
                      " markers unanswered (connection lost)");
    }
    if (!best || num(*b, "per_s") > num(*best, "per_s")) {
      best = *b;
    }
    if (num(*b, "seconds") > 5.0) {
      break;
    }
    f.pump(std::chrono::milliseconds{500});
  }
  return best;
}

} // namespace

json::object run_bench(const bench_settings& s) {
  json::object r;
  std::vector<std::string> notes;
  // Every field exists from the start; one that could not be measured stays null.
  for (const char* key :
       {"requests_per_s", "auth_p50_ms", "auth_p99_ms", "auth_max_ms", "telemetry_p50_ms", "telemetry_p99_ms",
        "telemetry_max_ms", "ingest_per_s", "bare_ingest_per_s", "central_cpu_pct", "central_rss_mib",
        "bare_rss_mib", "reconnect_s", "drivers_reconnect_s", "central_restart_s", "lost", "doubled", "refused",
        "refused_by_reason", "requests", "authorized", "unanswered", "tickets", "charges", "auth_all_s",
        "bare_auth_all_s", "cps_authenticated", "central_rss_per_cp_kib", "bare_rss_per_cp_kib",
        "central_cpu_pct_per_1000_cps", "rss_ratio", "ingest_ratio", "fleet_cpu_pct", "fleet_workers",
        "stale_views", "store_charges", "unsettled"}) {
    r[key] = nullptr;
  }
  r["cps"] = s.cps;
  r["drivers"] = s.drivers;
  r["rate"] = s.rate;
  r["seconds"] = s.seconds;
  r["duration_s"] = std::to_string(s.min_duration_s) + "-" + std::to_string(s.max_duration_s);
  r["fault_rate"] = s.fault_rate;
  r["seed"] = s.seed;
  r["curve"] = !s.insecure;
  r["heartbeat_ms"] = s.heartbeat_ms;
  r["cores"] = static_cast<long>(::sysconf(_SC_NPROCESSORS_ONLN));
  r["load_before"] = load_average();
  // About 25,000 messages: long enough to measure, short enough that the
  // heartbeats queued behind them are answered before a 3 s silence.
  const int blast = s.blast > 0 ? s.blast : std::clamp(25'000 / std::max(s.cps, 1), 5, 1000);
  r["blast_per_monitor"] = blast;

  char dir_template[] = "/tmp/ev-bench-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    notes.push_back("cannot make a temporary directory");
    r["notes"] = notes;
    return r;
  }
  const std::string dir = dir_template;
  const std::string keys = dir + "/keys";
  say(s, "setting up " + std::to_string(s.cps) + " CPs and " + std::to_string(s.drivers) + " drivers in " + dir);
  fleet::setup_settings set;
  set.dir = dir;
  set.cps = s.cps;
  set.drivers = s.drivers;
  set.names = fleet::naming::for_counts(s.cps, s.drivers);
  set.curve = !s.insecure;
  if (auto st = fleet::write_setup(set); !st) {
    notes.push_back("setup failed: " + st.err().message);
    r["notes"] = notes;
    return r;
  }

  auto fleet_args = [&](std::uint16_t port, double rate, const std::string& books) {
    std::vector<std::string> a{s.fleet_path, "--control", "--json", "--cps", std::to_string(s.cps), "--drivers",
                               std::to_string(s.drivers), "--rate", std::to_string(rate), "--duration",
                               std::to_string(s.min_duration_s) + "-" + std::to_string(s.max_duration_s),
                               "--fault-rate", std::to_string(s.fault_rate), "--seed", std::to_string(s.seed),
                               "--central", "127.0.0.1:" + std::to_string(port), "--heartbeat-ms",
                               std::to_string(s.heartbeat_ms)};
    if (s.insecure) {
      a.emplace_back("--insecure");
    } else {
      a.emplace_back("--keys");
      a.push_back(keys);
    }
    if (!books.empty()) {
      a.emplace_back("--books");
      a.push_back(books);
    }
    return a;
  };
  // Bounds on waits, never targets: generous, and growing with N.
  const auto ready_timeout = seconds{60 + s.cps / 20};
  const auto storm_timeout = seconds{60 + s.cps / 20};

  // ---- 1. the bare loop ---------------------------------------------------------------
  if (!s.skip_bare) {
    const auto port = pick_port();
    std::vector<std::string> bare_args{s.self_path, "--bare", std::to_string(port)};
    if (s.insecure) {
      bare_args.emplace_back("--insecure");
    } else {
      bare_args.emplace_back("--keys");
      bare_args.push_back(keys);
    }
    spawn_options bo;
    bo.stderr_file = dir + "/bare.err";
    auto bare = spawn(bare_args, bo);
    if (!bare) {
      notes.push_back("cannot start the bare loop");
    } else {
      ::usleep(200'000);
      say(s, "bare loop on port " + std::to_string(port) + ": connecting the fleet");
      fleet_client f;
      if (!f.start(fleet_args(port, 0.0, ""), dir + "/fleet-bare.err", dir + "/fleet-bare.jsonl")) {
        notes.push_back("cannot start ev_fleet (" + s.fleet_path + ")");
      } else if (auto ready = f.wait_for("ready", ready_timeout)) {
        r["bare_auth_all_s"] = num(*ready, "t_s");
        say(s, "bare loop: every CP in after " + fixed(num(*ready, "t_s")) + " s; blast of " +
                   std::to_string(blast) + " per Monitor");
        if (auto b = best_blast(f, blast, notes, "bare")) {
          r["bare_ingest_per_s"] = num(*b, "per_s");
          r["bare_ingest_messages"] = count(*b, "messages");
        }
        f.pump(500ms);
        r["bare_rss_mib"] = static_cast<double>(rss_kib(bare->pid)) / 1024.0;
        r["bare_cps_in"] = s.cps;  // every CP was in (the fleet said ready)
      } else {
        notes.push_back("bare loop: not every CP got in within " + std::to_string(ready_timeout.count()) + " s (" +
                        std::to_string(count(f.last_progress(), "authenticated")) + " of " +
                        std::to_string(s.cps) + ")");
        r["bare_rss_mib"] = static_cast<double>(rss_kib(bare->pid)) / 1024.0;
        r["bare_cps_in"] = count(f.last_progress(), "authenticated");
      }
      for (const auto& n : f.notes()) {
        notes.push_back("bare phase: " + n);
      }
      f.stop();
      (void)stop(*bare, SIGTERM, 10s);
    }
  }

  // ---- 2. EV_Central ------------------------------------------------------------------
  // A copy, so that a rebuild while we run cannot change the program between
  // its start and its restart.
  std::string central_path = dir + "/EV_Central";
  {
    std::error_code ec;
    std::filesystem::copy_file(s.central_path, central_path, ec);
    if (ec) {
      central_path = s.central_path;
    }
  }
  const auto port = pick_port();
  std::vector<std::string> central_args{central_path, std::to_string(port), "--headless", "--config",
                                        dir + "/db.json", "--db", dir + "/central.db", "--log", dir + "/central.log"};
  if (s.insecure) {
    central_args.emplace_back("--insecure");
  } else {
    central_args.emplace_back("--keys");
    central_args.push_back(keys);
  }
  spawn_options co;
  co.stdout_file = dir + "/central.out";
  co.stderr_file = dir + "/central.err";
  const std::string books = dir + "/books";
  std::filesystem::create_directories(books);
  auto central = spawn(central_args, co);
  if (!central || !wait_started(co.stdout_file, *central, 1, 60s)) {
    notes.push_back("EV_Central (" + s.central_path + ") did not start; see " + dir + "/central.err");
    if (central) {
      (void)stop(*central, SIGKILL, 5s);
    }
    r["notes"] = notes;
    return r;
  }
  say(s, "EV_Central on port " + std::to_string(port) + " (pid " + std::to_string(central->pid) +
             "): connecting the fleet");
  fleet_client f;
  if (!f.start(fleet_args(port, s.rate, books), dir + "/fleet.err", dir + "/fleet.jsonl")) {
    notes.push_back("cannot start ev_fleet (" + s.fleet_path + ")");
    (void)stop(*central, SIGTERM, 10s);
    r["notes"] = notes;
    return r;
  }
  if (auto started = f.wait_for("started", 30s)) {
    r["fleet_workers"] = count(*started, "workers");
  }
  auto ready = f.wait_for("ready", ready_timeout);
  if (ready) {
    r["auth_all_s"] = num(*ready, "t_s");
    r["cps_authenticated"] = s.cps;
    say(s, "every CP and driver in after " + fixed(num(*ready, "t_s")) + " s; " + fixed(s.seconds, 0) +
               " s of load at " + fixed(s.rate, 0) + " requests/s");
  } else {
    r["cps_authenticated"] = count(f.last_progress(), "authenticated");
    notes.push_back("not every CP got in within " + std::to_string(ready_timeout.count()) + " s (" +
                    std::to_string(count(f.last_progress(), "authenticated")) + " of " + std::to_string(s.cps) +
                    "); measuring anyway");
  }
  // Steady state.
  f.send("go");
  const auto cpu0 = cpu_seconds(central->pid);
  const auto t0 = monotonic_ns();
  f.pump(milliseconds{static_cast<std::int64_t>(s.seconds * 1000)});
  const auto cpu1 = cpu_seconds(central->pid);
  const auto t1 = monotonic_ns();
  const double steady_s = static_cast<double>(t1 - t0) / 1e9;
  if (cpu0 >= 0 && cpu1 >= 0 && steady_s > 0) {
    r["central_cpu_pct"] = 100.0 * (cpu1 - cpu0) / steady_s;
    r["central_cpu_pct_per_1000_cps"] =
        100.0 * (cpu1 - cpu0) / steady_s * 1000.0 / std::max(1.0, num(f.last_progress(), "authenticated", s.cps));
  }
  const long rss = rss_kib(central->pid);
  // Per CP: per CP actually connected then (at 5,000 the machine may not
  // have let them all in).
  f.pump(100ms);
  const auto in_then = std::max<std::uint64_t>(1, count(f.last_progress(), "authenticated"));
  r["cps_in_during_load"] = in_then;
  if (rss > 0) {
    r["central_rss_mib"] = static_cast<double>(rss) / 1024.0;
    r["central_rss_per_cp_kib"] = static_cast<double>(rss) / static_cast<double>(in_then);
  }
  f.send("window");
  if (auto w = f.wait_for("window", 60s)) {
    r["requests_per_s"] = num(*w, "requests_per_s");
    for (const char* key : {"auth_p50_ms", "auth_p99_ms", "auth_max_ms", "telemetry_p50_ms", "telemetry_p99_ms",
                            "telemetry_max_ms", "fleet_cpu_pct"}) {
      r[key] = num(*w, key);
    }
    r["window_requests"] = count(*w, "requests");
    r["window_refused"] = count(*w, "refused");
    if (const auto* rf = json::find(*w, "refusals")) {
      r["window_refused_by_reason"] = *rf;
    }
    r["auth_samples"] = count(*w, "auth_samples");
    r["telemetry_samples"] = count(*w, "telemetry_samples");
  } else {
    notes.push_back("the fleet did not report its window");
  }
  // Peak ingest.
  say(s, "ingest blast: " + std::to_string(blast) + " cp_status per Monitor, then a marker each");
  if (auto b = best_blast(f, blast, notes, "Central")) {
    r["ingest_per_s"] = num(*b, "per_s");
    r["ingest_messages"] = count(*b, "messages");
  }
  // Reconnect storm.
  if (!s.skip_storm) {
    f.pump(1s);
    say(s, "reconnect storm: kill -9 EV_Central, restart it on the same store");
    const auto kill_wall = wall_ms();
    const auto storm_t0 = monotonic_ns();
    (void)stop(*central, SIGKILL, 5s);
    central = spawn(central_args, co);
    f.send("storm " + std::to_string(storm_t0));
    if (!central) {
      notes.push_back("EV_Central could not be restarted");
    } else if (auto st = f.wait_for("storm", storm_timeout)) {
      r["reconnect_s"] = num(*st, "cps_back_s");
      r["drivers_reconnect_s"] = num(*st, "drivers_back_s");
      say(s, "every CP authenticated again " + fixed(num(*st, "cps_back_s")) + " s after the kill");
    } else {
      notes.push_back("reconnect storm: not every CP was back within " + std::to_string(storm_timeout.count()) + " s (" +
                      std::to_string(count(f.last_progress(), "storm_back")) + " of " + std::to_string(s.cps) + ")");
    }
    if (auto starts = started_lines(co.stdout_file); starts.size() >= 2) {
      r["central_restart_s"] = static_cast<double>(starts[1] - kill_wall) / 1000.0;
    }
  }
  // Drain and books.
  say(s, "draining: no new requests; waiting for every charge to end and be ticketed");
  f.send("drain");
  if (auto d = f.wait_for("drained", seconds{s.max_duration_s + 120})) {
    const auto* complete = json::find(*d, "complete");
    if (complete == nullptr || !complete->get<bool>()) {
      notes.push_back("drain incomplete: " + std::to_string(count(*d, "requests_waiting")) +
                      " requests unanswered, " + std::to_string(count(*d, "cps_busy")) + " CPs busy, " +
                      std::to_string(count(*d, "tickets_due")) + " tickets due");
    }
  } else {
    notes.push_back("drain: no answer from the fleet");
  }
  f.send("books");
  std::uint64_t books_doubled = 0;
  bool have_books = false;
  if (auto b = f.wait_for("books", 60s)) {
    have_books = true;
    books_doubled = count(*b, "doubled");
    r["requests"] = count(*b, "requests");
    r["authorized"] = count(*b, "authorized");
    r["refused"] = count(*b, "refused");
    r["unanswered"] = count(*b, "unanswered");
    r["refused_by_reason"] = json::find(*b, "refusals") != nullptr ? (*b)["refusals"] : json::value(json::object{});
    r["stale_views"] = count(*b, "stale_views");
    if (const auto* c = json::find(*b, "counters")) {
      r["tickets"] = count(*c, "tickets");
      r["charges"] = count(*c, "records");
      r["interrupted"] = count(*c, "interrupted");
      r["faults"] = count(*c, "faults");
      r["link_closes"] = count(*c, "closes");
    }
    r["books_unsettled"] = count(*b, "unsettled");
    r["books_doubled"] = books_doubled;
  } else {
    notes.push_back("the fleet did not report its books");
  }
  for (const auto& n : f.notes()) {
    notes.push_back(n);
  }
  f.stop();
  if (central) {
    (void)stop(*central, SIGTERM, 15s);
  }
  const auto check = check_store(dir + "/central.db", books);
  if (check.ok && have_books) {
    r["store_charges"] = check.stored;
    r["lost"] = check.lost;
    r["unsettled"] = check.unsettled;
    r["doubled"] = books_doubled + check.unexpected + check.different;
  } else if (!check.ok) {
    notes.push_back("cannot check Central's store: " + check.problem);
  }
  if (r["central_rss_mib"].is_number() && r["bare_rss_mib"].is_number() && r["bare_rss_mib"].get<double>() > 0) {
    const double bare_in = r["bare_cps_in"].is_number() && r["bare_cps_in"].get<double>() > 0
                               ? r["bare_cps_in"].get<double>()
                               : static_cast<double>(s.cps);
    r["bare_rss_per_cp_kib"] = r["bare_rss_mib"].get<double>() * 1024.0 / bare_in;
    // Per connected CP, so that a phase the machine let fewer CPs into
    // compares fairly (the same as the plain ratio when every CP is in).
    if (r["central_rss_per_cp_kib"].is_number()) {
      r["rss_ratio"] = r["central_rss_per_cp_kib"].get<double>() / r["bare_rss_per_cp_kib"].get<double>();
    }
  }
  if (r["ingest_per_s"].is_number() && r["bare_ingest_per_s"].is_number() &&
      r["bare_ingest_per_s"].get<double>() > 0) {
    r["ingest_ratio"] = r["ingest_per_s"].get<double>() / r["bare_ingest_per_s"].get<double>();
  }
  r["load_after"] = load_average();
  r["notes"] = notes;
  if (s.keep) {
    r["dir"] = dir;
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return r;
}

} // namespace evnet::bench

#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace evnet::fleet {

const char* const fleet_usage =
    "usage: ev_fleet --cps N --drivers M [--rate R] [--duration MIN[-MAX]] [--fault-rate F] [--seed S]\n"
    "                [--central HOST:PORT] [--keys DIR | --insecure] [--seconds S] [--json] [--control]\n"
    "                [--workers K] [--books DIR] [--io-threads T] [--heartbeat-ms H] [--max-connecting C]\n"
    "                [--cp-prefix P] [--driver-prefix P]\n"
    "       ev_fleet --setup DIR --cps N --drivers M [--insecure]\n"
    "\n"
    "  N simulated CPs (a Monitor and an Engine connection each, CURVE with the CP's\n"
    "  own key) and M simulated drivers (requests + stream connections) against one\n"
    "  EV_Central. Requests arrive at R per second in all (Poisson) at CPs the plan\n"
    "  believes free, each for MIN..MAX seconds (default 3-6); F CP faults per second\n"
    "  (each 2-10 s). The seed fixes every request, fault and pick: a run is repeatable\n"
    "  (Central's answers and timing are Central's).\n"
    "  --central HOST:PORT  Central's request port (default 127.0.0.1:7000); the stream\n"
    "                       port is learnt from Central's snapshot\n"
    "  --keys DIR           Central's public key (central.pub) and the fleet's pairs\n"
    "                       (fleet-keys.tsv, or cp-<ID>.key/driver-<ID>.key); default var/keys\n"
    "  --seconds S          run the plan for S seconds once every CP is in, then stop\n"
    "                       asking, wait for every charge to end and print the books\n"
    "  --control            commands on stdin instead (go, window, blast K, storm T0,\n"
    "                       drain, books, quit: see tools/fleet/worker.hpp); ev_bench uses it\n"
    "  --json               JSON lines on stdout (progress, ready, window, books, limit)\n"
    "  --workers K          at least K processes (default: as many as the open-file\n"
    "                       limit needs: each connection costs a TCP fd and a mailbox fd)\n"
    "  --books DIR          write every finished charge to DIR/records-<worker>.txt\n"
    "  --heartbeat-ms H     heartbeat interval of every DEALER link (default 500, the\n"
    "                       transport's); silence limit 6 x H, connect timeout 2 x H\n"
    "  --max-connecting C   connection attempts (TCP + CURVE handshake) in flight per worker\n"
    "                       process, at most (default 200; the window adapts below it: +1 per\n"
    "                       success, halved on a timeout): our CPs share a few cores, real\n"
    "                       ones do not, and a CURVE handshake costs milliseconds of CPU\n"
    "  --setup DIR          write DIR/db.json, DIR/central.db (registry and keys\n"
    "                       registered) and DIR/keys (Central's pair, fleet-keys.tsv), then exit\n"
    "Exit status: 0 done, 2 bad arguments, 3 a machine limit stops it (said why), 1 other errors.\n";

namespace {

result<double> number(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v) || v < 0) {
      throw std::invalid_argument(text);
    }
    return v;
  } catch (const std::exception&) {
    return error{errc::invalid_field, what + " must be a non-negative number, not '" + text + "'"};
  }
}

result<int> count(const std::string& text, const std::string& what) {
  auto v = number(text, what);
  if (!v) {
    return v.err();
  }
  if (*v != std::floor(*v) || *v > 1e7) {
    return error{errc::invalid_field, what + " must be a whole number, not '" + text + "'"};
  }
  return static_cast<int>(*v);
}

long read_long(const char* path, int field) {
  std::ifstream in{path};
  long v = -1;
  for (int i = 0; i <= field && in >> v; ++i) {
  }
  return v;
}

long mem_available_kib() {
  std::ifstream in{"/proc/meminfo"};
  for (std::string key; in >> key;) {
    long v = 0;
    in >> v;
    if (key == "MemAvailable:") {
      return v;
    }
    std::string unit;
    std::getline(in, unit);
  }
  return -1;
}

} // namespace

status parse_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return error{errc::invalid_field, "expected HOST:PORT, not '" + text + "'"};
  }
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string p = text.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5 || std::stoi(p) == 0 ||
      std::stoi(p) > 65535) {
    return error{errc::invalid_field, "'" + p + "' is not a TCP port"};
  }
  port = static_cast<std::uint16_t>(std::stoi(p));
  return ok_value;
}

result<fleet_options> parse_fleet_options(int argc, char** argv) {
  fleet_options o;
  const std::vector<std::string_view> flags{"--insecure", "--json", "--control", "--help"};
  for (int i = 1; i < argc; ++i) {
    const std::string opt = argv[i];
    if (std::find(flags.begin(), flags.end(), opt) != flags.end()) {
      o.insecure |= opt == "--insecure";
      o.json |= opt == "--json";
      o.control |= opt == "--control";
      o.help |= opt == "--help";
      continue;
    }
    if (i + 1 >= argc) {
      return error{errc::invalid_field, opt + " needs a value"};
    }
    const std::string v = argv[++i];
    auto set_count = [&](int& field) -> status {
      auto c = count(v, opt);
      if (!c) {
        return c.err();
      }
      field = *c;
      return ok_value;
    };
    status st = ok_value;
    if (opt == "--cps") {
      st = set_count(o.cps);
    } else if (opt == "--drivers") {
      st = set_count(o.drivers);
    } else if (opt == "--workers") {
      st = set_count(o.workers);
    } else if (opt == "--io-threads") {
      st = set_count(o.io_threads);
    } else if (opt == "--heartbeat-ms") {
      st = set_count(o.heartbeat_ms);
    } else if (opt == "--max-connecting") {
      st = set_count(o.max_connecting);
    } else if (opt == "--rate" || opt == "--fault-rate" || opt == "--seconds") {
      auto n = number(v, opt);
      if (!n) {
        return n.err();
      }
      (opt == "--rate" ? o.rate : opt == "--fault-rate" ? o.fault_rate : o.seconds) = *n;
    } else if (opt == "--seed") {
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 19) {
        return error{errc::invalid_field, "--seed must be a whole number"};
      }
      o.seed = std::stoull(v);
    } else if (opt == "--duration") {
      const auto dash = v.find('-');
      auto lo = count(v.substr(0, dash), opt);
      auto hi = dash == std::string::npos ? lo : count(v.substr(dash + 1), opt);
      if (!lo || !hi) {
        return (!lo ? lo : hi).err();
      }
      if (*lo < 1 || *hi < *lo) {
        return error{errc::invalid_field, "--duration wants MIN[-MAX] seconds with 1 <= MIN <= MAX"};
      }
      o.min_duration_s = *lo;
      o.max_duration_s = *hi;
    } else if (opt == "--central") {
      st = parse_host_port(v, o.host, o.port);
    } else if (opt == "--keys") {
      o.keys_dir = v;
    } else if (opt == "--books") {
      o.books_dir = v;
    } else if (opt == "--setup") {
      o.setup_dir = v;
    } else if (opt == "--cp-prefix") {
      o.cp_prefix = v;
    } else if (opt == "--driver-prefix") {
      o.driver_prefix = v;
    } else {
      return error{errc::invalid_field, "unknown option " + opt};
    }
    if (!st) {
      return st.err();
    }
  }
  if (o.cps < 1) {
    return error{errc::invalid_field, "--cps must be at least 1"};
  }
  if (o.io_threads < 1) {
    o.io_threads = 1;
  }
  if (o.heartbeat_ms < 10) {
    return error{errc::invalid_field, "--heartbeat-ms must be at least 10"};
  }
  if (o.max_connecting < 1) {
    o.max_connecting = 1;
  }
  return o;
}

fd_budget plan_fd_budget(int cps, int drivers, int at_least) {
  fd_budget b;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rlimit raised = rl;
      raised.rlim_cur = rl.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        rl = raised;
      }
    }
    b.limit = rl.rlim_cur == RLIM_INFINITY ? 1'000'000 : static_cast<long>(rl.rlim_cur);
  } else {
    b.limit = 1024;
  }
  // 20% margin: a reconnecting socket's descriptors are freed by libzmq's
  // reaper thread after its successor is already open; and 64 for the
  // process itself (epoll, pipes, libzmq's threads and context).
  b.per_worker = std::max(0L, b.limit * 8 / 10 - 64);
  b.needed = 4L * cps + 4L * drivers;
  const long w = b.per_worker > 0 ? (b.needed + b.per_worker - 1) / b.per_worker : 1;
  b.workers = static_cast<int>(std::max<long>({1L, w, static_cast<long>(at_least)}));
  return b;
}

machine_check check_machine(int cps, int drivers, int workers) {
  machine_check out;
  const long low = read_long("/proc/sys/net/ipv4/ip_local_port_range", 0);
  const long high = read_long("/proc/sys/net/ipv4/ip_local_port_range", 1);
  const long ports = low > 0 && high >= low ? high - low + 1 : 28232;
  // Every connection to Central's one request port needs its own local port.
  const long to_router = 2L * cps + drivers;
  if (to_router > ports) {
    out.blocking = "ephemeral ports: " + std::to_string(to_router) + " connections to one Central address need " +
                   "as many local ports, and this machine has " + std::to_string(ports) +
                   " (net.ipv4.ip_local_port_range " + std::to_string(low) + "-" + std::to_string(high) +
                   "); run the fleet from several hosts (or source addresses), or fewer CPs";
    return out;
  }
  if (to_router * 10 > ports * 8) {
    out.warning = "ephemeral ports: " + std::to_string(to_router) + " of " + std::to_string(ports) + " in use";
  }
  // libzmq costs some tens of KiB per TCP connection on each side.
  const long connections = 2L * cps + 2L * drivers;
  const long need_kib = connections * 48 + 16'384L * workers;
  const long avail = mem_available_kib();
  if (avail > 0 && need_kib > avail) {
    out.blocking = "memory: about " + std::to_string(need_kib / 1024) + " MiB for " + std::to_string(connections) +
                   " connections, " + std::to_string(avail / 1024) + " MiB available";
  }
  return out;
}

} // namespace evnet::fleet

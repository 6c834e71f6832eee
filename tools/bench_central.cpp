// bench_central: how EV_Central holds up with many CPs on one small machine.
//
// Starts a real EV_Central (headless, fresh store) with N registered CPs,
// then plays N Monitors over real ZeroMQ DEALER sockets: each authenticates,
// reports its Engine's health every second and accepts authorisations. A
// driver then requests charges one after another. Printed figures:
//   - time for all N Monitors to authenticate;
//   - charge request round trip (driver -> Central -> Monitor -> Central
//     -> driver), p50/p99/max;
//   - Central's resident memory and CPU use while serving N status reports/s.
// The scenario runs twice in one run, once with CURVE (every Monitor holds
// its CP's registered key, Central its own; ZAP admits each) and once with
// --insecure, so that the table shows what CURVE costs on the same machine
// at the same moment.
// Figures are printed, never asserted: this is a benchmark, not a test.
//
// usage: bench_central <path/to/EV_Central> [--cps N] [--requests M] [--seconds S]

#include "evnet/domain/audit.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/json.hpp"
#include "evnet/protocol.hpp"
#include "evnet/security/keys.hpp"
#include "evnet/store/central_store.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace evnet;
using clock_type = std::chrono::steady_clock;

struct central_process {
  pid_t pid = -1;
  ~central_process() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

// utime + stime of a process, in clock ticks.
long cpu_ticks(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  std::istringstream fields{all.substr(close + 2)};
  std::string skip;
  for (int i = 0; i < 11; ++i) {
    fields >> skip;
  }
  long utime = 0;
  long stime = 0;
  fields >> utime >> stime;
  return utime + stime;
}

template <class T>
void send(zmq::socket_t& s, const std::string& sender, T body, std::uint64_t corr = 0) {
  auto frame = protocol::encode(protocol::make(sender, std::move(body), corr));
  s.send(zmq::buffer(frame), zmq::send_flags::dontwait);
}

// With `keys` (own pair) and `server_key`, a CURVE client; plaintext otherwise.
zmq::socket_t make_dealer(zmq::context_t& ctx, const std::string& endpoint, const std::string& id,
                          const security::key_pair* keys = nullptr, const std::string& server_key = {}) {
  zmq::socket_t s{ctx, zmq::socket_type::dealer};
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::routing_id, id);
  if (keys != nullptr) {
    s.set(zmq::sockopt::curve_publickey, keys->public_key);
    s.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    s.set(zmq::sockopt::curve_serverkey, server_key);
  }
  s.connect(endpoint);
  return s;
}

struct monitor_sim {
  std::string cp_id;
  zmq::socket_t socket;
  bool authenticated = false;
};

struct figures {
  double auth_s = 0.0;
  double rss_mib = 0.0;
  double cpu_pct = 0.0;
  double p50_ms = 0.0;
  double p99_ms = 0.0;
  double max_ms = 0.0;
  int refused = 0;
  std::map<std::string, int> refusals;  // reason -> how many
  bool ok = false;
};

struct settings {
  std::string central_path;
  int cps = 1000;
  int requests = 200;
  int seconds = 10;
};

std::string cp_name(int i) {
  return "CP" + std::to_string(i);
}

// A fresh directory with db.json, and with CURVE Central's pair in keys/
// and every CP's public key registered in the store (the CPs' pairs are
// returned; writing 2 x N files would only measure the disk).
std::vector<security::key_pair> prepare(const std::string& dir, const settings& cfg, bool curve) {
  json::array cp_rows;
  domain::seed seed;
  for (int i = 0; i < cfg.cps; ++i) {
    cp_rows.push_back(json::object{{"id", cp_name(i)}, {"location", "Bench street " + std::to_string(i)},
                                   {"price", 0.35}});
  }
  std::ofstream{dir + "/db.json"} << json::dump(json::object{
      {"cps", std::move(cp_rows)}, {"drivers", json::array{json::object{{"id", "B1"}, {"name", "Bench"}}}}});
  std::vector<security::key_pair> pairs;
  if (!curve) {
    return pairs;
  }
  auto central_pair = security::generate_pair();
  if (!central_pair || !security::save_pair(dir + "/keys", security::central_key_name(), *central_pair)) {
    throw std::runtime_error("cannot make Central's key pair");
  }
  auto loaded = domain::load_seed_file(dir + "/db.json");
  auto db = store::central_store::open(dir + "/central.db");
  if (!loaded || !db || !(*db)->seed(*loaded)) {
    throw std::runtime_error("cannot create the bench store");
  }
  std::vector<std::tuple<std::string, std::string, std::string>> keys;
  for (int i = 0; i < cfg.cps; ++i) {
    auto kp = security::generate_pair();
    if (!kp) {
      throw std::runtime_error("cannot make a key pair");
    }
    keys.emplace_back("cp", cp_name(i), kp->public_key);
    pairs.push_back(std::move(*kp));
  }
  auto driver_pair = security::generate_pair();
  keys.emplace_back("driver", "B1", driver_pair->public_key);
  pairs.push_back(std::move(*driver_pair));
  if (!(*db)->register_keys(keys, domain::audit_entry{0, "bench", "register", {}, "ok"})) {
    throw std::runtime_error("cannot register the bench keys");
  }
  return pairs;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0.0;
  }
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

figures run_scenario(const settings& cfg, bool curve) {
  const int cps = cfg.cps;
  const int requests = cfg.requests;
  const int seconds = cfg.seconds;
  const std::string& central_path = cfg.central_path;
  figures out;

  char dir_template[] = "/tmp/evnet-bench-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  const auto pairs = prepare(dir, cfg, curve);
  std::string server_key;
  if (curve) {
    server_key = *security::load_public(dir + "/keys", security::central_key_name());
  }

  std::mt19937 rng{std::random_device{}()};
  const int port = std::uniform_int_distribution<int>(21000, 29000)(rng);
  central_process central;
  central.pid = ::fork();
  if (central.pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::string p = std::to_string(port);
    std::string db = dir + "/db.json";
    std::string store = dir + "/central.db";
    std::string keys = dir + "/keys";
    ::execl(central_path.c_str(), central_path.c_str(), p.c_str(), "--headless", "--config", db.c_str(), "--db",
            store.c_str(), curve ? "--keys" : "--insecure", curve ? keys.c_str() : static_cast<char*>(nullptr),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);

  zmq::context_t ctx;
  ctx.set(zmq::ctxopt::max_sockets, cps + 64);
  std::vector<monitor_sim> monitors;
  monitors.reserve(static_cast<std::size_t>(cps));
  for (int i = 0; i < cps; ++i) {
    auto id = cp_name(i);
    const auto* keys = curve ? &pairs[static_cast<std::size_t>(i)] : nullptr;
    monitors.push_back(monitor_sim{id, make_dealer(ctx, endpoint, "bench-monitor:" + id, keys, server_key)});
  }
  auto driver = make_dealer(ctx, endpoint, "bench-driver:B1", curve ? &pairs.back() : nullptr, server_key);

  std::vector<zmq::pollitem_t> items;
  for (auto& m : monitors) {
    items.push_back({m.socket.handle(), 0, ZMQ_POLLIN, 0});
  }
  items.push_back({driver.handle(), 0, ZMQ_POLLIN, 0});

  // Serves every inbound frame; returns the driver's replies to the caller.
  std::vector<protocol::message> driver_inbox;
  int authenticated = 0;
  auto pump = [&](std::chrono::milliseconds wait) {
    zmq::poll(items, wait);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if ((items[i].revents & ZMQ_POLLIN) == 0) {
        continue;
      }
      zmq::socket_t& s = i < monitors.size() ? monitors[i].socket : driver;
      zmq::message_t frame;
      while (s.recv(frame, zmq::recv_flags::dontwait)) {
        auto msg = protocol::decode(frame.data(), frame.size());
        if (!msg) {
          continue;
        }
        if (i == monitors.size()) {
          driver_inbox.push_back(std::move(*msg));
          continue;
        }
        auto& m = monitors[i];
        if (msg->is<protocol::cp_auth_reply>() && msg->as<protocol::cp_auth_reply>().ok && !m.authenticated) {
          m.authenticated = true;
          ++authenticated;
        } else if (msg->is<protocol::authorize_request>()) {
          // The Engine's side of the fence: reserve, then take Central's decision.
          const auto& request = msg->as<protocol::authorize_request>();
          send(m.socket, "bench",
               protocol::authorize_reply{true, "", m.cp_id + "-" + std::to_string(rng()), m.cp_id, request.request_id},
               msg->correlation);
        } else if (msg->is<protocol::authorize_decision>()) {
          const auto& decision = msg->as<protocol::authorize_decision>();
          send(m.socket, "bench",
               protocol::decision_ack{decision.cp_id, decision.request_id, decision.charge_id, true, ""},
               msg->correlation);
        } else if (msg->is<protocol::cp_command>()) {
          send(m.socket, "bench", protocol::ack{true, ""}, msg->correlation);
        }
      }
    }
  };

  // Central may need a moment to bind; the DEALERs reconnect by themselves.
  const auto start = clock_type::now();
  auto last_auth = clock_type::now() - std::chrono::seconds(10);
  auto last_status = clock_type::now();
  // Every authenticated Monitor reports its Engine's health each second, as
  // a real one does (and so stays known to Central while the others are
  // still authenticating).
  auto report_status = [&] {
    if (clock_type::now() - last_status >= std::chrono::seconds(1)) {
      last_status = clock_type::now();
      for (auto& m : monitors) {
        if (m.authenticated) {
          send(m.socket, "bench", protocol::cp_status{m.cp_id, true, ""});
        }
      }
    }
  };
  while (authenticated < cps && clock_type::now() - start < std::chrono::seconds(120)) {
    report_status();
    if (clock_type::now() - last_auth > std::chrono::seconds(2)) {
      last_auth = clock_type::now();
      for (auto& m : monitors) {
        if (!m.authenticated) {
          send(m.socket, "bench", protocol::cp_auth{m.cp_id}, 1);
        }
      }
    }
    pump(std::chrono::milliseconds(20));
  }
  const double auth_s = std::chrono::duration<double>(clock_type::now() - start).count();
  if (authenticated < cps) {
    std::printf("%s: only %d of %d CPs authenticated within 120 s\n", curve ? "CURVE" : "plaintext", authenticated,
                cps);
    return out;
  }

  // Steady state: N status reports per second, measured over `seconds`.
  const long ticks_before = cpu_ticks(central.pid);
  const auto steady_start = clock_type::now();
  while (clock_type::now() - steady_start < std::chrono::seconds(seconds)) {
    report_status();
    pump(std::chrono::milliseconds(20));
  }
  const double steady_s = std::chrono::duration<double>(clock_type::now() - steady_start).count();
  const double cpu_pct =
      100.0 * static_cast<double>(cpu_ticks(central.pid) - ticks_before) / static_cast<double>(::sysconf(_SC_CLK_TCK)) /
      steady_s;
  const long rss = rss_kib(central.pid);

  // Charge requests, one at a time, each at a different CP.
  send(driver, "bench", protocol::driver_hello{"B1"}, 1);
  std::vector<double> latencies_ms;
  int refused = 0;
  for (int r = 0; r < requests; ++r) {
    const auto& cp = monitors[static_cast<std::size_t>(r % cps)].cp_id;
    const std::string request_id = "bench-" + std::to_string(r);
    driver_inbox.clear();
    const auto sent = clock_type::now();
    send(driver, "bench", protocol::charge_request{"B1", cp, 60, request_id}, static_cast<std::uint64_t>(r + 10));
    bool answered = false;
    while (!answered && clock_type::now() - sent < std::chrono::seconds(10)) {
      report_status();
      pump(std::chrono::milliseconds(5));
      for (const auto& m : driver_inbox) {
        if (m.is<protocol::charge_reply>() && m.as<protocol::charge_reply>().request_id == request_id) {
          answered = true;
          const auto& reply = m.as<protocol::charge_reply>();
          if (!reply.ok) {
            ++refused;
            ++out.refusals[reply.reason];
          }
        }
      }
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - sent).count());
  }

  out.auth_s = auth_s;
  out.rss_mib = static_cast<double>(rss) / 1024.0;
  out.cpu_pct = cpu_pct;
  out.p50_ms = percentile(latencies_ms, 0.5);
  out.p99_ms = percentile(latencies_ms, 0.99);
  out.max_ms = percentile(latencies_ms, 1.0);
  out.refused = refused;
  out.ok = true;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_central <path/to/EV_Central> [--cps N] [--requests M] [--seconds S]\n");
    return 2;
  }
  settings cfg;
  cfg.central_path = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string opt = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (opt == "--cps") {
      cfg.cps = value;
    } else if (opt == "--requests") {
      cfg.requests = value;
    } else if (opt == "--seconds") {
      cfg.seconds = value;
    }
  }
  const figures plain = run_scenario(cfg, false);
  const figures curve = run_scenario(cfg, true);
  if (!plain.ok || !curve.ok) {
    return 1;
  }
  std::printf("EV_Central with %d CPs (one Monitor connection each, %d status reports/s), %d charge requests\n",
              cfg.cps, cfg.cps, cfg.requests);
  std::printf("                               %12s %12s\n", "--insecure", "CURVE");
  std::printf("  authenticate all CPs (s)     %12.2f %12.2f\n", plain.auth_s, curve.auth_s);
  std::printf("  resident memory (MiB)        %12.1f %12.1f\n", plain.rss_mib, curve.rss_mib);
  std::printf("  CPU serving status (%% core)  %12.1f %12.1f\n", plain.cpu_pct, curve.cpu_pct);
  std::printf("  request round trip p50 (ms)  %12.2f %12.2f\n", plain.p50_ms, curve.p50_ms);
  std::printf("  request round trip p99 (ms)  %12.2f %12.2f\n", plain.p99_ms, curve.p99_ms);
  std::printf("  request round trip max (ms)  %12.2f %12.2f\n", plain.max_ms, curve.max_ms);
  std::printf("  requests refused             %12d %12d\n", plain.refused, curve.refused);
  for (const auto* f : {&plain, &curve}) {
    for (const auto& [reason, n] : f->refusals) {
      std::printf("    %s: %d x %s\n", f == &plain ? "--insecure" : "CURVE", n, reason.c_str());
    }
  }
  return 0;
}

// Issue #9: three hosts on one machine. Network namespaces joined by veth
// pairs to a bridge (in a namespace of its own, so nothing touches the
// machine's own network):
//
//        central (10.77.0.1)      cps (10.77.0.2)           drivers (10.77.0.3)
//        EV_Central               2 x EV_CP_E + EV_CP_M     2 x EV_Driver --file
//              \ eth0                   | eth0                  / eth0
//               `--- central ---- br0 ---- cps ---- drivers ---'   (bridge namespace)
//
// Every link is CURVE, and each host holds only the keys its programs need
// (README, "On separate machines"). Each driver runs a file of services
// across both CPs; mid-charge the CPs' host is cut off for 10 s (its veth
// port on the bridge goes down) and restored. Nothing is restarted: the CPs
// come back by themselves, and every charge ends in exactly one ticket with
// kWh = seconds supplied x 1 kWh and amount = kWh x price, at Central (its
// events and its store) and at the driver.
//
// Needs root and `ip netns` (iproute2): otherwise it exits 77 (meson: SKIP)
// and says why. Namespace names are unique per run (pid + random), and the
// namespaces and every process are removed even when a check fails; each
// program also gets SIGKILL if this test process dies (setpriv --pdeathsig).
#define BOOST_TEST_MODULE integration_hosts
#define BOOST_TEST_NO_MAIN
#include "harness.hpp"

#include "evnet/store/central_store.hpp"
#include "evnet/transport.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace evnet::testing;
using evnet::json::value;
using std::chrono::milliseconds;

namespace {

namespace fs = std::filesystem;

// ---- the worst case the transport allows for a link cut -------------------------------
//
// From include/evnet/transport.hpp (options and its liveness contract) and
// src/transport (dealer_liveness, backoff): a DEALER link sends a heartbeat
// every `heartbeat_interval` and gives a session up after `liveness` silent
// intervals; an attempt that hears nothing within 2 intervals (at most the
// silence limit) is closed too; after each close it waits reconnect_min,
// doubling per failure up to reconnect_max, spread by +-20%.
constexpr double jitter = 0.2;

// The delay after the n-th close (from 0), its base spread by `factor`.
milliseconds backoff_delay(int closes, double factor) {
  const evnet::transport::options o;
  const auto max = static_cast<double>(o.reconnect_max.count());
  const double base = std::min(static_cast<double>(o.reconnect_min.count()) * std::pow(2.0, closes), max);
  return milliseconds{static_cast<std::int64_t>(std::ceil(std::min(base * factor, max)))};
}

// How long after the link is restored a client (Engine or Monitor) may take
// to open the connection that works. `cut` is how long the link is down;
// `settle` how long after the restore an attempt may still fail (the bridge
// port coming up, ARP).
milliseconds reconnect_bound(milliseconds cut, milliseconds settle) {
  const evnet::transport::options o;
  const auto silence = o.heartbeat_interval * o.liveness;
  const auto connect_timeout = std::min(o.heartbeat_interval * 2, silence);
  // The schedule with the shortest delays fits the most failed attempts
  // into the cut, so its next delay is the longest one that can follow the
  // restore. The session is given up one heartbeat before the silence limit
  // at the earliest (the last frame came a heartbeat before the cut); an
  // attempt may fail at once (a refused or unreachable connection closes
  // the socket without waiting for the connect timeout).
  auto t = silence - o.heartbeat_interval;
  int closes = 0;  // giving the session up is the first close
  for (;;) {
    const auto open = t + backoff_delay(closes, 1.0 - jitter);
    if (open >= cut + settle) {
      break;  // this attempt finds the link up
    }
    t = open;  // it may fail, at once
    ++closes;
  }
  // The last attempt that may fail closes at most settle + connect_timeout
  // after the restore; the next one opens at most its longest delay later.
  return settle + connect_timeout + backoff_delay(closes, 1.0 + jitter);
}

// ---- running `ip` ----------------------------------------------------------------------

std::string find_tool(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) {
      return c;
    }
  }
  return {};
}

std::string ip_tool() { return find_tool({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}); }

// Runs `ip args...`; the exit code and what it printed.
run_result ip(std::vector<std::string> args) {
  args.insert(args.begin(), ip_tool());
  return run_to_end(std::move(args), 20s);
}

void ip_or_throw(std::vector<std::string> args) {
  const std::string what = [&] {
    std::string s = "ip";
    for (const auto& a : args) {
      s += " " + a;
    }
    return s;
  }();
  auto r = ip(std::move(args));
  if (r.exit_code != 0) {
    throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) + "):\n" + r.out);
  }
}

std::string unique_tag() {
  std::mt19937 rng{std::random_device{}()};
  std::ostringstream out;
  out << ::getpid() << "-" << std::hex << (rng() & 0xffffu);
  return out.str();
}

// Namespaces of earlier runs whose test process is gone (killed before it
// could clean up): "evnet-hosts-<pid>-<hex>-<host>".
void remove_stale_namespaces() {
  auto listed = ip({"netns", "list"});
  std::istringstream lines{listed.out};
  std::string line;
  const std::string prefix = "evnet-hosts-";
  while (std::getline(lines, line)) {
    auto at = line.find(prefix);
    if (at == std::string::npos) {
      continue;
    }
    auto name = line.substr(at);
    name = name.substr(0, name.find_first_of(" \t"));
    const auto pid_text = name.substr(prefix.size(), name.find('-', prefix.size()) - prefix.size());
    if (pid_text.empty() || !std::all_of(pid_text.begin(), pid_text.end(), ::isdigit)) {
      continue;
    }
    if (!fs::exists("/proc/" + pid_text)) {
      (void)ip({"netns", "del", name});
    }
  }
}

// Three hosts and a bridge, as network namespaces; gone with the object.
class lab {
public:
  struct host {
    std::string ns;
    std::string address;   // IPv4
    std::string address6;  // IPv6, empty where the namespace has none
    std::string port;      // its port on the bridge (in the bridge namespace)
  };

  lab() : tag_(unique_tag()) {
    remove_stale_namespaces();
    bridge_ = "evnet-hosts-" + tag_ + "-bridge";
    central_ = {"evnet-hosts-" + tag_ + "-central", "10.77.0.1", "fd77::1", "central"};
    cps_ = {"evnet-hosts-" + tag_ + "-cps", "10.77.0.2", "fd77::2", "cps"};
    drivers_ = {"evnet-hosts-" + tag_ + "-drivers", "10.77.0.3", "fd77::3", "drivers"};
    try {
      add_ns(bridge_);
      ip_or_throw({"-n", bridge_, "link", "add", "br0", "type", "bridge"});
      ip_or_throw({"-n", bridge_, "link", "set", "dev", "br0", "up"});
      for (auto* h : {&central_, &cps_, &drivers_}) {
        add_ns(h->ns);
        ip_or_throw({"-n", h->ns, "link", "set", "dev", "lo", "up"});
        // One veth pair: eth0 in the host, its other end a bridge port.
        ip_or_throw({"link", "add", "eth0", "netns", h->ns, "type", "veth", "peer", "name", h->port, "netns", bridge_});
        ip_or_throw({"-n", bridge_, "link", "set", "dev", h->port, "master", "br0", "up"});
        ip_or_throw({"-n", h->ns, "addr", "add", h->address + "/24", "dev", "eth0"});
        // IPv6 too where the kernel has it (nodad: usable at once).
        if (ip({"-n", h->ns, "addr", "add", h->address6 + "/64", "dev", "eth0", "nodad"}).exit_code != 0) {
          h->address6.clear();
        }
        ip_or_throw({"-n", h->ns, "link", "set", "dev", "eth0", "up"});
      }
    } catch (...) {
      remove();
      throw;
    }
  }
  ~lab() { remove(); }
  lab(const lab&) = delete;
  lab& operator=(const lab&) = delete;

  const host& central() const { return central_; }
  const host& cps() const { return cps_; }
  const host& drivers() const { return drivers_; }

  // The host's link down / up, at its bridge port: its peer loses carrier,
  // and nothing crosses in either direction.
  void cut(const host& h) { ip_or_throw({"-n", bridge_, "link", "set", "dev", h.port, "down"}); }
  void restore(const host& h) { ip_or_throw({"-n", bridge_, "link", "set", "dev", h.port, "up"}); }

  // argv that runs `argv` inside host h; the program dies with this process.
  std::vector<std::string> on(const host& h, std::vector<std::string> argv) const {
    std::vector<std::string> out{ip_tool(), "netns", "exec", h.ns};
    if (const auto setpriv = find_tool({"/usr/bin/setpriv", "/bin/setpriv"}); !setpriv.empty()) {
      out.insert(out.end(), {setpriv, "--pdeathsig", "KILL"});
    }
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

private:
  void add_ns(const std::string& name) {
    ip_or_throw({"netns", "add", name});
    made_.push_back(name);
  }
  void remove() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      (void)ip({"netns", "del", *it});
    }
    made_.clear();
  }

  std::string tag_;
  std::string bridge_;
  host central_;
  host cps_;
  host drivers_;
  std::vector<std::string> made_;
};

// ---- keys per host -------------------------------------------------------------------------

// What each host holds (README, "On separate machines"): Central its own
// pair; a CP host Central's public key and its CPs' pairs; a driver host
// Central's public key and its drivers' pairs.
std::string key_dir_for(const temp_dir& dir, const std::string& all_keys, const std::string& host,
                        const std::vector<std::string>& files) {
  const auto out = dir.file("keys-" + host);
  fs::create_directories(out);
  fs::permissions(out, fs::perms::owner_all);
  for (const auto& f : files) {
    fs::copy_file(all_keys + "/" + f, out + "/" + f, fs::copy_options::overwrite_existing);
  }
  return out;
}

bool help_mentions(const std::string& program, const std::string& option) {
  auto r = run_to_end({program_path(program), "--help"}, 10s);
  return r.out.find(option) != std::string::npos;
}

struct cp_def {
  std::string id;
  double price;
  std::string engine_port;
};

// Every charge Central authorised, with what the driver asked for.
struct charge {
  std::string id;
  std::string cp;
  std::string driver;
};

} // namespace

BOOST_AUTO_TEST_CASE(three_hosts_survive_a_ten_second_cut_of_the_cps_host) {
  lab net;
  temp_dir dir;
  const std::vector<cp_def> cps{{"BCN1", 0.37, "6000"}, {"BCN2", 0.43, "6001"}};
  const std::vector<std::string> drivers{"D1", "D2"};
  const std::string central_port = "7000";
  const auto price_of = [&](const std::string& cp) {
    for (const auto& c : cps) {
      if (c.id == cp) {
        return c.price;
      }
    }
    BOOST_FAIL("no CP " << cp);
    return 0.0;
  };

  // Registry, keys (made where Central runs), then each host's share.
  {
    evnet::json::array cp_rows;
    for (const auto& c : cps) {
      cp_rows.push_back(evnet::json::object{{"id", c.id}, {"location", "Host B, rack " + c.id}, {"price", c.price}});
    }
    evnet::json::array driver_rows;
    for (const auto& d : drivers) {
      driver_rows.push_back(evnet::json::object{{"id", d}, {"name", "Driver " + d}});
    }
    std::ofstream{dir.file("db.json")} << evnet::json::dump(
        evnet::json::object{{"cps", std::move(cp_rows)}, {"drivers", std::move(driver_rows)}});
  }
  auto made = run_to_end({program_path("evnet_keys"), "init", "--keys", dir.file("keys"), "--db",
                          dir.file("central.db"), "--config", dir.file("db.json")},
                         60s);
  BOOST_TEST_REQUIRE(made.exit_code == 0, "evnet_keys init: " << made.out);
  const auto keys_central = key_dir_for(dir, dir.file("keys"), "central", {"central.pub", "central.key"});
  std::vector<std::string> cp_files{"central.pub"};
  for (const auto& c : cps) {
    cp_files.insert(cp_files.end(), {"cp-" + c.id + ".pub", "cp-" + c.id + ".key"});
  }
  const auto keys_cps = key_dir_for(dir, dir.file("keys"), "cps", cp_files);
  std::vector<std::string> driver_files{"central.pub"};
  for (const auto& d : drivers) {
    driver_files.insert(driver_files.end(), {"driver-" + d + ".pub", "driver-" + d + ".key"});
  }
  const auto keys_drivers = key_dir_for(dir, dir.file("keys"), "drivers", driver_files);

  // Each driver's file runs across both CPs: a short service, then a long
  // one at the other CP, during which the link is cut.
  const int short_s = 3;
  const int long_s = 25;
  std::ofstream{dir.file("services-D1.txt")} << "# D1: " << cps[0].id << " then " << cps[1].id << "\n"
                                              << cps[0].id << " " << short_s << "\n"
                                              << cps[1].id << " " << long_s << "\n";
  std::ofstream{dir.file("services-D2.txt")} << "# D2: " << cps[1].id << " then " << cps[0].id << "\n"
                                              << cps[1].id << " " << short_s << "\n"
                                              << cps[0].id << " " << long_s << "\n";

  // Central on every interface, IPv4 and IPv6. Where it has the stream
  // port option, its stream goes on a port that is not port+1: the drivers
  // must learn it from Central. They reach Central over IPv6 then (same
  // generation of the programs), the CPs over IPv4.
  std::vector<std::string> central_argv{program_path("EV_Central"), central_port, "--headless", "--config",
                                        dir.file("db.json"), "--db", dir.file("central.db"), "--keys", keys_central};
  const bool learns_stream_port = help_mentions("EV_Central", "--pub-port");
  const std::string stream_port = "7100";
  if (learns_stream_port) {
    central_argv.insert(central_argv.end(), {"--pub-port", stream_port});
  }
  const std::string central_for_drivers =
      learns_stream_port && !net.central().address6.empty() ? net.central().address6 : net.central().address;
  process central{"central", net.on(net.central(), central_argv), dir.path()};
  auto started = central.expect(event_is("started"), 15s, "Central started");
  if (learns_stream_port) {
    BOOST_TEST(num(started, "pub_port") == std::stod(stream_port),
               "Central's started event names the stream port it was given: " << evnet::json::dump(started));
  }

  // Host B: the Engines listen for their Monitors on the host itself.
  const bool engine_binds = help_mentions("EV_CP_E", "--bind");
  std::vector<std::unique_ptr<process>> engines;
  std::vector<std::unique_ptr<process>> monitors;
  for (const auto& c : cps) {
    std::vector<std::string> argv{program_path("EV_CP_E"), net.central().address, central_port, "--cp", c.id,
                                  "--listen", c.engine_port, "--headless", "--store",
                                  dir.file("engine-" + c.id + ".db"), "--keys", keys_cps};
    if (engine_binds) {
      argv.insert(argv.end(), {"--bind", "127.0.0.1"});
    }
    engines.push_back(std::make_unique<process>("engine-" + c.id, net.on(net.cps(), argv), dir.path()));
    engines.back()->expect(event_is("started"), 15s, "Engine " + c.id + " started");
    monitors.push_back(std::make_unique<process>(
        "monitor-" + c.id,
        net.on(net.cps(), {program_path("EV_CP_M"), "127.0.0.1", c.engine_port, net.central().address, central_port,
                           c.id, "--headless", "--keys", keys_cps}),
        dir.path()));
    monitors.back()->expect(event_is("started"), 15s, "Monitor " + c.id + " started");
  }
  for (const auto& c : cps) {
    central.expect_ever(state_of(c.id, "ACTIVE"), 30s, c.id + " ACTIVE across the bridge");
  }

  // Host C: the drivers and their files.
  std::map<std::string, std::unique_ptr<process>> driver;
  for (const auto& d : drivers) {
    driver[d] = std::make_unique<process>(
        "driver-" + d,
        net.on(net.drivers(), {program_path("EV_Driver"), central_for_drivers, central_port, d, "--headless",
                               "--file", dir.file("services-" + d + ".txt"), "--keys", keys_drivers}),
        dir.path());
  }
  for (const auto& d : drivers) {
    auto file = driver[d]->expect(event_is("file"), 20s, d + " file loaded");
    BOOST_TEST(num(file, "services") == 2.0);
  }
  // The short services: exact tickets through the bridge before any cut.
  const std::map<std::string, std::pair<std::string, std::string>> route{{"D1", {cps[0].id, cps[1].id}},
                                                                         {"D2", {cps[1].id, cps[0].id}}};
  for (const auto& d : drivers) {
    const auto& first = route.at(d).first;
    auto t = driver[d]->expect(event_is("ticket", {{"cp", first}}), 30s, d + " ticket of the short service");
    check_ticket(t, first, d, short_s, price_of(first), "completed");
  }
  // The long services: both supplying before the cut.
  for (const auto& d : drivers) {
    const auto& second = route.at(d).second;
    driver[d]->expect(event_is("authorized", {{"cp", second}}), 20s, d + " authorised at " + second);
    driver[d]->expect(event_is("progress", {{"cp", second}, {"kwh", 2.0}}), 15s, d + " supplying at " + second);
  }

  // The cut: the only fixed wait of this test is the cut itself.
  const auto cut_for = 10s;
  const auto cut_at = now_ms();
  net.cut(net.cps());
  std::this_thread::sleep_for(cut_for);
  net.restore(net.cps());
  const auto restored_at = now_ms();

  // Both ends noticed within the cut: Central saw the CPs go (its peer
  // timeout, 3.5 s), the Engines and Monitors saw Central go (3 s).
  const auto during_cut = [&](const predicate& p) {
    return [p, cut_at, restored_at](const value& ev) {
      return p(ev) && num(ev, "ts") >= double(cut_at) && num(ev, "ts") <= double(restored_at);
    };
  };
  for (const auto& c : cps) {
    central.expect_ever(during_cut(state_of(c.id, "DISCONNECTED")), 1s, c.id + " DISCONNECTED during the cut");
  }
  for (auto& p : engines) {
    p->expect_ever(during_cut(event_is("central", {{"status", "unreachable"}})), 1s, "Central unreachable");
  }
  for (auto& p : monitors) {
    p->expect_ever(during_cut(event_is("central", {{"status", "unreachable"}})), 1s, "Central unreachable");
  }

  // Back without restarting anything, within the transport's worst case
  // plus a margin for the handshake and authentication on a busy machine.
  const auto bound = reconnect_bound(cut_for, 1s) + 10s;
  for (const auto& c : cps) {
    const auto deadline = restored_at + bound.count();
    const auto left = milliseconds{std::max<std::int64_t>(deadline - now_ms(), 0)};
    central.expect_ever(
        [&](const value& ev) { return state_of(c.id, "ACTIVE")(ev) && num(ev, "ts") >= double(restored_at); }, left,
        c.id + " ACTIVE again within " + std::to_string(bound.count()) + " ms of the restore");
  }
  double back_after_s = 0;
  for (const auto& c : cps) {
    for (const auto& ev : central.all(state_of(c.id, "ACTIVE"))) {
      if (num(ev, "ts") >= double(restored_at)) {
        back_after_s = std::max(back_after_s, (num(ev, "ts") - double(restored_at)) / 1000.0);
        break;
      }
    }
  }
  for (auto& p : engines) {
    p->expect_ever(
        [&](const value& ev) {
          return event_is("central", {{"status", "connected"}})(ev) && num(ev, "ts") >= double(restored_at);
        },
        milliseconds{std::max<std::int64_t>(restored_at + bound.count() - now_ms(), 0)}, "Engine reconnected");
  }

  // The long charges end (at the Engine, whatever Central saw) and their
  // tickets reach Central and the drivers.
  const auto ticket_wait = std::max(bound, milliseconds{long_s * 1000}) + 15s;
  for (const auto& d : drivers) {
    driver[d]->expect_ever(event_is("ticket", {{"cp", route.at(d).second}}), ticket_wait,
                           d + " ticket of the long service");
    driver[d]->expect_ever(event_is("file_done"), 20s, d + " file done");
  }

  // After it all, each CP charges again as if nothing had happened.
  for (const auto& d : drivers) {
    driver[d]->skip_to_end();
    driver[d]->send("charge " + route.at(d).first + " 2");
  }
  for (const auto& d : drivers) {
    auto t = driver[d]->expect(event_is("ticket", {{"cp", route.at(d).first}}), 30s, d + " ticket after the cut");
    check_ticket(t, route.at(d).first, d, 2.0, price_of(route.at(d).first), "completed");
  }

  // The books. Every charge Central authorised ...
  std::vector<charge> charges;
  for (const auto& ev : central.all(event_is("authorized"))) {
    charges.push_back({str(ev, "charge_id"), str(ev, "cp"), str(ev, "driver")});
  }
  BOOST_TEST(charges.size() == 6u, "3 charges per driver, got " << charges.size());
  // ... was delivered to its driver (its ticket acknowledged) ...
  for (const auto& c : charges) {
    central.expect_ever(event_is("delivered", {{"charge_id", c.id}}), 20s, "delivered " + c.id);
  }
  std::map<std::string, value> finished;  // by charge id, the Engine's own figures
  for (std::size_t i = 0; i < cps.size(); ++i) {
    for (const auto& ev : engines[i]->all(event_is("finished"))) {
      BOOST_TEST(finished.count(str(ev, "charge_id")) == 0u, "finished twice: " << evnet::json::dump(ev));
      finished[str(ev, "charge_id")] = ev;
    }
  }
  for (const auto& c : charges) {
    const std::string what = c.id + " (" + c.driver + " at " + c.cp + ")";
    BOOST_TEST_CONTEXT(what) {
      BOOST_TEST_REQUIRE(finished.count(c.id) == 1u, "the Engine finished it");
      const auto& f = finished.at(c.id);
      const double kwh = num(f, "kwh");
      // kWh = whole seconds supplied x 1 kWh.
      const double supplied_s = (num(f, "end") - num(f, "start")) / 1000.0;
      BOOST_TEST(std::abs(kwh - std::floor(supplied_s + 0.5)) <= 1.0, evnet::json::dump(f));
      if (str(f, "reason") == "completed") {
        BOOST_TEST((kwh == double(short_s) || kwh == double(long_s) || kwh == 2.0), evnet::json::dump(f));
      }
      check_ticket(f, c.cp, c.driver, kwh, price_of(c.cp));
      // Exactly one ticket at Central and one at the driver, with the
      // Engine's figures.
      const auto at_central = central.all(ticket_for(c.id));
      BOOST_TEST(at_central.size() == 1u);
      for (const auto& t : at_central) {
        check_ticket(t, c.cp, c.driver, kwh, price_of(c.cp));
      }
      const auto at_driver = driver.at(c.driver)->all(ticket_for(c.id));
      BOOST_TEST(at_driver.size() == 1u);
      for (const auto& t : at_driver) {
        check_ticket(t, c.cp, c.driver, kwh, price_of(c.cp));
      }
    }
  }
  // The long charges ran through the cut: each supplied its whole duration
  // or, if the CP ended it, at least what the driver saw before the cut.
  for (const auto& d : drivers) {
    const auto& cp = route.at(d).second;
    auto t = driver[d]->all(event_is("ticket", {{"cp", cp}}));
    BOOST_TEST_REQUIRE(!t.empty());
    BOOST_TEST(num(t.front(), "kwh") >= 2.0);
    BOOST_TEST(num(t.front(), "kwh") <= double(long_s));
  }

  // The drivers followed Central's stream (CP states), from their host.
  for (const auto& d : drivers) {
    BOOST_TEST(!driver[d]->all(event_is("cp_state")).empty(),
               d << " saw no update from Central's stream (port "
                 << (learns_stream_port ? stream_port + ", learnt from Central's snapshot" : std::string{"port+1"})
                 << ")");
  }

  // Nothing was restarted: the same processes ran from the start.
  for (auto& p : engines) {
    BOOST_TEST(p->running(), p->name() << " still running");
  }
  for (auto& p : monitors) {
    BOOST_TEST(p->running(), p->name() << " still running");
  }

  // Central's store, after an orderly stop: one record per charge.
  for (auto& [id, p] : driver) {
    p->terminate();
  }
  for (auto& p : monitors) {
    p->terminate();
  }
  for (auto& p : engines) {
    p->terminate();
  }
  BOOST_TEST(central.terminate() == 0);
  auto store = evnet::store::central_store::open(dir.file("central.db"));
  BOOST_TEST_REQUIRE(bool(store), "open the store");
  auto stored = (*store)->charges();
  BOOST_TEST_REQUIRE(bool(stored), "read the charges");
  BOOST_TEST(stored->size() == charges.size());
  for (const auto& c : charges) {
    const auto n = std::count_if(stored->begin(), stored->end(), [&](const auto& r) { return r.charge_id == c.id; });
    BOOST_TEST(n == 1, c.id << " stored " << n << " times");
    for (const auto& r : *stored) {
      if (r.charge_id == c.id) {
        BOOST_TEST(r.kwh == num(finished.at(c.id), "kwh"), c.id);
        BOOST_TEST(std::abs(r.amount - expected_amount(r.kwh, price_of(c.cp))) < 1e-9, c.id);
      }
    }
  }

  std::string cut_charges;
  for (const auto& d : drivers) {
    for (const auto& t : driver[d]->all(event_is("ticket", {{"cp", route.at(d).second}}))) {
      cut_charges += " " + d + "@" + route.at(d).second + " " + evnet::json::dump(*evnet::json::find(t, "kwh")) +
                     " kWh (" + str(t, "reason") + ")";
    }
  }
  std::cout << "hosts: charges through the cut:" << cut_charges << std::endl;
  std::cout << "hosts: drivers reached Central at " << central_for_drivers << " (stream port "
            << (learns_stream_port ? stream_port + ", learnt from Central" : std::string{"port+1"}) << "); "
            << "CPs' link cut for " << cut_for.count() << " s; both CPs ACTIVE again " << back_after_s
            << " s after the restore (bound " << double(bound.count()) / 1000.0 << " s); " << charges.size()
            << " charges, " << central.all(event_is("ticket")).size() << " tickets at Central, "
            << central.all(event_is("interrupted")).size() << " interrupted by the cut" << std::endl;
}

// Skips (exit 77) where network namespaces cannot be made, and says why.
int main(int argc, char* argv[]) {
  const auto skip = [](const std::string& why) {
    std::cout << "SKIP: " << why << std::endl;
    return 77;
  };
  if (::geteuid() != 0) {
    return skip("needs root to create network namespaces (ip netns add); run the tests as root to include it");
  }
  if (ip_tool().empty()) {
    return skip("the ip command (iproute2) is missing: apt-get install iproute2");
  }
  const std::string probe = "evnet-hosts-" + unique_tag() + "-probe";
  auto made = ip({"netns", "add", probe});
  if (made.exit_code != 0) {
    return skip("ip netns add failed (no network namespaces here):\n" + made.out);
  }
  auto bridge = ip({"-n", probe, "link", "add", "br0", "type", "bridge"});
  auto veth = ip({"-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1"});
  (void)ip({"netns", "del", probe});
  if (bridge.exit_code != 0 || veth.exit_code != 0) {
    return skip("cannot create a bridge or a veth pair in a namespace:\n" + bridge.out + veth.out);
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

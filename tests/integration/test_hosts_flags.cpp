// Issue #9: every program binds and connects only where it is told, IPv6
// literals work everywhere, and a driver learns Central's stream port from
// Central (--pub-port) instead of assuming <port>+1.
#define BOOST_TEST_MODULE integration_hosts_flags
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace evnet::testing;

namespace {

// Whether a TCP socket can listen on the IPv6 loopback here.
bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A port other than `avoid`, free now.
std::uint16_t another_port(std::uint16_t avoid) {
  for (;;) {
    const auto p = free_port(1);
    if (p != avoid && p != avoid + 1) {
      return p;
    }
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_whole_charge_over_ipv6_with_the_stream_on_its_own_port) {
  if (!ipv6_loopback()) {
    BOOST_WARN_MESSAGE(false, "SKIPPED: this machine has no IPv6 loopback (::1) to listen on");
    return;
  }
  network net{three_cps()};
  const auto port = net.central_port();
  // Not <port>+1: a driver that assumed the old convention would hear nothing.
  const auto pub_port = another_port(port);
  const auto engine_port = net.engine_port("ALC1");
  const auto& dir = net.dir();

  process central{"central",
                  net.with_keys({program_path("EV_Central"), std::to_string(port), "--bind", "::1", "--pub-port",
                                 std::to_string(pub_port), "--headless", "--config", dir.file("db.json"), "--db",
                                 dir.file("central.db")})};
  auto started = central.expect(event_is("started"), 15s, "central started");
  BOOST_TEST(num(started, "port") == double(port));
  BOOST_TEST(num(started, "pub_port") == double(pub_port));
  BOOST_TEST(str(started, "bind") == "::1");

  process engine{"engine-ALC1",
                 net.with_keys({program_path("EV_CP_E"), "::1", std::to_string(port), "--cp", "ALC1", "--listen",
                                std::to_string(engine_port), "--bind", "::1", "--headless", "--store",
                                dir.file("engine-ALC1.db")})};
  engine.expect(event_is("started"), 15s, "engine started");
  process monitor{"monitor-ALC1", net.with_keys({program_path("EV_CP_M"), "::1", std::to_string(engine_port), "::1",
                                                 std::to_string(port), "ALC1", "--headless"})};
  monitor.expect(event_is("auth", {{"ok", true}}), 20s, "monitor authenticated over IPv6");
  central.expect(state_of("ALC1", "ACTIVE"), 20s, "ALC1 ACTIVE");

  process driver{"driver-D1",
                 net.with_keys({program_path("EV_Driver"), "::1", std::to_string(port), "D1", "--headless"})};
  // The first snapshot names the stream's port; the driver subscribes there.
  const std::string learned = "tcp://[::1]:" + std::to_string(pub_port);
  auto stream = driver.expect(event_is("stream", {{"reason", "learned"}}), 20s, "driver subscribes");
  BOOST_TEST(str(stream, "endpoint") == learned);
  BOOST_TEST(num(stream, "port") == double(pub_port));
  driver.expect(event_is("cps"), 20s, "the table");

  driver.send("charge ALC1 2");
  driver.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized");
  // ALC1 turning BUSY reaches the driver only through the stream: it is
  // subscribed where Central publishes.
  driver.expect_ever(state_of("ALC1", "BUSY"), 15s, "BUSY seen on the stream");
  auto ticket = driver.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ticket");
  check_ticket(ticket, "ALC1", "D1", 2.0, net.price("ALC1"), "completed");
  driver.expect_ever(state_of("ALC1", "ACTIVE"), 15s, "ACTIVE again, on the stream");
  central.expect(event_is("delivered", {{"cp", "ALC1"}, {"driver", "D1"}}), 15s, "ticket acknowledged");

  // Central's heartbeat on the stream keeps the driver subscribed: no
  // resubscription for silence while everything is up.
  for (const auto& ev : driver.all(event_is("stream"))) {
    BOOST_TEST(str(ev, "reason") != "silent");
    BOOST_TEST(str(ev, "endpoint") == learned);
  }
}

BOOST_AUTO_TEST_CASE(bad_hosts_and_stream_ports_are_usage_errors) {
  const std::vector<std::vector<std::string>> bad{
      {program_path("EV_Central"), "7000", "--pub-port", "7000"},
      {program_path("EV_Central"), "7000", "--pub-port", "0"},
      {program_path("EV_Central"), "7000", "--pub-port", "70000"},
      {program_path("EV_Central"), "65535"},
      {program_path("EV_Central"), "7000", "--bind", "central:7000"},
      {program_path("EV_Central"), "7000", "--bind", "a b"},
      {program_path("EV_Central"), "7000", "--bind", ""},
      {program_path("EV_CP_E"), "::1", "7000", "--cp", "ALC1", "--bind", "tcp://x"},
      {program_path("EV_CP_E"), "central/x", "7000", "--cp", "ALC1"},
      {program_path("EV_CP_M"), "::1", "6000", "[::1", "7000", "ALC1"},
      {program_path("EV_Driver"), "host:7000", "7000", "D1"},
  };
  for (const auto& argv : bad) {
    std::string line;
    for (const auto& a : argv) {
      line += a + " ";
    }
    // Generous: a loaded machine (a benchmark beside us) may take a while.
    auto r = run_to_end(argv, 60s);
    BOOST_TEST(r.exit_code == 2, line << "\n" << r.err);
    BOOST_TEST(r.err.find("usage:") != std::string::npos, line);
  }
  // The usage says what the flags are.
  auto help = run_to_end({program_path("EV_Central"), "--help"}, 60s);
  BOOST_TEST(help.exit_code == 0, help.err);
  BOOST_TEST(help.out.find("--pub-port") != std::string::npos);
  BOOST_TEST(help.out.find("--bind") != std::string::npos);
  help = run_to_end({program_path("EV_CP_E"), "--help"}, 60s);
  BOOST_TEST(help.exit_code == 0, help.err);
  BOOST_TEST(help.out.find("--bind") != std::string::npos);
}

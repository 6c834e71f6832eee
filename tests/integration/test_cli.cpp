// Command lines: --help, wrong arguments, a port already taken.
#define BOOST_TEST_MODULE integration_cli
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace evnet::testing;

BOOST_AUTO_TEST_CASE(help_prints_usage_and_exits_zero) {
  for (const auto* prog : {"EV_Central", "EV_CP_E", "EV_CP_M", "EV_Driver"}) {
    auto r = run_to_end({program_path(prog), "--help"});
    BOOST_TEST(r.exit_code == 0, prog);
    BOOST_TEST(r.out.find("usage: " + std::string(prog)) != std::string::npos, prog);
  }
}

BOOST_AUTO_TEST_CASE(wrong_arguments_print_usage_and_exit_two) {
  std::vector<std::vector<std::string>> cases = {
      {program_path("EV_Central")},
      {program_path("EV_Central"), "notaport"},
      {program_path("EV_Central"), "7000", "--bogus"},
      {program_path("EV_CP_E"), "127.0.0.1"},
      {program_path("EV_CP_E"), "127.0.0.1", "7000", "--listen", "99999"},
      {program_path("EV_CP_M"), "127.0.0.1", "6000", "127.0.0.1", "7000"},
      {program_path("EV_CP_M"), "127.0.0.1", "6000", "127.0.0.1", "7000", "bad id"},
      {program_path("EV_Driver"), "127.0.0.1", "7000"},
      {program_path("EV_Driver"), "127.0.0.1", "7000", "D1", "--duration", "-3"},
  };
  for (auto& argv : cases) {
    auto r = run_to_end(argv);
    BOOST_TEST(r.exit_code == 2, argv.back());
    BOOST_TEST(r.err.find("usage:") != std::string::npos, argv.back());
  }
}

BOOST_AUTO_TEST_CASE(a_port_already_taken_gives_one_clear_line) {
  temp_dir dir;
  auto port = free_port(2);
  process first{"central-1", {program_path("EV_Central"), std::to_string(port), "--headless", "--db",
                              dir.file("a.db"), "--config", EVNET_SOURCE_ROOT "/config/db.json"}};
  first.expect(event_is("started"), 15s, "started");
  auto r = run_to_end({program_path("EV_Central"), std::to_string(port), "--headless", "--db", dir.file("b.db"),
                       "--config", EVNET_SOURCE_ROOT "/config/db.json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("Address already in use") != std::string::npos);
  BOOST_TEST(r.err.find("terminate") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unreachable_central_is_reported_not_fatal) {
  auto port = free_port(2);  // nobody listens here
  process driver{"driver", {program_path("EV_Driver"), "127.0.0.1", std::to_string(port), "D1", "--headless"}};
  auto ev = driver.expect(event_is("central", {{"status", "unreachable"}}), 20s, "unreachable");
  BOOST_TEST(str(ev, "text").find("cannot reach CENTRAL at 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  driver.send("charge ALC1 5");
  auto denied = driver.expect(event_is("denied"), 10s, "denied");
  BOOST_TEST(str(denied, "reason").find("cannot reach CENTRAL") != std::string::npos);
  BOOST_TEST(driver.running());
  driver.send("quit");
  BOOST_TEST(driver.wait_exit(10s) == 0);
}

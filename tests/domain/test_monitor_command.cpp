#define BOOST_TEST_MODULE domain_monitor_command
#include <boost/test/unit_test.hpp>

#include "evnet/domain/monitor_command.hpp"

#include <string>

using evnet::errc;
using evnet::domain::monitor_verb;
using evnet::domain::parse_monitor_command;

BOOST_AUTO_TEST_CASE(charge_with_and_without_seconds) {
  auto c = parse_monitor_command("charge");
  BOOST_TEST_REQUIRE(c.ok());
  BOOST_TEST((c->verb == monitor_verb::charge));
  BOOST_TEST(c->duration_s == 0);
  auto d = parse_monitor_command("  charge   12 ");
  BOOST_TEST_REQUIRE(d.ok());
  BOOST_TEST((d->verb == monitor_verb::charge));
  BOOST_TEST(d->duration_s == 12);
  auto longest = parse_monitor_command("charge " + std::to_string(evnet::max_duration_s));
  BOOST_TEST_REQUIRE(longest.ok());
  BOOST_TEST(longest->duration_s == evnet::max_duration_s);
}

BOOST_AUTO_TEST_CASE(quit_and_empty_lines) {
  auto q = parse_monitor_command("quit");
  BOOST_TEST_REQUIRE(q.ok());
  BOOST_TEST((q->verb == monitor_verb::quit));
  for (const auto* blank : {"", "   ", "\t"}) {
    auto n = parse_monitor_command(blank);
    BOOST_TEST_REQUIRE(n.ok());
    BOOST_TEST((n->verb == monitor_verb::none));
  }
}

BOOST_AUTO_TEST_CASE(unknown_lines_are_bad_commands_that_list_the_commands) {
  for (const auto* bad : {"help", "quit now", "charge 5 6", "CHARGE 5", "stop"}) {
    auto r = parse_monitor_command(bad);
    BOOST_TEST_REQUIRE(!r.ok(), bad);
    BOOST_TEST(r.err().code == errc::bad_command, bad);
    BOOST_TEST(r.err().message == "unknown command '" + std::string(bad) + "' (try: charge [SECONDS], quit)");
  }
}

BOOST_AUTO_TEST_CASE(durations_are_whole_seconds_between_one_and_the_longest_allowed) {
  for (const auto* bad : {"0", "-3", "86401", "99999999999999999999", "5s", "abc", "1.5", "+5"}) {
    auto r = parse_monitor_command(std::string("charge ") + bad);
    BOOST_TEST_REQUIRE(!r.ok(), bad);
    BOOST_TEST(r.err().code == errc::bad_duration, bad);
    BOOST_TEST(r.err().message == "SECONDS must be a whole number of seconds between 1 and 86400, not '" +
                                      std::string(bad) + "'");
  }
}

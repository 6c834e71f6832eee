#define BOOST_TEST_MODULE domain_driver_command
#include <boost/test/unit_test.hpp>

#include "evnet/domain/driver_command.hpp"
#include "evnet/vocabulary.hpp"

#include <string>
#include <vector>

using namespace evnet;
using namespace evnet::domain;

namespace {

const std::string hint = " (try: list, charge <CP> [SECONDS], file <PATH>, quit)";

template <class T>
T as(const result<driver_command>& r) {
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(std::holds_alternative<T>(*r));
  return std::get<T>(*r);
}

void expect_error(const std::string& line, const std::string& message) {
  BOOST_TEST_CONTEXT("line '" << line << "'") {
    const auto r = parse_driver_command(line);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.err().code == errc::bad_command);
    BOOST_TEST(r.err().message == message);
  }
}

void expect_unknown(const std::string& line) { expect_error(line, "unknown command '" + line + "'" + hint); }

} // namespace

BOOST_AUTO_TEST_CASE(blank_lines_are_nothing) {
  as<driver_cmd::nothing>(parse_driver_command(""));
  as<driver_cmd::nothing>(parse_driver_command("   \t "));
}

BOOST_AUTO_TEST_CASE(list_and_quit) {
  as<driver_cmd::list>(parse_driver_command("list"));
  as<driver_cmd::list>(parse_driver_command("  list  "));
  as<driver_cmd::quit>(parse_driver_command("quit"));
}

BOOST_AUTO_TEST_CASE(charge_with_and_without_seconds) {
  const auto plain = as<driver_cmd::charge>(parse_driver_command("charge ALC1"));
  BOOST_TEST(plain.cp_id == "ALC1");
  BOOST_TEST(!plain.duration_s.has_value());

  const auto timed = as<driver_cmd::charge>(parse_driver_command("charge  MAD2\t5"));
  BOOST_TEST(timed.cp_id == "MAD2");
  BOOST_REQUIRE(timed.duration_s.has_value());
  BOOST_TEST(*timed.duration_s == 5);

  const auto longest = as<driver_cmd::charge>(parse_driver_command("charge X " + std::to_string(max_duration_s)));
  BOOST_TEST(*longest.duration_s == max_duration_s);
}

BOOST_AUTO_TEST_CASE(bad_seconds_say_why_with_the_shared_limit) {
  const std::string limit = std::to_string(max_duration_s);
  const std::vector<std::string> bads{"0", "-3", "4.5", "5s", "x", std::to_string(max_duration_s + 1),
                                     "99999999999999999999999"};
  for (const auto& bad : bads) {
    expect_error("charge ALC1 " + bad,
                 "SECONDS must be a whole number of seconds between 1 and " + limit + ", not '" + bad + "'");
  }
}

BOOST_AUTO_TEST_CASE(file_takes_the_rest_of_the_line) {
  BOOST_TEST(as<driver_cmd::file>(parse_driver_command("file requests.txt")).path == "requests.txt");
  BOOST_TEST(as<driver_cmd::file>(parse_driver_command("file /tmp/my requests.txt")).path == "/tmp/my requests.txt");
  BOOST_TEST(as<driver_cmd::file>(parse_driver_command("  file   a.txt  \r")).path == "a.txt");
}

BOOST_AUTO_TEST_CASE(anything_else_is_an_unknown_command_with_todays_text) {
  expect_unknown("hello");
  expect_unknown("list all");
  expect_unknown("quit now");
  expect_unknown("charge");
  expect_unknown("charge A 5 extra");
  expect_unknown("file");
  expect_unknown("LIST");
  expect_unknown("filex a.txt");
}

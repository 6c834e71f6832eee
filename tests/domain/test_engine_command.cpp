#define BOOST_TEST_MODULE domain_engine_command
#include <boost/test/unit_test.hpp>

#include "evnet/domain/engine_command.hpp"

#include <string>

using evnet::errc;
using evnet::domain::engine_command;
using evnet::domain::parse_engine_command;

BOOST_TEST_DONT_PRINT_LOG_VALUE(engine_command)

namespace {

engine_command parsed(const std::string& line) {
  const auto c = parse_engine_command(line);
  BOOST_REQUIRE_MESSAGE(c.ok(), line + ": " + (c.ok() ? std::string() : c.err().message));
  return *c;
}

std::string refusal(const std::string& line) {
  const auto c = parse_engine_command(line);
  BOOST_REQUIRE_MESSAGE(!c.ok(), line + " was accepted");
  BOOST_TEST((c.err().code == errc::bad_command));
  return c.err().message;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_command) {
  BOOST_TEST((parsed("plug") == engine_command::plug));
  BOOST_TEST((parsed("unplug") == engine_command::unplug));
  BOOST_TEST((parsed("fault") == engine_command::fault));
  BOOST_TEST((parsed("repair") == engine_command::repair));
  BOOST_TEST((parsed("toggle") == engine_command::toggle));
  BOOST_TEST((parsed("quit") == engine_command::quit));
}

BOOST_AUTO_TEST_CASE(blanks_around_are_ignored) {
  BOOST_TEST((parsed("  plug  ") == engine_command::plug));
  BOOST_TEST((parsed("\tunplug\r\n") == engine_command::unplug));
}

BOOST_AUTO_TEST_CASE(a_blank_line_is_nothing_to_do) {
  BOOST_TEST((parsed("") == engine_command::none));
  BOOST_TEST((parsed("   ") == engine_command::none));
  BOOST_TEST((parsed("\t\r\n") == engine_command::none));
}

BOOST_AUTO_TEST_CASE(commands_take_no_argument) {
  BOOST_TEST(refusal("plug now") == "'plug' takes no argument");
  BOOST_TEST(refusal(" quit  please ") == "'quit' takes no argument");
}

BOOST_AUTO_TEST_CASE(unknown_words_list_the_commands) {
  BOOST_TEST(refusal("charge") == "unknown command 'charge' (try: plug, unplug, fault, repair, quit)");
  BOOST_TEST(refusal("  jump high ") == "unknown command 'jump high' (try: plug, unplug, fault, repair, quit)");
  // Case matters, as it always has.
  BOOST_TEST(refusal("PLUG") == "unknown command 'PLUG' (try: plug, unplug, fault, repair, quit)");
}

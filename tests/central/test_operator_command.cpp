#define BOOST_TEST_MODULE central_operator_command
#include <boost/test/unit_test.hpp>

#include "operator_command.hpp"

using evnet::cp_order;
using evnet::errc;
using evnet::central::operator_verb;
using evnet::central::parse_operator_command;

BOOST_AUTO_TEST_CASE(empty_lines_do_nothing) {
  const auto c = parse_operator_command("   ");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST((c->verb == operator_verb::none));
}

BOOST_AUTO_TEST_CASE(list_and_quit) {
  BOOST_TEST((parse_operator_command("list")->verb == operator_verb::list));
  BOOST_TEST((parse_operator_command("  quit ")->verb == operator_verb::quit));
  BOOST_TEST(!parse_operator_command("list all").ok());
}

BOOST_AUTO_TEST_CASE(stop_and_resume_name_a_cp_or_all) {
  const auto stop = parse_operator_command("stop ALC1");
  BOOST_REQUIRE(stop.ok());
  BOOST_TEST((stop->verb == operator_verb::order));
  BOOST_TEST((stop->order == cp_order::stop));
  BOOST_TEST(!stop->all);
  BOOST_TEST(stop->target == "ALC1");
  const auto all = parse_operator_command("resume all");
  BOOST_REQUIRE(all.ok());
  BOOST_TEST((all->order == cp_order::resume));
  BOOST_TEST(all->all);
  BOOST_TEST(all->target.empty());
}

BOOST_AUTO_TEST_CASE(orders_without_a_valid_target_are_refused_with_usage) {
  const auto bare = parse_operator_command("stop");
  BOOST_REQUIRE(!bare.ok());
  BOOST_TEST((bare.err().code == errc::bad_command));
  BOOST_TEST(bare.err().message == "usage: stop <CP_ID|all>");
  BOOST_TEST(!parse_operator_command("resume A B").ok());
  const auto bad = parse_operator_command(std::string("stop ") + std::string(65, 'x'));
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.err().message.find("is not a CP id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(add_takes_an_id_a_price_and_a_location) {
  const auto c = parse_operator_command("add VLC1 0.38 C/ de Colon 20, Valencia");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST((c->verb == operator_verb::add));
  BOOST_TEST(c->target == "VLC1");
  BOOST_TEST(c->price == 0.38);
  BOOST_TEST(c->location == "C/ de Colon 20, Valencia");
  BOOST_TEST(!parse_operator_command("add VLC1 0.38").ok());
  BOOST_TEST(!parse_operator_command("add all 0.38 Somewhere").ok());
  BOOST_TEST(!parse_operator_command("add VLC1 cheap Somewhere").ok());
  BOOST_TEST(!parse_operator_command("add VLC1 0 Somewhere").ok());
  BOOST_TEST(!parse_operator_command("add VLC1 101 Somewhere").ok());
}

BOOST_AUTO_TEST_CASE(unknown_words_are_refused) {
  const auto c = parse_operator_command("STOP ALC1");
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST((c.err().code == errc::bad_command));
  BOOST_TEST(c.err().message.find("unknown command") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(revoke_names_one_cp_or_driver) {
  const auto c = parse_operator_command("revoke ALC1");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST((c->verb == operator_verb::revoke));
  BOOST_TEST(c->target == "ALC1");
  BOOST_TEST(parse_operator_command(" revoke  D1 ")->target == "D1");
  const auto bare = parse_operator_command("revoke");
  BOOST_REQUIRE(!bare.ok());
  BOOST_TEST(bare.err().message == "usage: revoke <CP_ID|DRIVER_ID>");
  BOOST_TEST(!parse_operator_command("revoke ALC1 D1").ok());
  const auto bad = parse_operator_command("revoke cp:ALC1");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.err().code == errc::bad_command));
  BOOST_TEST(bad.err().message.find("is not a CP or driver id") != std::string::npos);
  // A hostile id is shown escaped, never raw.
  const auto ctl = parse_operator_command("revoke \x1b[2J");
  BOOST_REQUIRE(!ctl.ok());
  BOOST_TEST(ctl.err().message.find('\x1b') == std::string::npos);
}

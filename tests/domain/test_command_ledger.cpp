#define BOOST_TEST_MODULE domain_command_ledger
#include <boost/test/unit_test.hpp>

#include "evnet/domain/command_ledger.hpp"

using evnet::cp_order;
using evnet::domain::command_ledger;

BOOST_AUTO_TEST_CASE(an_order_is_resent_every_second_until_acked) {
  command_ledger l;
  const auto o = l.issue("ALC1", cp_order::stop, true, 11, 0);
  BOOST_TEST(o.correlation == 11u);
  BOOST_TEST(l.due(999).empty());
  auto due = l.due(1000);
  BOOST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].correlation == 11u);
  BOOST_TEST((due[0].what == cp_order::stop));
  BOOST_TEST(l.due(1500).empty());
  BOOST_TEST(l.due(2000).size() == 1u);
  const auto s = l.on_ack("ALC1", 11);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(s->report);
  BOOST_TEST(!l.outstanding("ALC1"));
  BOOST_TEST(l.due(10000).empty());
}

BOOST_AUTO_TEST_CASE(an_ack_must_carry_the_orders_correlation_and_come_for_its_cp) {
  command_ledger l;
  l.issue("ALC1", cp_order::stop, true, 11, 0);
  BOOST_TEST(!l.on_ack("ALC1", 12).has_value());
  BOOST_TEST(!l.on_ack("MAD1", 11).has_value());
  BOOST_TEST(l.outstanding("ALC1"));
}

BOOST_AUTO_TEST_CASE(an_unacknowledged_order_is_reported_once_after_five_seconds_and_still_resent) {
  command_ledger l;
  l.issue("ALC1", cp_order::stop, true, 11, 0);
  BOOST_TEST(l.overdue(4999).empty());
  const auto late = l.overdue(5000);
  BOOST_REQUIRE(late.size() == 1u);
  BOOST_TEST(late[0].cp_id == "ALC1");
  BOOST_TEST(l.overdue(9000).empty());
  BOOST_TEST(l.due(9000).size() == 1u);
  // A late ack settles it without a second report.
  const auto s = l.on_ack("ALC1", 11);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(!s->report);
}

BOOST_AUTO_TEST_CASE(a_silent_reapply_is_never_reported) {
  command_ledger l;
  l.issue("ALC1", cp_order::resume, false, 3, 0);
  BOOST_TEST(l.overdue(60000).empty());
  const auto s = l.on_ack("ALC1", 3);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST(!s->report);
}

BOOST_AUTO_TEST_CASE(a_newer_order_replaces_the_outstanding_one) {
  command_ledger l;
  l.issue("ALC1", cp_order::stop, true, 1, 0);
  l.issue("ALC1", cp_order::resume, true, 2, 100);
  BOOST_TEST(!l.on_ack("ALC1", 1).has_value());
  const auto s = l.on_ack("ALC1", 2);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST((s->o.what == cp_order::resume));
}

BOOST_AUTO_TEST_CASE(reapplying_an_operators_order_keeps_it_announced) {
  command_ledger l;
  l.issue("ALC1", cp_order::stop, true, 1, 0);
  l.issue("ALC1", cp_order::stop, false, 2, 1000);  // the CP came back
  const auto late = l.overdue(5000);
  BOOST_REQUIRE(late.size() == 1u);
  BOOST_TEST(late[0].correlation == 2u);
}

#define BOOST_TEST_MODULE domain_ticket_ledger
#include <boost/test/unit_test.hpp>

#include "evnet/domain/ticket_ledger.hpp"

using evnet::domain::ticket_ledger;
namespace protocol = evnet::protocol;

namespace {

protocol::charge_record rec(const std::string& charge, const std::string& driver) {
  protocol::charge_record r;
  r.cp_id = "ALC1";
  r.charge_id = charge;
  r.driver_id = driver;
  return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_ticket_is_resent_every_three_seconds_until_settled) {
  ticket_ledger l;
  BOOST_TEST(l.owe(rec("c1", "D1"), 1000));
  BOOST_TEST(!l.owe(rec("c1", "D1"), 1500));  // already owed
  BOOST_TEST(l.due(3999).empty());
  auto due = l.due(4000);
  BOOST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].charge_id == "c1");
  BOOST_TEST(l.due(6999).empty());
  BOOST_TEST(l.due(7000).size() == 1u);
  l.settle("ALC1", "c1");
  BOOST_TEST(l.due(100000).empty());
  BOOST_TEST(l.size() == 0u);
}

BOOST_AUTO_TEST_CASE(only_the_driver_it_was_sent_to_may_settle_it) {
  ticket_ledger l;
  l.owe(rec("c1", "D1"), 0);
  BOOST_TEST(l.owed_to("D1", "ALC1", "c1"));
  BOOST_TEST(!l.owed_to("D2", "ALC1", "c1"));
  BOOST_TEST(!l.owed_to("D1", "ALC1", "c2"));
  BOOST_TEST(!l.owed_to("D1", "MAD1", "c1"));
}

BOOST_AUTO_TEST_CASE(a_driver_that_leaves_takes_nothing_but_its_own_tickets_along) {
  ticket_ledger l;
  l.owe(rec("c1", "D1"), 0);
  l.owe(rec("c2", "D2"), 0);
  l.owe(rec("c3", "D1"), 0);
  l.forget_driver("D1");
  BOOST_TEST(l.size() == 1u);
  BOOST_TEST(l.owed_to("D2", "ALC1", "c2"));
}

BOOST_AUTO_TEST_CASE(due_tickets_come_in_a_stable_order) {
  ticket_ledger l;
  l.owe(rec("c3", "D1"), 0);
  l.owe(rec("c1", "D1"), 0);
  l.owe(rec("c2", "D1"), 0);
  const auto due = l.due(3000);
  BOOST_REQUIRE(due.size() == 3u);
  BOOST_TEST(due[0].charge_id == "c1");
  BOOST_TEST(due[2].charge_id == "c3");
}

#define BOOST_TEST_MODULE domain_request_ledger
#include <boost/test/unit_test.hpp>

#include "evnet/domain/request_ledger.hpp"

using evnet::domain::request_ledger;
namespace protocol = evnet::protocol;

namespace {

protocol::charge_request req(const std::string& driver, const std::string& id) {
  return protocol::charge_request{driver, "ALC1", 5, id};
}

protocol::charge_reply yes(const std::string& id) { return protocol::charge_reply{true, "", "ALC1", "c-" + id, id}; }

} // namespace

BOOST_AUTO_TEST_CASE(a_fresh_request_is_in_flight_until_answered) {
  request_ledger l;
  BOOST_TEST((l.on_request(req("D1", "r1"), "p1", 7).state == request_ledger::seen::fresh));
  BOOST_TEST(l.in_flight("D1", "r1"));
  const auto w = l.answer("D1", "r1", yes("r1"));
  BOOST_REQUIRE(w.has_value());
  BOOST_TEST(w->peer == "p1");
  BOOST_TEST(w->correlation == 7u);
  BOOST_TEST(w->request.request_id == "r1");
  BOOST_TEST(!l.in_flight("D1", "r1"));
}

BOOST_AUTO_TEST_CASE(a_retry_in_flight_moves_the_answer_to_the_latest_asker) {
  request_ledger l;
  l.on_request(req("D1", "r1"), "old-link", 1);
  BOOST_TEST((l.on_request(req("D1", "r1"), "new-link", 9).state == request_ledger::seen::in_flight));
  const auto w = l.answer("D1", "r1", yes("r1"));
  BOOST_REQUIRE(w.has_value());
  BOOST_TEST(w->peer == "new-link");
  BOOST_TEST(w->correlation == 9u);
}

BOOST_AUTO_TEST_CASE(a_retry_after_the_answer_gets_the_same_answer) {
  request_ledger l;
  l.on_request(req("D1", "r1"), "p1", 1);
  l.answer("D1", "r1", yes("r1"));
  const auto again = l.on_request(req("D1", "r1"), "p2", 2);
  BOOST_TEST((again.state == request_ledger::seen::answered));
  BOOST_TEST(again.answer.ok);
  BOOST_TEST(again.answer.charge_id == "c-r1");
  // The first answer stands even if another is offered later.
  BOOST_TEST(!l.answer("D1", "r1", protocol::charge_reply{false, "late", "ALC1", "", "r1"}).has_value());
  BOOST_TEST(l.on_request(req("D1", "r1"), "p3", 3).answer.ok);
}

BOOST_AUTO_TEST_CASE(request_ids_are_per_driver) {
  request_ledger l;
  l.on_request(req("D1", "r1"), "p1", 1);
  l.answer("D1", "r1", yes("r1"));
  BOOST_TEST((l.on_request(req("D2", "r1"), "p2", 1).state == request_ledger::seen::fresh));
}

BOOST_AUTO_TEST_CASE(answers_are_bounded_and_the_oldest_are_forgotten_first) {
  request_ledger l{3};
  for (int i = 0; i < 5; ++i) {
    const auto id = "r" + std::to_string(i);
    l.on_request(req("D1", id), "p", 1);
    l.answer("D1", id, yes(id));
  }
  BOOST_TEST(l.answered_count() == 3u);
  BOOST_TEST((l.on_request(req("D1", "r0"), "p", 1).state == request_ledger::seen::fresh));
  BOOST_TEST((l.on_request(req("D1", "r4"), "p", 1).state == request_ledger::seen::answered));
}

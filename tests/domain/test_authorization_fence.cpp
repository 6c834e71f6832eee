#define BOOST_TEST_MODULE domain_authorization_fence
#include <boost/test/unit_test.hpp>

#include "evnet/domain/authorization_fence.hpp"

using evnet::domain::authorization_fence;
using outcome = authorization_fence::outcome;
using ack_outcome = authorization_fence::ack_outcome;
namespace protocol = evnet::protocol;

namespace {

protocol::authorize_request ask(const std::string& rid, const std::string& cp = "ALC1") {
  return protocol::authorize_request{cp, "D1", 5, rid};
}
protocol::authorize_reply yes(const std::string& rid, const std::string& charge, const std::string& cp = "ALC1") {
  return protocol::authorize_reply{true, "", charge, cp, rid};
}
protocol::authorize_reply no(const std::string& rid, const std::string& why = "busy") {
  return protocol::authorize_reply{false, why, "", "ALC1", rid};
}
protocol::decision_ack acked(const std::string& rid, const std::string& charge, bool ok = true) {
  return protocol::decision_ack{"ALC1", rid, charge, ok, ok ? "" : "reservation_expired"};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_yes_while_pending_is_confirmed_once) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  BOOST_TEST(f.pending_at("ALC1"));
  BOOST_REQUIRE(f.pending("ALC1", "r1") != nullptr);
  const auto d = f.on_reply(yes("r1", "c1"), true, 1000);
  BOOST_TEST((d.kind == outcome::confirmed));
  BOOST_TEST(d.was_pending);
  BOOST_TEST(d.request.driver_id == "D1");
  BOOST_REQUIRE(d.decision.has_value());
  BOOST_TEST(d.decision->confirmed);
  BOOST_TEST(d.decision->charge_id == "c1");
  BOOST_TEST(d.decision->request_id == "r1");
  BOOST_TEST(!f.pending_at("ALC1"));
  BOOST_TEST(!f.refused("ALC1", "c1"));
  // It does not time out any more.
  BOOST_TEST(f.expire(100000).empty());
}

BOOST_AUTO_TEST_CASE(a_repeated_reply_gets_the_same_decision) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  const auto again = f.on_reply(yes("r1", "c1"), true, 1200);
  BOOST_TEST((again.kind == outcome::repeated));
  BOOST_TEST(!again.was_pending);
  BOOST_REQUIRE(again.decision.has_value());
  BOOST_TEST(again.decision->confirmed);
  // ... even if the network would say no now.
  const auto third = f.on_reply(yes("r1", "c1"), false, 1300);
  BOOST_TEST((third.kind == outcome::repeated));
  BOOST_TEST(third.decision->confirmed);
}

BOOST_AUTO_TEST_CASE(a_late_yes_after_the_timeout_is_cancelled_and_refused_for_ever) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  BOOST_TEST(f.expire(4999).empty());
  const auto expired = f.expire(5000);
  BOOST_REQUIRE(expired.size() == 1u);  // the driver is told no
  BOOST_TEST(expired[0].request_id == "r1");
  BOOST_TEST(f.expire(6000).empty());
  const auto late = f.on_reply(yes("r1", "c1"), true, 6000);
  BOOST_TEST((late.kind == outcome::cancelled));
  BOOST_TEST(!late.was_pending);
  BOOST_REQUIRE(late.decision.has_value());
  BOOST_TEST(!late.decision->confirmed);
  BOOST_TEST(f.refused("ALC1", "c1"));
  // Repeated: the same cancellation.
  const auto again = f.on_reply(yes("r1", "c1"), true, 7000);
  BOOST_TEST((again.kind == outcome::repeated));
  BOOST_TEST(!again.decision->confirmed);
}

BOOST_AUTO_TEST_CASE(a_yes_nobody_asked_for_is_cancelled) {
  authorization_fence f;  // e.g. Central restarted
  const auto d = f.on_reply(yes("r9", "c9"), true, 0);
  BOOST_TEST((d.kind == outcome::cancelled));
  BOOST_TEST(f.refused("ALC1", "c9"));
}

BOOST_AUTO_TEST_CASE(a_yes_the_network_no_longer_allows_is_cancelled_and_the_driver_told) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  const auto d = f.on_reply(yes("r1", "c1"), /*still_allowed=*/false, 1000);
  BOOST_TEST((d.kind == outcome::cancelled));
  BOOST_TEST(d.was_pending);
  BOOST_TEST(!d.decision->confirmed);
  BOOST_TEST(f.refused("ALC1", "c1"));
}

BOOST_AUTO_TEST_CASE(a_no_while_pending_is_the_cps_refusal_and_needs_no_decision) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  const auto d = f.on_reply(no("r1"), true, 1000);
  BOOST_TEST((d.kind == outcome::refused_by_cp));
  BOOST_TEST(d.was_pending);
  BOOST_TEST(!d.decision.has_value());
  BOOST_TEST(f.expire(10000).empty());
  BOOST_TEST((f.on_reply(no("r1"), true, 2000).kind == outcome::ignored));
  BOOST_TEST((f.on_reply(no("zz"), true, 2000).kind == outcome::ignored));
  // A yes after a no is cancelled: the driver was told no.
  const auto yes_after = f.on_reply(yes("r1", "c1"), true, 3000);
  BOOST_TEST((yes_after.kind == outcome::cancelled));
  BOOST_TEST(!yes_after.was_pending);
}

BOOST_AUTO_TEST_CASE(a_refused_charge_id_offered_again_is_cancelled_and_the_driver_told) {
  authorization_fence f;
  f.on_reply(yes("r1", "c1"), true, 0);  // unknown: cancelled
  f.open(ask("r1"), 100);                // the driver retried after a restart
  const auto d = f.on_reply(yes("r1", "c1"), true, 200);
  BOOST_TEST((d.kind == outcome::cancelled));
  BOOST_TEST(d.was_pending);
  BOOST_TEST(!f.pending_at("ALC1"));
}

BOOST_AUTO_TEST_CASE(decisions_are_resent_every_second_until_acked) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  BOOST_TEST(f.due(1999).empty());
  auto due = f.due(2000);
  BOOST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].confirmed);
  BOOST_TEST(f.due(2500).empty());
  BOOST_TEST(f.due(3000).size() == 1u);
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1")) == ack_outcome::done));
  BOOST_TEST(f.due(60000).empty());
  BOOST_TEST((f.on_decision_ack(acked("r1", "nope")) == ack_outcome::ignored));
}

BOOST_AUTO_TEST_CASE(resending_stops_when_the_monitor_is_gone_and_resumes_on_a_repeated_reply) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  f.monitor_gone("ALC1");
  BOOST_TEST(f.due(60000).empty());
  const auto again = f.on_reply(yes("r1", "c1"), true, 61000);  // relayed by its next Monitor
  BOOST_TEST((again.kind == outcome::repeated));
  BOOST_TEST(f.due(62000).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_late_confirm_is_reported_once) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1", false)) == ack_outcome::late_confirm));
  BOOST_TEST(f.due(10000).empty());
  BOOST_TEST(!f.refused("ALC1", "c1"));  // a record, should one come, proves supply
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1", false)) == ack_outcome::done));
  // A repeated reply now hears "cancelled".
  const auto again = f.on_reply(yes("r1", "c1"), true, 2000);
  BOOST_TEST(!again.decision->confirmed);
}

BOOST_AUTO_TEST_CASE(a_no_after_the_cp_took_the_confirmation_is_not_a_late_confirm) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1")) == ack_outcome::done));
  // A delayed resend reaches a restarted Engine, which says no.
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1", false)) == ack_outcome::done));
  BOOST_TEST(!f.refused("ALC1", "c1"));
}

BOOST_AUTO_TEST_CASE(a_no_after_the_cp_showed_it_supplies_is_not_a_late_confirm) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.on_reply(yes("r1", "c1"), true, 1000);
  f.supplied("ALC1", "c1");
  BOOST_TEST(f.due(10000).empty());
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1", false)) == ack_outcome::done));
  BOOST_TEST(!f.refused("ALC1", "c1"));
}

BOOST_AUTO_TEST_CASE(a_cancelled_decision_acked_not_ok_is_not_a_late_confirm) {
  authorization_fence f;
  f.on_reply(yes("r1", "c1"), true, 0);
  BOOST_TEST((f.on_decision_ack(acked("r1", "c1", false)) == ack_outcome::done));
}

BOOST_AUTO_TEST_CASE(a_pending_question_is_asked_again_every_second_until_answered_or_expired) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  BOOST_TEST(f.ask_again(999).empty());
  BOOST_TEST(f.ask_again(1000).size() == 1u);
  BOOST_TEST(f.ask_again(1500).empty());
  BOOST_TEST(f.ask_again(2000).size() == 1u);
  BOOST_TEST(f.ask_again(5000).empty());  // expired: the driver is told no
  f.open(ask("r2"), 10000);
  f.on_reply(yes("r2", "c2"), true, 10500);
  BOOST_TEST(f.ask_again(11000).empty());
}

BOOST_AUTO_TEST_CASE(only_pending_requests_of_a_cp_are_asked_again) {
  authorization_fence f;
  f.open(ask("r1"), 0);
  f.open(ask("r2", "MAD1"), 0);
  f.open(ask("r3"), 0);
  f.on_reply(no("r3"), true, 10);
  const auto again = f.pending_for("ALC1");
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].request_id == "r1");
}

BOOST_AUTO_TEST_CASE(what_is_remembered_is_bounded_and_pending_requests_are_never_forgotten) {
  authorization_fence f{5000, 3};
  f.open(ask("keep"), 0);
  for (int i = 0; i < 10; ++i) {
    const auto rid = "r" + std::to_string(i);
    f.open(ask(rid, "MAD1"), 0);
    f.on_reply(yes(rid, "c" + std::to_string(i), "MAD1"), false, 0);
  }
  BOOST_TEST(!f.refused("MAD1", "c0"));  // forgotten
  BOOST_TEST(f.refused("MAD1", "c9"));
  BOOST_TEST(f.pending("ALC1", "keep") != nullptr);
  BOOST_TEST(f.expire(5000).size() == 1u);
}

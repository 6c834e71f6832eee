#define BOOST_TEST_MODULE domain_peer_directory
#include <boost/test/unit_test.hpp>

#include "evnet/domain/peer_directory.hpp"

using evnet::domain::peer_directory;
using evnet::domain::peer_identity;
using evnet::domain::peer_role;
using evnet::domain::verdict;
namespace protocol = evnet::protocol;

namespace {

const peer_identity monitor_alc1{peer_role::monitor, "ALC1"};
const peer_identity engine_alc1{peer_role::engine, "ALC1"};
const peer_identity engine_mad1{peer_role::engine, "MAD1"};
const peer_identity driver_d1{peer_role::driver, "D1"};
const peer_identity driver_d2{peer_role::driver, "D2"};

protocol::charge_record record(const std::string& cp) {
  protocol::charge_record r;
  r.cp_id = cp;
  r.charge_id = "c-1";
  r.driver_id = "D1";
  return r;
}

struct fixture {
  peer_directory dir;
  fixture() {
    dir.bind("m1", monitor_alc1);
    dir.bind("e1", engine_alc1);
    dir.bind("e2", engine_mad1);
    dir.bind("d1", driver_d1);
    dir.bind("d2", driver_d2);
  }
  verdict judge(const std::string& peer, protocol::body b) const { return dir.judge(peer, b); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(who_is_who, fixture)

BOOST_AUTO_TEST_CASE(each_role_has_its_current_peer) {
  BOOST_TEST((*dir.who("m1") == monitor_alc1));
  BOOST_TEST(*dir.monitor_of("ALC1") == "m1");
  BOOST_TEST(*dir.engine_of("MAD1") == "e2");
  BOOST_TEST(*dir.driver_peer("D2") == "d2");
  BOOST_TEST(dir.monitor_of("MAD1") == nullptr);
  BOOST_TEST(dir.who("stranger") == nullptr);
  BOOST_TEST(dir.is_monitor_of("m1", "ALC1"));
  BOOST_TEST(!dir.is_monitor_of("e1", "ALC1"));
}

BOOST_AUTO_TEST_CASE(the_same_introduction_on_the_same_link_is_not_new) {
  const auto again = dir.bind("d1", driver_d1);
  BOOST_TEST(!again.is_new);
  BOOST_TEST(!again.lost.has_value());
  BOOST_TEST(!again.displaced.has_value());
}

BOOST_AUTO_TEST_CASE(a_new_link_for_a_role_displaces_the_old_one) {
  const auto b = dir.bind("d1-new", driver_d1);
  BOOST_TEST(b.is_new);
  BOOST_REQUIRE(b.displaced.has_value());
  BOOST_TEST(*b.displaced == "d1");
  BOOST_TEST(*dir.driver_peer("D1") == "d1-new");
  // The old link speaks for nobody now, and losing it loses nothing.
  BOOST_TEST(dir.who("d1") == nullptr);
  BOOST_TEST(!dir.forget("d1").has_value());
  BOOST_TEST(*dir.driver_peer("D1") == "d1-new");
}

BOOST_AUTO_TEST_CASE(changing_role_on_a_link_gives_up_the_old_role) {
  const auto b = dir.bind("m1", driver_d1);  // odd, but possible
  BOOST_REQUIRE(b.lost.has_value());
  BOOST_TEST((*b.lost == monitor_alc1));
  BOOST_TEST(dir.monitor_of("ALC1") == nullptr);
}

BOOST_AUTO_TEST_CASE(forgetting_a_peer_says_what_it_was) {
  const auto lost = dir.forget("m1");
  BOOST_REQUIRE(lost.has_value());
  BOOST_TEST((*lost == monitor_alc1));  // the caller marks the CP DISCONNECTED
  BOOST_TEST(dir.monitor_of("ALC1") == nullptr);
  BOOST_TEST(dir.who("m1") == nullptr);
  BOOST_TEST(!dir.forget("m1").has_value());
  BOOST_TEST(!dir.forget("never-seen").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(what_each_role_may_send, fixture)

BOOST_AUTO_TEST_CASE(an_unknown_peer_must_introduce_itself) {
  BOOST_TEST((judge("x", protocol::telemetry{"ALC1", "c", "D1", 1, 1.0, 1.0, 1.0}) == verdict::unauthenticated));
  BOOST_TEST((judge("x", protocol::ticket_ack{"ALC1", "c"}) == verdict::unauthenticated));
}

BOOST_AUTO_TEST_CASE(a_monitor_speaks_for_its_own_cp) {
  BOOST_TEST((judge("m1", protocol::cp_status{"ALC1", true, ""}) == verdict::allowed));
  BOOST_TEST((judge("m1", protocol::cp_status{"MAD1", true, ""}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::authorize_reply{true, "", "c", "ALC1", "r"}) == verdict::allowed));
  BOOST_TEST((judge("m1", protocol::authorize_reply{true, "", "c", "MAD1", "r"}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::decision_ack{"ALC1", "r", "c", true, ""}) == verdict::allowed));
  BOOST_TEST((judge("m1", protocol::decision_ack{"MAD1", "r", "c", true, ""}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::ack{true, ""}) == verdict::allowed));
  BOOST_TEST((judge("m1", protocol::telemetry{"ALC1", "c", "D1", 1, 1.0, 1.0, 1.0}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::charge_finished{record("ALC1")}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::ticket_ack{"ALC1", "c"}) == verdict::unexpected));
}

BOOST_AUTO_TEST_CASE(a_monitor_starts_local_charges_only_at_its_cp_under_its_name) {
  BOOST_TEST((judge("m1", protocol::charge_request{"@ALC1", "ALC1", 5, "r"}) == verdict::allowed));
  BOOST_TEST((judge("m1", protocol::charge_request{"D1", "ALC1", 5, "r"}) == verdict::not_allowed));
  BOOST_TEST((judge("m1", protocol::charge_request{"@MAD1", "MAD1", 5, "r"}) == verdict::not_allowed));
  BOOST_TEST((judge("m1", protocol::charge_request{"@ALC1", "MAD1", 5, "r"}) == verdict::not_allowed));
}

BOOST_AUTO_TEST_CASE(an_engine_reports_only_its_own_cp) {
  BOOST_TEST((judge("e1", protocol::telemetry{"ALC1", "c", "D1", 1, 1.0, 1.0, 1.0}) == verdict::allowed));
  BOOST_TEST((judge("e1", protocol::charge_finished{record("ALC1")}) == verdict::allowed));
  // A forged record from another CP's Engine.
  BOOST_TEST((judge("e2", protocol::charge_finished{record("ALC1")}) == verdict::unexpected));
  BOOST_TEST((judge("e2", protocol::telemetry{"ALC1", "c", "D1", 1, 1.0, 1.0, 1.0}) == verdict::unexpected));
  BOOST_TEST((judge("e1", protocol::cp_status{"ALC1", true, ""}) == verdict::unexpected));
  BOOST_TEST((judge("e1", protocol::charge_request{"@ALC1", "ALC1", 5, "r"}) == verdict::unexpected));
  BOOST_TEST((judge("e1", protocol::ack{true, ""}) == verdict::unexpected));
}

BOOST_AUTO_TEST_CASE(a_driver_asks_as_itself_and_acks_tickets) {
  BOOST_TEST((judge("d1", protocol::charge_request{"D1", "ALC1", 5, "r"}) == verdict::allowed));
  BOOST_TEST((judge("d1", protocol::charge_request{"D2", "ALC1", 5, "r"}) == verdict::not_allowed));
  BOOST_TEST((judge("d1", protocol::charge_request{"@ALC1", "ALC1", 5, "r"}) == verdict::not_allowed));
  BOOST_TEST((judge("d1", protocol::ticket_ack{"ALC1", "c"}) == verdict::allowed));
  BOOST_TEST((judge("d1", protocol::telemetry{"ALC1", "c", "D1", 1, 1.0, 1.0, 1.0}) == verdict::unexpected));
  BOOST_TEST((judge("d1", protocol::authorize_reply{true, "", "c", "ALC1", "r"}) == verdict::unexpected));
}

BOOST_AUTO_TEST_CASE(messages_central_never_receives_are_unexpected_from_anyone_known) {
  BOOST_TEST((judge("d1", protocol::ticket{}) == verdict::unexpected));
  BOOST_TEST((judge("m1", protocol::snapshot{}) == verdict::unexpected));
  BOOST_TEST((judge("e1", protocol::health_check{}) == verdict::unexpected));
}

BOOST_AUTO_TEST_CASE(a_displaced_link_is_judged_a_stranger) {
  dir.bind("e1-new", engine_alc1);
  BOOST_TEST((judge("e1", protocol::charge_finished{record("ALC1")}) == verdict::unauthenticated));
  BOOST_TEST((judge("e1-new", protocol::charge_finished{record("ALC1")}) == verdict::allowed));
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE domain_authority
#include <boost/test/unit_test.hpp>

#include "evnet/domain/authority.hpp"
#include "evnet/domain/rate_limit.hpp"

#include <string>

namespace domain = evnet::domain;
namespace protocol = evnet::protocol;
using domain::key_claim;
using domain::parse_user_id;
using domain::peer_identity;
using domain::peer_role;

namespace {

const key_claim alc1{key_claim::kind::cp, "ALC1"};
const key_claim d1{key_claim::kind::driver, "D1"};
const peer_identity monitor_alc1{peer_role::monitor, "ALC1"};
const peer_identity engine_alc1{peer_role::engine, "ALC1"};
const peer_identity driver_d1{peer_role::driver, "D1"};

bool may(const key_claim& key, const peer_identity* bound, protocol::body body) {
  const auto why = domain::forbidden(key, bound, body);
  if (why) {
    BOOST_TEST_MESSAGE("forbidden: " << *why);
    BOOST_TEST(!why->empty());
  }
  return !why.has_value();
}

protocol::charge_record record_at(const std::string& cp) {
  protocol::charge_record r;
  r.cp_id = cp;
  r.charge_id = "c1";
  r.driver_id = "D1";
  return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(user_ids_are_taken_apart) {
  BOOST_TEST((parse_user_id("cp:ALC1") == alc1));
  BOOST_TEST((parse_user_id("driver:D1") == d1));
  BOOST_TEST((parse_user_id("central").what == key_claim::kind::central));
  for (const char* other : {"", "cp:", "driver:", "cp:AL C1", "monitor:ALC1", "CP:ALC1", "cp:ALC1:x", "centrall"}) {
    BOOST_TEST((parse_user_id(other).what == key_claim::kind::none), other);
  }
}

BOOST_AUTO_TEST_CASE(introductions_claim_the_keys_own_identity) {
  BOOST_TEST(may(alc1, nullptr, protocol::cp_auth{"ALC1"}));
  BOOST_TEST(may(alc1, nullptr, protocol::engine_hello{"ALC1"}));
  BOOST_TEST(!may(alc1, nullptr, protocol::cp_auth{"MAD1"}));
  BOOST_TEST(!may(alc1, nullptr, protocol::engine_hello{"MAD1"}));
  BOOST_TEST(!may(alc1, nullptr, protocol::driver_hello{"ALC1"}));
  BOOST_TEST(may(d1, nullptr, protocol::driver_hello{"D1"}));
  BOOST_TEST(!may(d1, nullptr, protocol::driver_hello{"D2"}));
  BOOST_TEST(!may(d1, nullptr, protocol::cp_auth{"D1"}));
  const key_claim central{key_claim::kind::central, ""};
  BOOST_TEST(!may(central, nullptr, protocol::cp_auth{"ALC1"}));
  BOOST_TEST(!may(central, nullptr, protocol::driver_hello{"D1"}));
  BOOST_TEST(!may(key_claim{}, nullptr, protocol::engine_hello{"ALC1"}));
}

BOOST_AUTO_TEST_CASE(messages_naming_nobody_pass) {
  for (const auto& key : {alc1, d1, key_claim{}}) {
    BOOST_TEST(may(key, nullptr, protocol::heartbeat{}));
    BOOST_TEST(may(key, nullptr, protocol::error_reply{}));
    BOOST_TEST(may(key, nullptr, protocol::snapshot_request{}));
  }
}

BOOST_AUTO_TEST_CASE(a_cp_key_acts_only_as_that_cp) {
  BOOST_TEST(may(alc1, &engine_alc1, protocol::telemetry{"ALC1", "c1", "D1", 1, 1, 1, 1}));
  BOOST_TEST(!may(alc1, &engine_alc1, protocol::telemetry{"MAD1", "c1", "D1", 1, 1, 1, 1}));
  BOOST_TEST(may(alc1, &engine_alc1, protocol::charge_finished{record_at("ALC1")}));
  BOOST_TEST(!may(alc1, &engine_alc1, protocol::charge_finished{record_at("MAD1")}));
  BOOST_TEST(may(alc1, &monitor_alc1, protocol::cp_status{"ALC1", true, ""}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::cp_status{"MAD1", true, ""}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::authorize_reply{true, "", "c", "MAD1", "r"}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::decision_ack{"MAD1", "r", "c", true, ""}));
  BOOST_TEST(may(alc1, &monitor_alc1, protocol::ack{true, ""}));
  BOOST_TEST(may(alc1, &monitor_alc1, protocol::charge_request{"@ALC1", "ALC1", 5, "r"}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::charge_request{"@MAD1", "MAD1", 5, "r"}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::charge_request{"D1", "ALC1", 5, "r"}));
  BOOST_TEST(!may(alc1, &monitor_alc1, protocol::ticket_ack{"ALC1", "c1"}));
  // A peer bound as another CP (or as a driver) is not this key's.
  const peer_identity engine_mad1{peer_role::engine, "MAD1"};
  BOOST_TEST(!may(alc1, &engine_mad1, protocol::telemetry{"ALC1", "c1", "D1", 1, 1, 1, 1}));
  BOOST_TEST(!may(alc1, &driver_d1, protocol::ack{true, ""}));
}

BOOST_AUTO_TEST_CASE(a_driver_key_acts_only_as_that_driver) {
  BOOST_TEST(may(d1, &driver_d1, protocol::charge_request{"D1", "ALC1", 5, "r"}));
  BOOST_TEST(!may(d1, &driver_d1, protocol::charge_request{"D2", "ALC1", 5, "r"}));
  BOOST_TEST(!may(d1, &driver_d1, protocol::charge_request{"@ALC1", "ALC1", 5, "r"}));
  BOOST_TEST(may(d1, &driver_d1, protocol::ticket_ack{"ALC1", "c1"}));
  BOOST_TEST(!may(d1, &driver_d1, protocol::telemetry{"ALC1", "c1", "D1", 1, 1, 1, 1}));
  BOOST_TEST(!may(d1, &driver_d1, protocol::charge_finished{record_at("ALC1")}));
  BOOST_TEST(!may(d1, &driver_d1, protocol::authorize_reply{true, "", "c", "ALC1", "r"}));
  const peer_identity driver_d2{peer_role::driver, "D2"};
  BOOST_TEST(!may(d1, &driver_d2, protocol::ticket_ack{"ALC1", "c1"}));
  BOOST_TEST(!may(d1, &monitor_alc1, protocol::ack{true, ""}));
}

BOOST_AUTO_TEST_CASE(once_per_lets_one_event_a_second_through_and_counts_the_rest) {
  domain::once_per limit{1000};
  BOOST_TEST(*limit.admit("p", 0) == 0u);
  BOOST_TEST(!limit.admit("p", 10).has_value());
  BOOST_TEST(!limit.admit("p", 999).has_value());
  BOOST_TEST(*limit.admit("q", 999) == 0u);  // per key
  BOOST_TEST(*limit.admit("p", 1000) == 2u);
  BOOST_TEST(*limit.admit("p", 5000) == 0u);
  limit.prune(7000);
  BOOST_TEST(limit.size() == 0u);
  // A key with events held back survives a prune until quiet for a minute.
  (void) limit.admit("r", 8000);
  (void) limit.admit("r", 8001);
  limit.prune(9500);
  BOOST_TEST(limit.size() == 1u);
  limit.prune(8000 + 60'000);
  BOOST_TEST(limit.size() == 0u);
}

BOOST_AUTO_TEST_CASE(token_bucket_allows_a_burst_then_a_steady_rate) {
  domain::token_bucket bucket{3, 333};
  BOOST_TEST(bucket.take("p", 0));
  BOOST_TEST(bucket.take("p", 0));
  BOOST_TEST(bucket.take("p", 0));
  BOOST_TEST(!bucket.take("p", 0));
  BOOST_TEST(bucket.take("q", 0));  // per key
  BOOST_TEST(!bucket.take("p", 332));
  BOOST_TEST(bucket.take("p", 333));
  BOOST_TEST(!bucket.take("p", 400));
  BOOST_TEST(bucket.take("p", 666));
  // Never more than the burst, however long it waited.
  BOOST_TEST(bucket.take("p", 100'000));
  BOOST_TEST(bucket.take("p", 100'000));
  BOOST_TEST(bucket.take("p", 100'000));
  BOOST_TEST(!bucket.take("p", 100'000));
  bucket.prune(200'000);
  BOOST_TEST(bucket.size() == 0u);
  bucket.take("p", 200'000);
  bucket.prune(200'100);
  BOOST_TEST(bucket.size() == 1u);
}

#define BOOST_TEST_MODULE domain_charger
#include <boost/test/unit_test.hpp>

#include "evnet/domain/charger.hpp"

#include <set>
#include <string>

using evnet::domain::charger;
using evnet::protocol::charge_record;
using evnet::protocol::cp_config;

namespace {

// An arbitrary realistic epoch: 2023-11-14T22:13:20Z.
constexpr std::int64_t t0 = 1'700'000'000'000;

struct fixture {
  charger c;
  fixture() { c.configure(cp_config{"ALC1", "C/ Italia 5, Alicante", 0.35}); }

  std::string authorize(const std::string& driver, std::int64_t duration, const std::string& request, std::int64_t now) {
    const auto id = c.authorize(driver, duration, request, now);
    BOOST_REQUIRE_MESSAGE(id.ok(), (id.ok() ? "" : id.err().code));
    return *id;
  }
  std::string refusal(std::int64_t duration, const std::string& request, std::int64_t now) {
    const auto id = c.authorize("D2", duration, request, now);
    return id.ok() ? "ok" : id.err().code;
  }
};

void check_record(const charge_record& r, const std::string& charge_id, double kwh, double amount,
                  std::int64_t start_ms, std::int64_t end_ms, const std::string& reason) {
  BOOST_TEST(r.cp_id == "ALC1");
  BOOST_TEST(r.charge_id == charge_id);
  BOOST_TEST(r.driver_id == "D1");
  BOOST_TEST(r.price == 0.35);
  BOOST_TEST(r.kwh == kwh);
  BOOST_TEST(r.amount == amount);
  BOOST_TEST(r.start_ms == start_ms);
  BOOST_TEST(r.end_ms == end_ms);
  BOOST_TEST(r.reason == reason);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(authorisation, fixture)

BOOST_AUTO_TEST_CASE(unconfigured_charger_refuses) {
  charger bare;
  BOOST_TEST(!bare.configured());
  const auto id = bare.authorize("D1", 5, "r1", t0);
  BOOST_REQUIRE(!id.ok());
  BOOST_TEST(id.err().code == "not_configured");
  BOOST_TEST(!bare.charging());
  BOOST_TEST(bare.state_name() == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(configure_keeps_the_config) {
  BOOST_TEST(c.configured());
  BOOST_REQUIRE(c.config().has_value());
  BOOST_TEST(c.config()->cp_id == "ALC1");
  BOOST_TEST(c.config()->price == 0.35);
}

BOOST_AUTO_TEST_CASE(charge_ids_name_the_cp_and_are_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const auto id = authorize("D1", 0, "r" + std::to_string(i), t0);
    BOOST_TEST(id.rfind("ALC1-", 0) == 0u);
    BOOST_TEST(seen.insert(id).second);
    BOOST_REQUIRE(c.end(t0, "test").has_value());
  }
  // A restarted process starts its counter again but its clock has moved on.
  charger restarted;
  restarted.configure(cp_config{"ALC1", "x", 0.35});
  const auto later = restarted.authorize("D1", 0, "r0", t0 + 1);
  BOOST_REQUIRE(later.ok());
  BOOST_TEST(!seen.contains(*later));
}

BOOST_AUTO_TEST_CASE(repeated_request_returns_the_same_charge) {
  const auto first = authorize("D1", 5, "req-7", t0);
  const auto again = c.authorize("D1", 5, "req-7", t0 + 1500);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(*again == first);
  // Another request while busy is refused.
  BOOST_TEST(refusal(5, "req-8", t0 + 1600) == "busy");
}

BOOST_AUTO_TEST_CASE(refusals_in_order) {
  BOOST_TEST(refusal(-1, "a", t0) == "bad_duration");
  BOOST_TEST(refusal(86401, "a", t0) == "bad_duration");
  BOOST_TEST(refusal(86400, "a", t0) == "ok");
  BOOST_REQUIRE(c.end(t0, "test").has_value());

  authorize("D1", 0, "b", t0);
  BOOST_TEST(refusal(-1, "c", t0) == "busy");

  c.stop(t0);
  BOOST_TEST(refusal(-1, "d", t0) == "out_of_order");
  c.fault(t0);
  BOOST_TEST(refusal(-1, "e", t0) == "broken");
  c.repair();
  BOOST_TEST(refusal(5, "f", t0) == "out_of_order");
  c.resume();
  BOOST_TEST(refusal(5, "g", t0) == "ok");
}

BOOST_AUTO_TEST_CASE(a_stale_authorisation_does_not_block_a_new_one) {
  authorize("D1", 0, "a", t0);
  BOOST_TEST(refusal(0, "b", t0 + charger::plug_timeout_ms) == "busy");
  BOOST_TEST(refusal(0, "b", t0 + charger::plug_timeout_ms + 1) == "ok");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(timed_charges, fixture)

BOOST_AUTO_TEST_CASE(supply_counts_whole_seconds_until_the_duration) {
  const auto id = authorize("D1", 5, "r", t0);
  BOOST_TEST(c.charging());
  BOOST_TEST(c.state_name() == "BUSY");
  BOOST_TEST(c.current().plugged);  // implicit plug
  BOOST_TEST(c.current_started_ms() == t0);

  BOOST_TEST(!c.tick(t0 + 999).has_value());
  BOOST_TEST(c.current().kwh == 0.0);
  BOOST_TEST(c.current().elapsed_s == 0);

  BOOST_TEST(!c.tick(t0 + 1000).has_value());
  BOOST_TEST(c.current().kwh == 1.0);
  BOOST_TEST(c.current().amount == 0.35);

  BOOST_TEST(!c.tick(t0 + 3999).has_value());
  BOOST_TEST(c.current().kwh == 3.0);
  BOOST_TEST(c.current().amount == 1.05);
  BOOST_TEST(c.current().elapsed_s == 3);
  BOOST_TEST(c.current().duration_s == 5);
  BOOST_TEST(c.current().charge_id == id);
  BOOST_TEST(c.current().driver_id == "D1");

  BOOST_TEST(!c.tick(t0 + 4999).has_value());
  // The tick arrives late; the charge ended when the duration was reached.
  const auto done = c.tick(t0 + 5300);
  BOOST_REQUIRE(done.has_value());
  check_record(*done, id, 5.0, 1.75, t0, t0 + 5000, "completed");
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state_name() == "ACTIVE");
  BOOST_TEST(!c.tick(t0 + 6000).has_value());
}

BOOST_AUTO_TEST_CASE(seven_seconds_bill_exactly) {
  const auto id = authorize("D1", 7, "r", t0);
  const auto done = c.tick(t0 + 60'000);  // a long pause: never more than the duration
  BOOST_REQUIRE(done.has_value());
  check_record(*done, id, 7.0, 2.45, t0, t0 + 7000, "completed");
}

BOOST_AUTO_TEST_CASE(a_timed_charge_is_already_plugged) {
  authorize("D1", 5, "r", t0);
  const auto p = c.plug(t0 + 10);
  BOOST_REQUIRE(!p.ok());
  BOOST_TEST(p.err().code == "already_plugged");
}

BOOST_AUTO_TEST_CASE(a_long_timed_charge_is_never_dropped_for_lack_of_a_plug) {
  authorize("D1", 100, "r", t0);
  BOOST_TEST(!c.tick(t0 + charger::plug_timeout_ms + 1).has_value());
  BOOST_TEST(c.charging());
  BOOST_TEST(c.current().kwh == 60.0);
}

BOOST_AUTO_TEST_CASE(unplugging_a_timed_charge_ends_it_early) {
  const auto id = authorize("D1", 8, "r", t0);
  c.tick(t0 + 2000);
  const auto r = c.unplug(t0 + 3500);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 3.0, 1.05, t0, t0 + 3500, "unplugged");
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(a_clock_going_backwards_takes_nothing_back) {
  authorize("D1", 0, "r", t0);
  BOOST_REQUIRE(c.plug(t0).ok());
  c.tick(t0 + 4000);
  c.tick(t0 + 2000);
  BOOST_TEST(c.current().kwh == 4.0);
  c.tick(t0 - 5000);
  BOOST_TEST(c.current().kwh == 4.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(open_ended_charges, fixture)

BOOST_AUTO_TEST_CASE(plug_then_unplug) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_TEST(!c.current().plugged);
  BOOST_TEST(c.current_started_ms() == t0);
  BOOST_TEST(!c.tick(t0 + 10'000).has_value());
  BOOST_TEST(c.current().kwh == 0.0);  // nothing before the plug

  const std::int64_t plugged = t0 + 20'000;
  BOOST_REQUIRE(c.plug(plugged).ok());
  BOOST_TEST(c.current().plugged);
  BOOST_TEST(c.current_started_ms() == plugged);
  const auto again = c.plug(plugged + 1);
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.err().code == "already_plugged");

  // No duration: it runs until unplugged, however long.
  BOOST_TEST(!c.tick(plugged + 100'000).has_value());
  BOOST_TEST(c.current().kwh == 100.0);
  BOOST_TEST(c.current().amount == 35.0);

  const auto r = c.unplug(plugged + 100'999);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 100.0, 35.0, plugged, plugged + 100'999, "unplugged");
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(unplug_counts_up_to_now_without_a_tick) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_REQUIRE(c.plug(t0 + 500).ok());
  const auto r = c.unplug(t0 + 500 + 9'000);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 9.0, 3.15, t0 + 500, t0 + 9'500, "unplugged");
}

BOOST_AUTO_TEST_CASE(plug_and_unplug_errors) {
  const auto p = c.plug(t0);
  BOOST_REQUIRE(!p.ok());
  BOOST_TEST(p.err().code == "no_charge");
  const auto u = c.unplug(t0);
  BOOST_REQUIRE(!u.ok());
  BOOST_TEST(u.err().code == "no_charge");

  authorize("D1", 0, "r", t0);
  const auto early = c.unplug(t0 + 1);  // authorised but nothing plugged
  BOOST_REQUIRE(!early.ok());
  BOOST_TEST(early.err().code == "no_charge");
  BOOST_TEST(c.charging());

  c.fault(t0 + 2);
  const auto broken = c.plug(t0 + 3);
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.err().code == "broken");
}

BOOST_AUTO_TEST_CASE(an_authorisation_never_plugged_is_dropped_silently) {
  authorize("D1", 0, "r", t0);
  BOOST_TEST(!c.tick(t0 + charger::plug_timeout_ms).has_value());
  BOOST_TEST(c.charging());  // exactly the timeout: still waiting
  BOOST_TEST(!c.tick(t0 + charger::plug_timeout_ms + 1).has_value());
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state_name() == "ACTIVE");
  const auto late = c.plug(t0 + charger::plug_timeout_ms + 2);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == "no_charge");
}

BOOST_AUTO_TEST_CASE(plugging_after_the_timeout_without_a_tick_fails) {
  authorize("D1", 0, "r", t0);
  const auto late = c.plug(t0 + charger::plug_timeout_ms + 1);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == "no_charge");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(interruptions, fixture)

BOOST_AUTO_TEST_CASE(fault_ends_the_charge_and_refuses_until_repaired) {
  const auto id = authorize("D1", 8, "r", t0);
  c.tick(t0 + 3000);
  const auto r = c.fault(t0 + 4200);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 4.0, 1.40, t0, t0 + 4200, "engine fault");
  BOOST_TEST(c.faulty());
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state_name() == "BROKEN");
  BOOST_TEST(!c.fault(t0 + 5000).has_value());  // nothing left to end
  c.repair();
  BOOST_TEST(!c.faulty());
  BOOST_TEST(c.state_name() == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(stop_ends_the_charge_and_refuses_until_resumed) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_REQUIRE(c.plug(t0 + 1000).ok());
  const auto r = c.stop(t0 + 3000);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 2.0, 0.70, t0 + 1000, t0 + 3000, "stopped by CENTRAL");
  BOOST_TEST(c.stopped());
  BOOST_TEST(c.state_name() == "OUT_OF_ORDER");
  BOOST_TEST(!c.stop(t0 + 4000).has_value());
  c.resume();
  BOOST_TEST(!c.stopped());
  BOOST_TEST(c.state_name() == "ACTIVE");
}

BOOST_AUTO_TEST_CASE(broken_wins_over_out_of_order_in_the_state_name) {
  c.stop(t0);
  c.fault(t0);
  BOOST_TEST(c.state_name() == "BROKEN");
  c.repair();
  BOOST_TEST(c.state_name() == "OUT_OF_ORDER");
}

BOOST_AUTO_TEST_CASE(an_unplugged_authorisation_ends_with_nothing_supplied) {
  const auto id = authorize("D1", 0, "r", t0);
  const auto r = c.end(t0 + 2500, "monitor gone");
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 0.0, 0.0, t0, t0 + 2500, "monitor gone");
}

BOOST_AUTO_TEST_CASE(end_with_a_reason) {
  const auto id = authorize("D1", 6, "r", t0);
  const auto r = c.end(t0 + 2000, "monitor gone");
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 2.0, 0.70, t0, t0 + 2000, "monitor gone");
  BOOST_TEST(!c.end(t0 + 3000, "again").has_value());
  BOOST_TEST(!c.stopped());
  BOOST_TEST(!c.faulty());
}

BOOST_AUTO_TEST_CASE(settle_interrupted_keeps_what_was_supplied) {
  evnet::protocol::charge_view v;
  v.charge_id = "ALC1-old-1";
  v.driver_id = "D1";
  v.plugged = true;
  v.kwh = 4.0;
  v.amount = 1.40;
  v.elapsed_s = 4;
  v.duration_s = 8;
  const auto r = c.settle_interrupted(v, t0 - 10'000, t0);
  check_record(r, "ALC1-old-1", 4.0, 1.40, t0 - 10'000, t0, "engine restarted");
  // It does not become the current charge.
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(views, fixture)

BOOST_AUTO_TEST_CASE(idle_view_is_empty) {
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.current().charge_id.empty());
  BOOST_TEST(c.current_started_ms() == 0);
}

BOOST_AUTO_TEST_CASE(telemetry_sequence_only_grows) {
  const auto a = c.next_telemetry_seq();
  const auto b = c.next_telemetry_seq();
  BOOST_TEST(a >= 1u);
  BOOST_TEST(b == a + 1);
}

BOOST_AUTO_TEST_SUITE_END()

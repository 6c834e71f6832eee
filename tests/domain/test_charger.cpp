#define BOOST_TEST_MODULE domain_charger
#include <boost/test/unit_test.hpp>

#include "evnet/domain/charger.hpp"

#include <optional>
#include <set>
#include <string>

using evnet::cp_state;
using evnet::end_reason;
using evnet::errc;
using evnet::domain::charger;
using evnet::protocol::charge_record;
using evnet::protocol::cp_config;

namespace {

// An arbitrary realistic epoch: 2023-11-14T22:13:20Z.
constexpr std::int64_t t0 = 1'700'000'000'000;

struct fixture {
  charger c;
  fixture() { c.configure(cp_config{"ALC1", "C/ Italia 5, Alicante", 0.35}); }

  // A reservation only: nothing is supplied.
  std::string reserve(const std::string& driver, std::int64_t duration, const std::string& request, std::int64_t now) {
    const auto a = c.authorize(driver, duration, request, now);
    BOOST_REQUIRE_MESSAGE(a.ok(), (a.ok() ? std::string() : a.err().message));
    BOOST_TEST(!a->repeated);
    return a->charge_id;
  }
  // Reserved and confirmed at once: the charge is on.
  std::string authorize(const std::string& driver, std::int64_t duration, const std::string& request,
                        std::int64_t now) {
    const auto id = reserve(driver, duration, request, now);
    const auto confirmed = c.confirm(id, now);
    BOOST_REQUIRE(confirmed.ok());
    BOOST_TEST(*confirmed);
    return id;
  }
  std::optional<errc> refusal(std::int64_t duration, const std::string& request, std::int64_t now) {
    const auto a = c.authorize("D2", duration, request, now);
    return a.ok() ? std::nullopt : std::optional<errc>(a.err().code);
  }
};

void check_record(const charge_record& r, const std::string& charge_id, double kwh, double amount,
                  std::int64_t start_ms, std::int64_t end_ms, end_reason reason) {
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

const std::optional<errc> accepted = std::nullopt;

} // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(std::optional<errc>)

BOOST_FIXTURE_TEST_SUITE(authorisation, fixture)

BOOST_AUTO_TEST_CASE(unconfigured_charger_refuses) {
  charger bare;
  BOOST_TEST(!bare.configured());
  const auto id = bare.authorize("D1", 5, "r1", t0);
  BOOST_REQUIRE(!id.ok());
  BOOST_TEST(id.err().code == errc::not_configured);
  BOOST_TEST(!bare.charging());
  BOOST_TEST(!bare.reserved());
  BOOST_TEST(bare.state() == cp_state::active);
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
    const auto id = reserve("D1", 0, "r" + std::to_string(i), t0);
    BOOST_TEST(id.rfind("ALC1-", 0) == 0u);
    BOOST_TEST(seen.insert(id).second);
    BOOST_REQUIRE(c.cancel(id, t0).ok());
  }
  // A restarted process starts its counter again but its clock has moved on.
  charger restarted;
  restarted.configure(cp_config{"ALC1", "x", 0.35});
  const auto later = restarted.authorize("D1", 0, "r0", t0 + 1);
  BOOST_REQUIRE(later.ok());
  BOOST_TEST(!seen.contains(later->charge_id));
}

BOOST_AUTO_TEST_CASE(repeated_request_returns_the_same_charge) {
  const auto first = reserve("D1", 5, "req-7", t0);
  const auto again = c.authorize("D1", 5, "req-7", t0 + 1500);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->charge_id == first);
  BOOST_TEST(again->repeated);
  // Another request while reserved is refused: the CP is BUSY for D1.
  BOOST_TEST(refusal(5, "req-8", t0 + 1600) == errc::busy);

  // Still the same once confirmed, and once finished.
  BOOST_REQUIRE(c.confirm(first, t0 + 2000).ok());
  const auto running = c.authorize("D1", 5, "req-7", t0 + 3000);
  BOOST_REQUIRE(running.ok());
  BOOST_TEST(running->charge_id == first);
  BOOST_TEST(running->repeated);
  BOOST_REQUIRE(c.tick(t0 + 10'000).finished.has_value());
  const auto after = c.authorize("D1", 5, "req-7", t0 + 11'000);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->charge_id == first);
  BOOST_TEST(after->repeated);
  BOOST_TEST(!c.charging());
  BOOST_TEST(!c.reserved());
}

BOOST_AUTO_TEST_CASE(a_repeated_request_of_a_dropped_reservation_is_refused) {
  const auto id = reserve("D1", 5, "req-1", t0);
  BOOST_REQUIRE(c.cancel(id, t0 + 100).ok());
  const auto again = c.authorize("D1", 5, "req-1", t0 + 200);
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.err().code == errc::reservation_expired);
  BOOST_TEST(!c.reserved());
  // A new request is welcome.
  BOOST_TEST(refusal(5, "req-2", t0 + 300) == accepted);
}

BOOST_AUTO_TEST_CASE(refusals_in_order) {
  BOOST_TEST(refusal(-1, "a", t0) == errc::bad_duration);
  BOOST_TEST(refusal(evnet::max_duration_s + 1, "a", t0) == errc::bad_duration);
  BOOST_TEST(refusal(evnet::max_duration_s, "a", t0) == accepted);
  BOOST_REQUIRE(c.cancel("a", t0).ok());

  authorize("D1", 0, "b", t0);
  BOOST_TEST(refusal(-1, "c", t0) == errc::busy);

  c.stop(t0);
  BOOST_TEST(refusal(-1, "d", t0) == errc::out_of_order);
  c.fault(t0);
  BOOST_TEST(refusal(-1, "e", t0) == errc::broken);
  c.repair();
  BOOST_TEST(refusal(5, "f", t0) == errc::out_of_order);
  c.resume();
  BOOST_TEST(refusal(5, "g", t0) == accepted);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the fence: no energy without a yes ----------------------------------------

BOOST_FIXTURE_TEST_SUITE(fence, fixture)

BOOST_AUTO_TEST_CASE(a_reservation_supplies_nothing_and_shows_busy) {
  const auto id = reserve("D1", 5, "r", t0);
  BOOST_TEST(c.reserved());
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state() == cp_state::busy);
  BOOST_TEST(c.pending().charge_id == id);
  BOOST_TEST(c.pending().driver_id == "D1");
  BOOST_TEST(c.pending().request_id == "r");
  BOOST_TEST(c.pending().duration_s == 5);
  // Time passes; nothing flows, nothing ends with a record.
  for (std::int64_t t = t0; t <= t0 + charger::reservation_timeout_ms; t += 250) {
    const auto out = c.tick(t);
    BOOST_TEST(!out.finished.has_value());
    BOOST_TEST(!out.expired.has_value());
  }
  BOOST_TEST(c.current().kwh == 0.0);
  BOOST_TEST(c.current().charge_id.empty());  // no charge to show
  // Nothing to plug into yet.
  const auto p = c.plug(t0 + 100);
  BOOST_REQUIRE(!p.ok());
  BOOST_TEST(p.err().code == errc::no_charge);
}

BOOST_AUTO_TEST_CASE(a_second_driver_is_refused_while_reserved) {
  reserve("D1", 0, "r1", t0);
  BOOST_TEST(refusal(0, "r2", t0 + 10) == errc::busy);
}

BOOST_AUTO_TEST_CASE(a_duration_charge_supplies_from_the_confirmation) {
  const auto id = reserve("D1", 5, "r", t0);
  const std::int64_t yes = t0 + 3000;
  BOOST_TEST(!c.tick(yes - 1).finished.has_value());
  const auto confirmed = c.confirm(id, yes);
  BOOST_REQUIRE(confirmed.ok());
  BOOST_TEST(*confirmed);
  BOOST_TEST(c.charging());
  BOOST_TEST(!c.reserved());
  BOOST_TEST(c.current().plugged);
  BOOST_TEST(c.current_started_ms() == yes);
  c.tick(yes + 2000);
  BOOST_TEST(c.current().kwh == 2.0);
  const auto done = c.tick(yes + 5000);
  BOOST_REQUIRE(done.finished.has_value());
  check_record(*done.finished, id, 5.0, 1.75, yes, yes + 5000, end_reason::completed);
}

BOOST_AUTO_TEST_CASE(confirm_by_request_id) {
  const auto id = reserve("D1", 5, "req-9", t0);
  const auto confirmed = c.confirm("req-9", t0 + 10);
  BOOST_REQUIRE(confirmed.ok());
  BOOST_TEST(*confirmed);
  BOOST_TEST(c.current().charge_id == id);
}

BOOST_AUTO_TEST_CASE(confirm_is_idempotent) {
  const auto id = reserve("D1", 5, "r", t0);
  BOOST_REQUIRE(c.confirm(id, t0 + 1000).ok());
  c.tick(t0 + 3000);
  const auto again = c.confirm(id, t0 + 3000);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(!*again);  // a repeat: nothing restarts
  BOOST_TEST(c.current().kwh == 2.0);
  BOOST_TEST(c.current_started_ms() == t0 + 1000);
  // Also after the charge finished.
  BOOST_REQUIRE(c.tick(t0 + 7000).finished.has_value());
  const auto late = c.confirm(id, t0 + 8000);
  BOOST_REQUIRE(late.ok());
  BOOST_TEST(!*late);
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(cancel_drops_the_reservation_without_a_record) {
  const auto id = reserve("D1", 5, "r", t0);
  const auto dropped = c.cancel(id, t0 + 500);
  BOOST_REQUIRE(dropped.ok());
  BOOST_TEST(*dropped);
  BOOST_TEST(!c.reserved());
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state() == cp_state::active);
  const auto again = c.cancel(id, t0 + 600);  // idempotent
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(!*again);
  // A confirmation after the cancel cannot revive it.
  const auto late = c.confirm(id, t0 + 700);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::reservation_expired);
  BOOST_TEST(!c.charging());
  // Nothing ever ends with a record.
  BOOST_TEST(!c.tick(t0 + 100'000).finished.has_value());
  BOOST_TEST(!c.fault(t0 + 100'001).has_value());
}

BOOST_AUTO_TEST_CASE(cancel_by_request_id_and_of_the_unknown) {
  reserve("D1", 5, "req-3", t0);
  const auto dropped = c.cancel("req-3", t0 + 1);
  BOOST_REQUIRE(dropped.ok());
  BOOST_TEST(*dropped);
  const auto unknown = c.cancel("nothing-like-it", t0 + 2);
  BOOST_REQUIRE(unknown.ok());
  BOOST_TEST(!*unknown);
  const auto empty = c.cancel("", t0 + 3);
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(!*empty);
}

BOOST_AUTO_TEST_CASE(a_confirmed_charge_cannot_be_cancelled) {
  const auto id = authorize("D1", 5, "r", t0);
  c.tick(t0 + 2000);
  const auto no = c.cancel(id, t0 + 2000);
  BOOST_REQUIRE(!no.ok());
  BOOST_TEST(no.err().code == errc::invalid_state);
  BOOST_TEST(c.charging());
  BOOST_REQUIRE(c.tick(t0 + 5000).finished.has_value());
  const auto after = c.cancel(id, t0 + 6000);
  BOOST_REQUIRE(!after.ok());
  BOOST_TEST(after.err().code == errc::invalid_state);
}

BOOST_AUTO_TEST_CASE(an_undecided_reservation_expires_without_a_record) {
  const auto id = reserve("D1", 0, "r", t0);
  auto out = c.tick(t0 + charger::reservation_timeout_ms);
  BOOST_TEST(!out.expired.has_value());  // exactly the timeout: still waiting
  BOOST_TEST(c.reserved());
  out = c.tick(t0 + charger::reservation_timeout_ms + 1);
  BOOST_REQUIRE(out.expired.has_value());
  BOOST_TEST(out.expired->charge_id == id);
  BOOST_TEST(out.expired->driver_id == "D1");
  BOOST_TEST(!out.finished.has_value());
  BOOST_TEST(!c.reserved());
  BOOST_TEST(c.state() == cp_state::active);
  // Reported once.
  BOOST_TEST(!c.tick(t0 + charger::reservation_timeout_ms + 2).expired.has_value());
  // Too late to say yes.
  const auto late = c.confirm(id, t0 + charger::reservation_timeout_ms + 3);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::reservation_expired);
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(a_late_confirmation_without_a_tick_is_refused_too) {
  const auto id = reserve("D1", 5, "r", t0);
  const auto late = c.confirm(id, t0 + charger::reservation_timeout_ms + 1);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::reservation_expired);
  BOOST_TEST(!c.charging());
  BOOST_TEST(!c.reserved());
}

BOOST_AUTO_TEST_CASE(a_stale_reservation_does_not_block_a_new_one) {
  reserve("D1", 0, "a", t0);
  BOOST_TEST(refusal(0, "b", t0 + charger::reservation_timeout_ms) == errc::busy);
  BOOST_TEST(refusal(0, "b", t0 + charger::reservation_timeout_ms + 1) == accepted);
}

BOOST_AUTO_TEST_CASE(confirm_of_an_unknown_reservation_is_an_error) {
  for (const std::string id : {"ALC1-nope-1", "", "req-x"}) {
    const auto r = c.confirm(id, t0);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.err().code == errc::reservation_expired);
  }
  // Confirming someone else's id does not start the reservation held.
  reserve("D1", 5, "r", t0);
  BOOST_TEST(!c.confirm("ALC1-other-9", t0 + 1).ok());
  BOOST_TEST(c.reserved());
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(fault_and_stop_drop_a_reservation_silently) {
  const auto a = reserve("D1", 5, "ra", t0);
  BOOST_TEST(!c.fault(t0 + 100).has_value());
  BOOST_TEST(!c.reserved());
  BOOST_TEST(!c.confirm(a, t0 + 200).ok());
  c.repair();
  const auto b = reserve("D1", 5, "rb", t0 + 300);
  BOOST_TEST(!c.stop(t0 + 400).has_value());
  BOOST_TEST(!c.reserved());
  const auto late = c.confirm(b, t0 + 500);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::reservation_expired);
  c.resume();
  const auto d = reserve("D1", 5, "rd", t0 + 600);
  BOOST_TEST(!c.end(t0 + 700, end_reason::monitor_lost).has_value());
  BOOST_TEST(!c.confirm(d, t0 + 800).ok());
}

BOOST_AUTO_TEST_CASE(old_decisions_are_forgotten_in_order) {
  const auto first = authorize("D1", 1, "r0", t0);
  BOOST_REQUIRE(c.tick(t0 + 1000).finished.has_value());
  for (std::size_t i = 1; i < charger::decisions_kept; ++i) {
    const auto id = reserve("D1", 1, "r" + std::to_string(i), t0 + 2000);
    BOOST_REQUIRE(c.cancel(id, t0 + 2000).ok());
  }
  BOOST_TEST(c.confirm(first, t0 + 3000).ok());  // still remembered
  const auto one_more = reserve("D1", 1, "last", t0 + 3000);
  BOOST_REQUIRE(c.cancel(one_more, t0 + 3000).ok());
  BOOST_TEST(!c.confirm(first, t0 + 3000).ok());  // forgotten: not supplied again either
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(timed_charges, fixture)

BOOST_AUTO_TEST_CASE(supply_counts_whole_seconds_until_the_duration) {
  const auto id = authorize("D1", 5, "r", t0);
  BOOST_TEST(c.charging());
  BOOST_TEST(c.state() == cp_state::busy);
  BOOST_TEST(c.current().plugged);  // implicit plug
  BOOST_TEST(c.current_started_ms() == t0);

  BOOST_TEST(!c.tick(t0 + 999).finished.has_value());
  BOOST_TEST(c.current().kwh == 0.0);
  BOOST_TEST(c.current().elapsed_s == 0);

  BOOST_TEST(!c.tick(t0 + 1000).finished.has_value());
  BOOST_TEST(c.current().kwh == 1.0);
  BOOST_TEST(c.current().amount == 0.35);

  BOOST_TEST(!c.tick(t0 + 3999).finished.has_value());
  BOOST_TEST(c.current().kwh == 3.0);
  BOOST_TEST(c.current().amount == 1.05);
  BOOST_TEST(c.current().elapsed_s == 3);
  BOOST_TEST(c.current().duration_s == 5);
  BOOST_TEST(c.current().charge_id == id);
  BOOST_TEST(c.current().driver_id == "D1");

  BOOST_TEST(!c.tick(t0 + 4999).finished.has_value());
  // The tick arrives late; the charge ended when the duration was reached.
  const auto done = c.tick(t0 + 5300);
  BOOST_REQUIRE(done.finished.has_value());
  check_record(*done.finished, id, 5.0, 1.75, t0, t0 + 5000, end_reason::completed);
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state() == cp_state::active);
  BOOST_TEST(!c.tick(t0 + 6000).finished.has_value());
}

BOOST_AUTO_TEST_CASE(seven_seconds_bill_exactly) {
  const auto id = authorize("D1", 7, "r", t0);
  const auto done = c.tick(t0 + 60'000);  // a long pause: never more than the duration
  BOOST_REQUIRE(done.finished.has_value());
  check_record(*done.finished, id, 7.0, 2.45, t0, t0 + 7000, end_reason::completed);
}

BOOST_AUTO_TEST_CASE(a_timed_charge_is_already_plugged) {
  authorize("D1", 5, "r", t0);
  const auto p = c.plug(t0 + 10);
  BOOST_REQUIRE(!p.ok());
  BOOST_TEST(p.err().code == errc::already_plugged);
}

BOOST_AUTO_TEST_CASE(a_long_timed_charge_is_never_ended_for_lack_of_a_plug) {
  authorize("D1", 100, "r", t0);
  BOOST_TEST(!c.tick(t0 + charger::plug_timeout_ms + 1).finished.has_value());
  BOOST_TEST(c.charging());
  BOOST_TEST(c.current().kwh == 60.0);
}

BOOST_AUTO_TEST_CASE(unplugging_a_timed_charge_ends_it_early) {
  const auto id = authorize("D1", 8, "r", t0);
  c.tick(t0 + 2000);
  const auto r = c.unplug(t0 + 3500);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 3.0, 1.05, t0, t0 + 3500, end_reason::unplugged);
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
  BOOST_TEST(!c.tick(t0 + 10'000).finished.has_value());
  BOOST_TEST(c.current().kwh == 0.0);  // nothing before the plug

  const std::int64_t plugged = t0 + 20'000;
  BOOST_REQUIRE(c.plug(plugged).ok());
  BOOST_TEST(c.current().plugged);
  BOOST_TEST(c.current_started_ms() == plugged);
  const auto again = c.plug(plugged + 1);
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.err().code == errc::already_plugged);

  // No duration: it runs until unplugged, however long.
  BOOST_TEST(!c.tick(plugged + 100'000).finished.has_value());
  BOOST_TEST(c.current().kwh == 100.0);
  BOOST_TEST(c.current().amount == 35.0);

  const auto r = c.unplug(plugged + 100'999);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 100.0, 35.0, plugged, plugged + 100'999, end_reason::unplugged);
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_CASE(the_plug_wait_counts_from_the_confirmation) {
  const auto id = reserve("D1", 0, "r", t0);
  const std::int64_t yes = t0 + 10'000;
  BOOST_REQUIRE(c.confirm(id, yes).ok());
  BOOST_TEST(!c.tick(yes + charger::plug_timeout_ms).finished.has_value());
  BOOST_REQUIRE(c.plug(yes + charger::plug_timeout_ms).ok());
  BOOST_TEST(c.charging());
}

BOOST_AUTO_TEST_CASE(unplug_counts_up_to_now_without_a_tick) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_REQUIRE(c.plug(t0 + 500).ok());
  const auto r = c.unplug(t0 + 500 + 9'000);
  BOOST_REQUIRE(r.ok());
  check_record(*r, id, 9.0, 3.15, t0 + 500, t0 + 9'500, end_reason::unplugged);
}

BOOST_AUTO_TEST_CASE(plug_and_unplug_errors) {
  const auto p = c.plug(t0);
  BOOST_REQUIRE(!p.ok());
  BOOST_TEST(p.err().code == errc::no_charge);
  const auto u = c.unplug(t0);
  BOOST_REQUIRE(!u.ok());
  BOOST_TEST(u.err().code == errc::no_charge);

  authorize("D1", 0, "r", t0);
  const auto early = c.unplug(t0 + 1);  // authorised but nothing plugged
  BOOST_REQUIRE(!early.ok());
  BOOST_TEST(early.err().code == errc::no_charge);
  BOOST_TEST(c.charging());

  c.fault(t0 + 2);
  const auto broken = c.plug(t0 + 3);
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.err().code == errc::broken);
}

BOOST_AUTO_TEST_CASE(a_confirmed_charge_never_plugged_ends_with_a_zero_record) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_TEST(!c.tick(t0 + charger::plug_timeout_ms).finished.has_value());
  BOOST_TEST(c.charging());  // exactly the timeout: still waiting
  const auto out = c.tick(t0 + charger::plug_timeout_ms + 300);
  BOOST_REQUIRE(out.finished.has_value());
  BOOST_TEST(!out.expired.has_value());
  check_record(*out.finished, id, 0.0, 0.0, t0, t0 + charger::plug_timeout_ms, end_reason::never_plugged);
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state() == cp_state::active);
  const auto late = c.plug(t0 + charger::plug_timeout_ms + 400);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::no_charge);
}

BOOST_AUTO_TEST_CASE(plugging_after_the_timeout_without_a_tick_fails_and_the_tick_records_it) {
  const auto id = authorize("D1", 0, "r", t0);
  const auto late = c.plug(t0 + charger::plug_timeout_ms + 1);
  BOOST_REQUIRE(!late.ok());
  BOOST_TEST(late.err().code == errc::no_charge);
  const auto out = c.tick(t0 + charger::plug_timeout_ms + 2);
  BOOST_REQUIRE(out.finished.has_value());
  check_record(*out.finished, id, 0.0, 0.0, t0, t0 + charger::plug_timeout_ms, end_reason::never_plugged);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(interruptions, fixture)

BOOST_AUTO_TEST_CASE(fault_ends_the_charge_and_refuses_until_repaired) {
  const auto id = authorize("D1", 8, "r", t0);
  c.tick(t0 + 3000);
  const auto r = c.fault(t0 + 4200);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 4.0, 1.40, t0, t0 + 4200, end_reason::engine_fault);
  BOOST_TEST(c.faulty());
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.state() == cp_state::broken);
  BOOST_TEST(!c.fault(t0 + 5000).has_value());  // nothing left to end
  c.repair();
  BOOST_TEST(!c.faulty());
  BOOST_TEST(c.state() == cp_state::active);
}

BOOST_AUTO_TEST_CASE(stop_ends_the_charge_and_refuses_until_resumed) {
  const auto id = authorize("D1", 0, "r", t0);
  BOOST_REQUIRE(c.plug(t0 + 1000).ok());
  const auto r = c.stop(t0 + 3000);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 2.0, 0.70, t0 + 1000, t0 + 3000, end_reason::stopped);
  BOOST_TEST(c.stopped());
  BOOST_TEST(c.state() == cp_state::out_of_order);
  BOOST_TEST(!c.stop(t0 + 4000).has_value());
  c.resume();
  BOOST_TEST(!c.stopped());
  BOOST_TEST(c.state() == cp_state::active);
}

BOOST_AUTO_TEST_CASE(broken_wins_over_out_of_order_in_the_state) {
  c.stop(t0);
  c.fault(t0);
  BOOST_TEST(c.state() == cp_state::broken);
  c.repair();
  BOOST_TEST(c.state() == cp_state::out_of_order);
}

BOOST_AUTO_TEST_CASE(a_confirmed_charge_not_plugged_ends_with_nothing_supplied) {
  const auto id = authorize("D1", 0, "r", t0);
  const auto r = c.end(t0 + 2500, end_reason::monitor_lost);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 0.0, 0.0, t0, t0 + 2500, end_reason::monitor_lost);
}

BOOST_AUTO_TEST_CASE(end_with_a_reason) {
  const auto id = authorize("D1", 6, "r", t0);
  const auto r = c.end(t0 + 2000, end_reason::monitor_lost);
  BOOST_REQUIRE(r.has_value());
  check_record(*r, id, 2.0, 0.70, t0, t0 + 2000, end_reason::monitor_lost);
  BOOST_TEST(!c.end(t0 + 3000, end_reason::monitor_lost).has_value());
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
  const auto r = charger::settle_interrupted("ALC1", 0.35, v, t0 - 10'000, t0);
  check_record(r, "ALC1-old-1", 4.0, 1.40, t0 - 10'000, t0, end_reason::engine_restarted);
  // It does not become the current charge.
  BOOST_TEST(!c.charging());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(views, fixture)

BOOST_AUTO_TEST_CASE(idle_view_is_empty) {
  BOOST_TEST(!c.charging());
  BOOST_TEST(c.current().charge_id.empty());
  BOOST_TEST(c.current_started_ms() == 0);
  BOOST_TEST(c.pending().charge_id.empty());
}

BOOST_AUTO_TEST_CASE(telemetry_sequence_only_grows) {
  const auto a = c.next_telemetry_seq();
  const auto b = c.next_telemetry_seq();
  BOOST_TEST(a >= 1u);
  BOOST_TEST(b == a + 1);
}

BOOST_AUTO_TEST_SUITE_END()

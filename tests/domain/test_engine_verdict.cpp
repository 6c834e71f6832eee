#define BOOST_TEST_MODULE domain_engine_verdict
#include <boost/test/unit_test.hpp>

#include "evnet/domain/engine_verdict.hpp"

#include <string>

using evnet::cp_state;
using evnet::domain::engine_verdict;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;
const std::string no_answer = "no answer from the Engine at engine.local:6000";

engine_verdict started() { return engine_verdict{"engine.local:6000", t0}; }

} // namespace

BOOST_AUTO_TEST_CASE(no_verdict_before_the_engine_had_the_chance_to_answer) {
  auto v = started();
  for (std::int64_t t = t0; t < t0 + engine_verdict::silence_ms; t += 500) {
    BOOST_TEST(!v.evaluate(t).has_value());
    BOOST_TEST(!v.known());
  }
  auto r = v.evaluate(t0 + engine_verdict::silence_ms);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(!r->ok);
  BOOST_TEST(r->changed);
  BOOST_TEST(r->detail == no_answer);
  BOOST_TEST(!r->state.has_value());
  BOOST_TEST(v.ko());
  // Reported once: the same verdict a second later is not news.
  BOOST_TEST(!v.evaluate(t0 + 3500).has_value());
}

BOOST_AUTO_TEST_CASE(a_first_answer_gives_a_verdict_at_once_and_every_answer_is_reported) {
  auto v = started();
  auto first = v.answered(true, cp_state::active, t0 + 300);
  BOOST_TEST(first.ok);
  BOOST_TEST(first.changed);
  BOOST_TEST(first.detail.empty());
  BOOST_TEST_REQUIRE(first.state.has_value());
  BOOST_TEST(*first.state == cp_state::active);
  BOOST_TEST(v.ok());
  auto second = v.answered(true, cp_state::busy, t0 + 1300);
  BOOST_TEST(second.ok);
  BOOST_TEST(!second.changed);  // reported (for the screen) but not a change
  BOOST_TEST(*second.state == cp_state::busy);
  BOOST_TEST(!v.evaluate(t0 + 2000).has_value());
}

BOOST_AUTO_TEST_CASE(one_late_reply_is_not_a_fault_but_two_and_a_half_seconds_of_silence_are) {
  auto v = started();
  v.answered(true, cp_state::active, t0 + 1000);
  // One check missed: at t0+2000 and t0+3000 the last good answer is at most 2 s old.
  BOOST_TEST(!v.evaluate(t0 + 2000).has_value());
  BOOST_TEST(!v.evaluate(t0 + 3000).has_value());
  BOOST_TEST(!v.evaluate(t0 + 3500).has_value());  // exactly 2.5 s: still OK
  BOOST_TEST(v.ok());
  auto ko = v.evaluate(t0 + 3501);
  BOOST_TEST_REQUIRE(ko.has_value());
  BOOST_TEST(!ko->ok);
  BOOST_TEST(ko->changed);
  BOOST_TEST(ko->detail == no_answer);
  BOOST_TEST(!ko->state.has_value());
  // An answer brings it back at once.
  auto back = v.answered(true, cp_state::active, t0 + 4000);
  BOOST_TEST(back.ok);
  BOOST_TEST(back.changed);
  BOOST_TEST(back.detail.empty());
}

BOOST_AUTO_TEST_CASE(a_late_reply_within_the_window_keeps_the_engine_ok) {
  auto v = started();
  for (std::int64_t t = t0; t < t0 + 60'000; t += 1000) {
    // The reply arrives 1.2 s after each check: always late, never silent.
    auto r = v.answered(true, cp_state::active, t + 1200);
    BOOST_TEST(r.ok);
    BOOST_TEST(!v.evaluate(t + 2000).has_value());
  }
}

BOOST_AUTO_TEST_CASE(a_reported_fault_is_ko_at_once_and_a_repair_ok_at_once) {
  auto v = started();
  v.answered(true, cp_state::active, t0 + 1000);
  auto fault = v.answered(false, cp_state::broken, t0 + 2000);
  BOOST_TEST(!fault.ok);
  BOOST_TEST(fault.changed);
  BOOST_TEST(fault.detail == "the Engine reports a fault");
  BOOST_TEST(*fault.state == cp_state::broken);
  BOOST_TEST(v.ko());
  BOOST_TEST(v.detail() == "the Engine reports a fault");
  auto still = v.answered(false, cp_state::broken, t0 + 3000);
  BOOST_TEST(!still.changed);
  // A faulty Engine that falls silent changes the reason: that is news too.
  auto silent = v.evaluate(t0 + 6000);
  BOOST_TEST_REQUIRE(silent.has_value());
  BOOST_TEST(silent->detail == no_answer);
  auto repaired = v.answered(true, cp_state::active, t0 + 7000);
  BOOST_TEST(repaired.ok);
  BOOST_TEST(repaired.changed);
}

BOOST_AUTO_TEST_CASE(works_from_time_zero) {
  engine_verdict v{"e:1", 0};
  BOOST_TEST(!v.evaluate(0).has_value());
  auto r = v.answered(true, cp_state::active, 0);
  BOOST_TEST(r.ok);
  BOOST_TEST(!v.evaluate(2500).has_value());
  BOOST_TEST(v.evaluate(2501).has_value());
}

#define BOOST_TEST_MODULE domain_central_machine
#include <boost/test/unit_test.hpp>

#include "central_rig.hpp"
#include "evnet/domain/central_machine.hpp"

#include <string>
#include <vector>

using evnet::cp_order;
using evnet::cp_state;
using evnet::end_reason;
using evnet::errc;
using evnet::domain::central_machine;
using evnet::domain::memory_book;
using evnet::domain::operator_command;
using evnet::domain::operator_verb;
namespace domain = evnet::domain;
namespace protocol = evnet::protocol;

namespace {

// A Central machine on simulated time with ALC1 (Monitor "m1", Engine
// "e1"), MAD1 (Monitor "m2", Engine "e2") and drivers D1 ("d1"), D2 ("d2"),
// all speaking with CURVE off (claims trusted).
struct fixture : evnet::testing::central_rig {
  fixture() {
    boot();
    tell("m1", protocol::cp_auth{"ALC1"});
    tell("e1", protocol::engine_hello{"ALC1"});
    tell("m2", protocol::cp_auth{"MAD1"});
    tell("e2", protocol::engine_hello{"MAD1"});
    tell("d1", protocol::driver_hello{"D1"});
    tell("d2", protocol::driver_hello{"D2"});
    // The fresh CPs get the operator's standing word (RESUME): ack it.
    ack_orders();
    drain();
  }

  template <class T>
  void tell(const std::string& peer, T body, std::uint64_t corr = 0) {
    tell_as(peer, "", std::move(body), corr);
  }
  void gone(const std::string& peer) {
    central->on_peer_gone(peer, now);
    collect();
  }
  void order(cp_order o, const std::string& cp) {
    operator_command cmd;
    cmd.verb = operator_verb::order;
    cmd.order = o;
    cmd.target = cp;
    central->on_operator(cmd, now);
    collect();
  }

  template <class T>
  std::vector<std::uint64_t> correlations_to(const std::string& peer) const {
    std::vector<std::uint64_t> out;
    for (const auto& s : sent) {
      if (s.to == peer && std::holds_alternative<T>(s.body)) {
        out.push_back(s.correlation);
      }
    }
    return out;
  }
  std::vector<domain::notice> events(const std::string& name) const {
    std::vector<domain::notice> out;
    for (const auto& n : notices) {
      if (n.name == name) {
        out.push_back(n);
      }
    }
    return out;
  }
  static const evnet::json::value* field(const domain::notice& n, const std::string& key) {
    for (const auto& [k, v] : n.fields) {
      if (k == key) {
        return &v;
      }
    }
    return nullptr;
  }
  static std::string text(const domain::notice& n, const std::string& key) {
    const auto* v = field(n, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
  }

  void ack_orders() {
    collect();
    for (const auto& s : sent) {
      if (std::holds_alternative<protocol::cp_command>(s.body)) {
        central->on_message(s.to, protocol::make("test", protocol::ack{true, ""}, s.correlation), now);
      }
    }
    collect();
  }

  cp_state state(const std::string& cp) const { return central->model().info(cp).state; }

  // D1 asks for a charge at ALC1; the CP says yes with `charge`.
  void charge(const std::string& rid, const std::string& charge_id, std::int64_t duration = 5) {
    tell("d1", protocol::charge_request{"D1", "ALC1", duration, rid}, 40);
    tell("m1", protocol::authorize_reply{true, "", charge_id, "ALC1", rid});
  }

  protocol::charge_record record(const std::string& charge_id, double kwh = 5.0,
                                 const std::string& driver = "D1") const {
    protocol::charge_record r;
    r.cp_id = "ALC1";
    r.charge_id = charge_id;
    r.driver_id = driver;
    r.kwh = kwh;
    r.price = 0.35;
    r.amount = kwh * 0.35;
    r.start_ms = now - 5000;
    r.end_ms = now;
    r.reason = end_reason::completed;
    return r;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(the_fence, fixture)

BOOST_AUTO_TEST_CASE(a_yes_in_time_is_confirmed_and_the_cp_is_busy_for_that_driver) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  const auto asks = to<protocol::authorize_request>("m1");
  BOOST_REQUIRE(asks.size() == 1u);
  BOOST_TEST(asks[0].request_id == "r1");
  BOOST_TEST(asks[0].driver_id == "D1");
  BOOST_TEST(events("request").size() == 1u);
  BOOST_TEST(to<protocol::charge_reply>("d1").empty());  // nothing before the CP answers

  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(replies[0].ok);
  BOOST_TEST(replies[0].charge_id == "c1");
  BOOST_TEST(correlations_to<protocol::charge_reply>("d1")[0] == 40u);
  const auto decisions = to<protocol::authorize_decision>("m1");
  BOOST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(decisions[0].confirmed);
  BOOST_TEST(decisions[0].charge_id == "c1");
  BOOST_TEST((state("ALC1") == cp_state::busy));
  BOOST_TEST(central->model().info("ALC1").driver_id == "D1");
  BOOST_TEST(events("authorized").size() == 1u);
  BOOST_TEST(events("cp_state").size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_decision_is_resent_every_second_until_acked) {
  charge("r1", "c1");
  drain();
  pass(1000);
  BOOST_TEST(to<protocol::authorize_decision>("m1").size() == 1u);
  pass(1000);
  BOOST_TEST(to<protocol::authorize_decision>("m1").size() == 2u);
  tell("m1", protocol::decision_ack{"ALC1", "r1", "c1", true, ""});
  drain();
  pass(5000);
  BOOST_TEST(to<protocol::authorize_decision>("m1").empty());
}

BOOST_AUTO_TEST_CASE(a_late_yes_is_cancelled_and_never_billed) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  pass(5000);
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason == "CP ALC1 did not answer");
  BOOST_TEST(events("denied").size() == 1u);
  drain();

  // The CP's yes arrives after the driver was told no.
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  const auto decisions = to<protocol::authorize_decision>("m1");
  BOOST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(!decisions[0].confirmed);
  BOOST_TEST(to<protocol::charge_reply>("d1").empty());
  BOOST_TEST((state("ALC1") == cp_state::active));

  // Even if the CP supplied anyway, its telemetry is never adopted...
  tell("e1", protocol::telemetry{"ALC1", "c1", "D1", 1, 1.0, 0.35, 0.35});
  BOOST_TEST((state("ALC1") == cp_state::active));
  BOOST_TEST(events("telemetry").empty());
  BOOST_TEST(to<protocol::progress>("d1").empty());
  // ... and its record is acknowledged (so it stops) but not billed.
  tell("e1", protocol::charge_finished{record("c1")}, 77);
  BOOST_TEST(to<protocol::record_ack>("e1").size() == 1u);
  BOOST_TEST(book.charges().empty());
  BOOST_TEST(events("ticket").empty());
  BOOST_TEST(to<protocol::ticket>("d1").empty());
  const auto errors = events("error");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(text(errors[0], "code") == "refused");
  // A retry of the request hears the same "no".
  drain();
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 41);
  const auto again = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(!again[0].ok);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
}

BOOST_AUTO_TEST_CASE(a_repeated_reply_gets_the_same_decision_and_no_second_answer) {
  charge("r1", "c1");
  drain();
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  const auto decisions = to<protocol::authorize_decision>("m1");
  BOOST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(decisions[0].confirmed);
  BOOST_TEST(to<protocol::charge_reply>("d1").empty());
  BOOST_TEST(events("authorized").empty());
}

BOOST_AUTO_TEST_CASE(a_cp_refusal_reaches_the_driver_with_its_reason) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  tell("m1", protocol::authorize_reply{false, "vehicle not ready", "", "ALC1", "r1"});
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason == "CP ALC1 refused: vehicle not ready");
  BOOST_TEST(to<protocol::authorize_decision>("m1").empty());
  BOOST_TEST((state("ALC1") == cp_state::active));
}

BOOST_AUTO_TEST_CASE(a_late_confirm_ends_the_announced_session_and_bills_nothing) {
  charge("r1", "c1");
  drain();
  tell("m1", protocol::decision_ack{"ALC1", "r1", "c1", false, "reservation_expired"});
  const auto cut = to<protocol::charge_interrupted>("d1");
  BOOST_REQUIRE(cut.size() == 1u);
  BOOST_TEST(cut[0].kwh == 0.0);
  BOOST_TEST(cut[0].reason == "the CP dropped the authorisation");
  BOOST_TEST((state("ALC1") == cp_state::active));
  BOOST_TEST(events("interrupted").size() == 1u);
  BOOST_TEST(book.charges().empty());
  // No more decisions; a second ack=false changes nothing.
  drain();
  pass(3000);
  BOOST_TEST(to<protocol::authorize_decision>("m1").empty());
  tell("m1", protocol::decision_ack{"ALC1", "r1", "c1", false, "reservation_expired"});
  BOOST_TEST(to<protocol::charge_interrupted>("d1").empty());
  BOOST_TEST(book.charges().empty());
}

BOOST_AUTO_TEST_CASE(a_record_after_a_late_confirm_proves_supply_and_is_billed) {
  // A restarted Engine forgot the reservation but had begun the charge:
  // its "no" ended the session, its record shows what it supplied.
  charge("r1", "c1");
  tell("m1", protocol::decision_ack{"ALC1", "r1", "c1", false, "reservation_expired"});
  drain();
  tell("e1", protocol::charge_finished{record("c1", 2.0)});
  BOOST_TEST(book.charges().size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  BOOST_TEST(events("error").empty());
}

BOOST_AUTO_TEST_CASE(one_authorisation_at_a_time_per_cp) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  tell("d2", protocol::charge_request{"D2", "ALC1", 5, "s1"}, 50);
  const auto replies = to<protocol::charge_reply>("d2");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason == "CP ALC1 is busy");
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_yes_for_a_cp_stopped_meanwhile_is_cancelled_and_the_driver_told) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  order(cp_order::stop, "ALC1");
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason == "CP ALC1 is out of order");
  const auto decisions = to<protocol::authorize_decision>("m1");
  BOOST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(!decisions[0].confirmed);
}

BOOST_AUTO_TEST_CASE(an_unanswered_question_is_asked_again_every_second) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  drain();
  pass(1000);
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 1u);
  pass(1000);
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 2u);
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  drain();
  pass(3000);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
}

BOOST_AUTO_TEST_CASE(a_monitor_that_comes_back_is_asked_again) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  gone("m1");
  drain();
  tell("m1b", protocol::cp_auth{"ALC1"});
  const auto asks = to<protocol::authorize_request>("m1b");
  BOOST_REQUIRE(asks.size() == 1u);
  BOOST_TEST(asks[0].request_id == "r1");
  tell("m1b", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  BOOST_TEST(to<protocol::charge_reply>("d1").at(0).ok);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(requests, fixture)

BOOST_AUTO_TEST_CASE(a_retry_gets_the_same_answer_and_never_charges_twice) {
  charge("r1", "c1");
  drain();
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 41);
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(replies[0].ok);
  BOOST_TEST(replies[0].charge_id == "c1");
  BOOST_TEST(correlations_to<protocol::charge_reply>("d1")[0] == 41u);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
  BOOST_TEST(events("request").empty());
}

BOOST_AUTO_TEST_CASE(a_retry_in_flight_is_answered_once_on_the_latest_link) {
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 40);
  gone("d1");
  tell("d1b", protocol::driver_hello{"D1"});
  tell("d1b", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 60);
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 1u);
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  BOOST_TEST(to<protocol::charge_reply>("d1").empty());
  BOOST_TEST(to<protocol::charge_reply>("d1b").size() == 1u);
  BOOST_TEST(correlations_to<protocol::charge_reply>("d1b")[0] == 60u);
}

BOOST_AUTO_TEST_CASE(denials_come_from_the_network_model) {
  tell("d1", protocol::charge_request{"D1", "ALC9", 5, "a"}, 1);
  tell("d1", protocol::charge_request{"D1", "ALC1", -1, "b"}, 2);
  tell("d1", protocol::charge_request{"D1", "ALC1", 90000, "c"}, 3);
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 3u);
  BOOST_TEST(replies[0].reason == "CP ALC9 is not registered");
  BOOST_TEST(replies[1].reason.find("duration") != std::string::npos);
  BOOST_TEST(!replies[2].ok);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
  BOOST_TEST(events("denied").size() == 3u);
}

BOOST_AUTO_TEST_CASE(nobody_asks_in_someone_elses_name) {
  tell("d1", protocol::charge_request{"D2", "ALC1", 5, "r1"}, 5);
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason == "not allowed to request this charge");
  tell("m1", protocol::charge_request{"@MAD1", "MAD1", 5, "r2"}, 6);
  BOOST_TEST(!to<protocol::charge_reply>("m1").at(0).ok);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
  BOOST_TEST(to<protocol::authorize_request>("m2").empty());
}

BOOST_AUTO_TEST_CASE(a_local_charge_is_billed_without_a_ticket_to_anybody) {
  tell("m1", protocol::charge_request{"@ALC1", "ALC1", 3, "L1"}, 9);
  tell("m1", protocol::authorize_reply{true, "", "c-local", "ALC1", "L1"});
  BOOST_TEST(to<protocol::charge_reply>("m1").at(0).ok);
  tell("e1", protocol::charge_finished{record("c-local", 3.0, "@ALC1")});
  BOOST_TEST(book.charges().size() == 1u);
  BOOST_TEST(events("ticket").size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").empty());
  BOOST_TEST((state("ALC1") == cp_state::active));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(roles, fixture)

BOOST_AUTO_TEST_CASE(an_unknown_peer_is_asked_to_authenticate) {
  tell("stranger", protocol::telemetry{"ALC1", "c1", "D1", 1, 1.0, 0.35, 0.35}, 3);
  const auto errors = to<protocol::error_reply>("stranger");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST((errors[0].code == errc::unauthenticated));
  BOOST_TEST(correlations_to<protocol::error_reply>("stranger")[0] == 3u);
}

BOOST_AUTO_TEST_CASE(a_forged_record_from_another_cps_engine_is_refused) {
  tell("e2", protocol::charge_finished{record("forged")}, 8);
  const auto errors = to<protocol::error_reply>("e2");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST((errors[0].code == errc::unexpected));
  BOOST_TEST(to<protocol::record_ack>("e2").empty());
  BOOST_TEST(book.charges().empty());
  BOOST_TEST(events("ticket").empty());
}

BOOST_AUTO_TEST_CASE(a_driver_acking_another_drivers_ticket_is_refused) {
  charge("r1", "c1");
  tell("e1", protocol::charge_finished{record("c1")});
  drain();
  tell("d2", protocol::ticket_ack{"ALC1", "c1"});
  BOOST_TEST(!book.delivered("ALC1", "c1"));
  BOOST_TEST((to<protocol::error_reply>("d2").at(0).code == errc::forbidden));
  BOOST_TEST(to<protocol::error_reply>("d2").at(0).detail.find("D1") == std::string::npos);  // whose it is stays private
  pass(3000);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);  // still owed to D1
  tell("d1", protocol::ticket_ack{"ALC1", "c1"});
  BOOST_TEST(book.delivered("ALC1", "c1"));
}

BOOST_AUTO_TEST_CASE(snapshots_are_served_only_to_peers_that_introduced_themselves) {
  tell("anyone", protocol::snapshot_request{}, 4);
  BOOST_TEST(to<protocol::snapshot>("anyone").empty());
  BOOST_TEST((to<protocol::error_reply>("anyone").at(0).code == errc::unauthenticated));
  tell("d1", protocol::snapshot_request{}, 4);
  const auto snaps = to<protocol::snapshot>("d1");
  BOOST_REQUIRE(snaps.size() == 1u);
  BOOST_TEST(snaps[0].cps.size() == 2u);
  BOOST_TEST(snaps[0].seq == central->seq());
}

BOOST_AUTO_TEST_CASE(snapshots_are_limited_to_three_a_second_per_peer) {
  for (int i = 0; i < 5; ++i) {
    tell("d1", protocol::snapshot_request{}, 10 + i);
  }
  BOOST_TEST(to<protocol::snapshot>("d1").size() == 3u);
  const auto refused = to<protocol::error_reply>("d1");
  BOOST_REQUIRE(refused.size() == 2u);
  BOOST_TEST((refused[0].code == errc::too_many));
  // Another peer has its own allowance.
  tell("d2", protocol::snapshot_request{});
  BOOST_TEST(to<protocol::snapshot>("d2").size() == 1u);
  // One more every 333 ms.
  drain();
  now += 333;
  tell("d1", protocol::snapshot_request{});
  tell("d1", protocol::snapshot_request{});
  BOOST_TEST(to<protocol::snapshot>("d1").size() == 1u);
  BOOST_TEST(to<protocol::error_reply>("d1").size() == 1u);
  drain();
  now += 1000;
  for (int i = 0; i < 4; ++i) {
    tell("d1", protocol::snapshot_request{});
  }
  BOOST_TEST(to<protocol::snapshot>("d1").size() == 3u);  // never more than the burst
}

BOOST_AUTO_TEST_CASE(a_second_monitor_for_a_cp_is_denied_and_the_first_keeps_it) {
  tell("twin", protocol::cp_auth{"ALC1"}, 2);
  const auto replies = to<protocol::cp_auth_reply>("twin");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason.find("already") != std::string::npos);
  BOOST_TEST(*central->peers().monitor_of("ALC1") == "m1");
  tell("twin", protocol::charge_request{"@ALC1", "ALC1", 2, "t"}, 3);
  BOOST_TEST((to<protocol::error_reply>("twin").at(0).code == errc::unauthenticated));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(tickets, fixture)

BOOST_AUTO_TEST_CASE(a_finished_charge_is_stored_once_and_ticketed_until_acked) {
  charge("r1", "c1");
  drain();
  tell("e1", protocol::charge_finished{record("c1")}, 70);
  BOOST_TEST(correlations_to<protocol::record_ack>("e1").at(0) == 70u);
  BOOST_TEST(book.charges().size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  BOOST_TEST(events("ticket").size() == 1u);
  BOOST_TEST((state("ALC1") == cp_state::active));
  // A retried record is acknowledged again but billed once.
  tell("e1", protocol::charge_finished{record("c1")}, 71);
  BOOST_TEST(to<protocol::record_ack>("e1").size() == 2u);
  BOOST_TEST(events("ticket").size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  drain();
  pass(2000);
  BOOST_TEST(to<protocol::ticket>("d1").empty());
  pass(1000);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  tell("d1", protocol::ticket_ack{"ALC1", "c1"});
  drain();
  pass(10000);
  BOOST_TEST(to<protocol::ticket>("d1").empty());
}

BOOST_AUTO_TEST_CASE(a_store_failure_leaves_the_record_unacknowledged) {
  charge("r1", "c1");
  drain();
  book.failing = true;
  tell("e1", protocol::charge_finished{record("c1")});
  BOOST_TEST(to<protocol::record_ack>("e1").empty());
  BOOST_TEST(text(events("error").at(0), "code") == "store");
  BOOST_TEST((state("ALC1") == cp_state::busy));
  book.failing = false;
  tell("e1", protocol::charge_finished{record("c1")});
  BOOST_TEST(to<protocol::record_ack>("e1").size() == 1u);
}

BOOST_AUTO_TEST_CASE(tickets_owed_to_an_absent_driver_wait_for_its_hello) {
  charge("r1", "c1");
  gone("d1");
  drain();
  tell("e1", protocol::charge_finished{record("c1")});
  BOOST_TEST(book.charges().size() == 1u);
  pass(6000);
  for (const auto& s : sent) {
    BOOST_TEST(!std::holds_alternative<protocol::ticket>(s.body), "a ticket went to " << s.to);
  }
  tell("d1c", protocol::driver_hello{"D1"});
  BOOST_TEST(to<protocol::ticket>("d1c").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(operator_orders, fixture)

BOOST_AUTO_TEST_CASE(a_stop_is_resent_until_acked_and_reported) {
  order(cp_order::stop, "ALC1");
  BOOST_TEST((state("ALC1") == cp_state::out_of_order));
  const auto cmds = to<protocol::cp_command>("m1");
  BOOST_REQUIRE(cmds.size() == 1u);
  BOOST_TEST((cmds[0].command == cp_order::stop));
  const auto corr = correlations_to<protocol::cp_command>("m1")[0];
  BOOST_TEST(book.stopped_cps()->size() == 1u);
  drain();
  pass(2000);
  BOOST_TEST(to<protocol::cp_command>("m1").size() == 2u);
  BOOST_TEST(correlations_to<protocol::cp_command>("m1")[1] == corr);
  tell("m1", protocol::ack{true, ""}, corr);
  const auto reported = events("command");
  BOOST_REQUIRE(reported.size() == 1u);
  BOOST_TEST(text(reported[0], "command") == "stop");
  BOOST_TEST(field(reported[0], "ok")->get<bool>());
  drain();
  pass(5000);
  BOOST_TEST(to<protocol::cp_command>("m1").empty());
  BOOST_TEST(events("command").empty());
}

BOOST_AUTO_TEST_CASE(an_unacknowledged_order_is_reported_after_five_seconds) {
  order(cp_order::stop, "ALC1");
  drain();
  pass(4000);
  BOOST_TEST(events("command").empty());
  pass(1000);
  const auto reported = events("command");
  BOOST_REQUIRE(reported.size() == 1u);
  BOOST_TEST(!field(reported[0], "ok")->get<bool>());
  BOOST_TEST(text(reported[0], "reason") == "the CP did not acknowledge; applied when it reconnects");
  pass(5000);
  BOOST_TEST(events("command").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stop_given_while_away_is_applied_when_the_cp_returns) {
  gone("m1");
  drain();
  order(cp_order::stop, "ALC1");
  const auto reported = events("command");
  BOOST_REQUIRE(reported.size() == 1u);
  BOOST_TEST(text(reported[0], "reason") == "CP is disconnected; applied when it returns");
  tell("m1b", protocol::cp_auth{"ALC1"});
  const auto cmds = to<protocol::cp_command>("m1b");
  BOOST_REQUIRE(cmds.size() == 1u);
  BOOST_TEST((cmds[0].command == cp_order::stop));
  BOOST_TEST((state("ALC1") == cp_state::out_of_order));
}

BOOST_AUTO_TEST_CASE(a_restarted_engine_hears_the_stop_again) {
  order(cp_order::stop, "ALC1");
  ack_orders();
  drain();
  tell("e1", protocol::engine_hello{"ALC1"});  // same link: nothing new
  BOOST_TEST(to<protocol::cp_command>("m1").empty());
  tell("e1-restarted", protocol::engine_hello{"ALC1"});
  BOOST_TEST(events("engine").size() == 1u);
  const auto cmds = to<protocol::cp_command>("m1");
  BOOST_REQUIRE(cmds.size() == 1u);
  BOOST_TEST((cmds[0].command == cp_order::stop));
}

BOOST_AUTO_TEST_CASE(stop_all_reaches_every_cp) {
  operator_command cmd;
  cmd.verb = operator_verb::order;
  cmd.order = cp_order::stop;
  cmd.all = true;
  central->on_operator(cmd, now);
  collect();
  BOOST_TEST(to<protocol::cp_command>("m1").size() == 1u);
  BOOST_TEST(to<protocol::cp_command>("m2").size() == 1u);
  BOOST_TEST((state("MAD1") == cp_state::out_of_order));
}

BOOST_AUTO_TEST_CASE(add_registers_a_cp_in_the_book) {
  operator_command cmd;
  cmd.verb = operator_verb::add;
  cmd.target = "VLC1";
  cmd.price = 0.4;
  cmd.location = "Valencia";
  central->on_operator(cmd, now);
  collect();
  BOOST_TEST(central->model().knows_cp("VLC1"));
  BOOST_TEST(book.load_registry()->cps.size() == 3u);
  BOOST_TEST(updates.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(losses_and_restarts, fixture)

BOOST_AUTO_TEST_CASE(a_lost_monitor_disconnects_the_cp_and_interrupts_its_driver) {
  charge("r1", "c1");
  drain();
  gone("m1");
  BOOST_TEST((state("ALC1") == cp_state::disconnected));
  const auto cut = to<protocol::charge_interrupted>("d1");
  BOOST_REQUIRE(cut.size() == 1u);
  BOOST_TEST(cut[0].reason == "CP ALC1 disconnected");
  BOOST_TEST(events("interrupted").size() == 1u);
  // Its decision is no longer resent; the record still bills the charge.
  drain();
  pass(3000);
  BOOST_TEST(sent.empty());
  tell("e1", protocol::charge_finished{record("c1", 2.0)});
  BOOST_TEST(book.charges().size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_stream_is_consecutive_from_the_first_sequence) {
  charge("r1", "c1");
  tell("e1", protocol::telemetry{"ALC1", "c1", "D1", 1, 1.0, 0.35, 0.35});
  BOOST_REQUIRE(updates.size() == 1u);  // BUSY; the kWh are nobody else's business
  BOOST_TEST(to<protocol::progress>("d1").size() == 1u);
  tell("e1", protocol::charge_finished{record("c1", 1.0)});
  BOOST_REQUIRE(updates.size() == 2u);
  BOOST_TEST(updates[0].seq + 1 == updates[1].seq);
  BOOST_TEST(updates[1].seq == central->seq());
}

BOOST_AUTO_TEST_CASE(a_restarted_central_keeps_the_book_and_starts_its_stream_above_the_old_one) {
  charge("r1", "c1");
  tell("e1", protocol::charge_finished{record("c1")});
  order(cp_order::stop, "MAD1");
  drain();
  boot(5'000'000);
  BOOST_TEST((state("MAD1") == cp_state::disconnected));
  BOOST_TEST(central->model().find("MAD1")->condition.stopped);
  // Peers are unknown to the new Central: asked to authenticate again.
  tell("e1", protocol::telemetry{"ALC1", "c2", "D1", 1, 1.0, 0.35, 0.35});
  BOOST_TEST((to<protocol::error_reply>("e1").at(0).code == errc::unauthenticated));
  tell("m1", protocol::cp_auth{"ALC1"});
  BOOST_TEST(updates.at(0).seq == 5'000'001u);
  // The ticket still owed is delivered at the driver's hello.
  tell("d1", protocol::driver_hello{"D1"});
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  // A yes it never asked for is cancelled.
  tell("m1", protocol::authorize_reply{true, "", "c9", "ALC1", "old"});
  BOOST_TEST(!to<protocol::authorize_decision>("m1").at(0).confirmed);
}

BOOST_AUTO_TEST_CASE(a_yes_survives_a_restart_for_the_drivers_retry) {
  charge("r1", "c1");  // the driver's copy of the yes is lost
  boot(5'000'000);
  tell("d1", protocol::driver_hello{"D1"});
  drain();
  tell("d1", protocol::charge_request{"D1", "ALC1", 5, "r1"}, 42);  // ALC1 not even back yet
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(replies[0].ok);
  BOOST_TEST(replies[0].charge_id == "c1");
  BOOST_TEST(correlations_to<protocol::charge_reply>("d1")[0] == 42u);
  BOOST_TEST(events("request").empty());
}

BOOST_AUTO_TEST_CASE(a_charge_that_already_ran_is_confirmed_again_but_not_started) {
  charge("r1", "c1");
  tell("e1", protocol::charge_finished{record("c1")});
  boot(5'000'000);  // the record is in the book; the fence's memory is gone
  tell("m1", protocol::cp_auth{"ALC1"});
  drain();
  // The Monitor repeats a reply the old Central answered: it happened, so
  // it is confirmed again (never refused), and nothing starts.
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});
  BOOST_TEST(to<protocol::authorize_decision>("m1").at(0).confirmed);
  BOOST_TEST((state("ALC1") == cp_state::active));
  tell("e1b", protocol::engine_hello{"ALC1"});
  tell("e1b", protocol::charge_finished{record("c1")}, 5);
  BOOST_TEST(to<protocol::record_ack>("e1b").size() == 1u);
  BOOST_TEST(events("error").empty());
}

BOOST_AUTO_TEST_CASE(a_yes_an_earlier_central_gave_is_not_taken_back_after_a_restart) {
  charge("r1", "c1");  // confirmed; the Engine supplies, its ack dies with Central
  boot(5'000'000);
  tell("m1", protocol::cp_auth{"ALC1"});
  drain();
  tell("m1", protocol::authorize_reply{true, "", "c1", "ALC1", "r1"});  // the Monitor repeats
  BOOST_TEST(to<protocol::authorize_decision>("m1").at(0).confirmed);
  tell("e1b", protocol::engine_hello{"ALC1"});
  tell("e1b", protocol::telemetry{"ALC1", "c1", "D1", 4, 4.0, 1.4, 0.35});
  BOOST_TEST((state("ALC1") == cp_state::busy));  // adopted
  tell("e1b", protocol::charge_finished{record("c1", 4.0)});
  BOOST_TEST(book.charges().size() == 1u);
}

BOOST_AUTO_TEST_CASE(telemetry_is_the_proof_a_confirmation_arrived) {
  charge("r1", "c1");
  tell("e1", protocol::telemetry{"ALC1", "c1", "D1", 1, 1.0, 0.35, 0.35});
  drain();
  pass(3000);
  BOOST_TEST(to<protocol::authorize_decision>("m1").empty());  // no more resends
  // A restarted Engine that forgot the reservation (not the charge) says no:
  // that is no late confirm, and the charge is billed.
  tell("m1", protocol::decision_ack{"ALC1", "r1", "c1", false, "reservation_expired"});
  BOOST_TEST(to<protocol::charge_interrupted>("d1").empty());
  tell("e1", protocol::charge_finished{record("c1", 1.0)});
  BOOST_TEST(book.charges().size() == 1u);
}

BOOST_AUTO_TEST_CASE(telemetry_of_a_charge_central_did_not_refuse_is_adopted_after_a_restart) {
  boot(2000);
  tell("m1", protocol::cp_auth{"ALC1"});
  tell("e1", protocol::engine_hello{"ALC1"});
  tell("e1", protocol::telemetry{"ALC1", "c5", "D1", 3, 3.0, 1.05, 0.35});
  BOOST_TEST((state("ALC1") == cp_state::busy));
  BOOST_TEST(events("telemetry").size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_same_inputs_give_the_same_outputs) {
  auto run = [](fixture& f) {
    f.charge("r1", "c1");
    f.tell("d2", protocol::charge_request{"D2", "MAD1", 5, "s1"}, 3);
    f.pass(6000);
    f.tell("m2", protocol::authorize_reply{true, "", "c2", "MAD1", "s1"});
    f.tell("e1", protocol::charge_finished{f.record("c1")});
    f.pass(4000);
    std::vector<std::string> out;
    for (const auto& s : f.sent) {
      out.push_back(s.to + " " + protocol::encode(protocol::message{1, "c", s.correlation, s.body}));
    }
    for (const auto& n : f.notices) {
      out.push_back(n.name);
    }
    return out;
  };
  fixture a;
  fixture b;
  BOOST_TEST((run(a) == run(b)));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the stream: its port in snapshots, its heartbeat -----------------------------------

BOOST_FIXTURE_TEST_SUITE(the_stream, fixture)

BOOST_AUTO_TEST_CASE(snapshots_name_the_stream_port_once_it_is_set) {
  tell("d1", protocol::snapshot_request{}, 4);
  BOOST_TEST(to<protocol::snapshot>("d1").at(0).stream_port == 0u);  // unknown: clients assume port+1
  drain();
  central->set_stream_port(7101);
  BOOST_TEST(central->stream_port() == 7101u);
  now += 1000;
  tell("d1", protocol::snapshot_request{}, 5);
  BOOST_TEST(to<protocol::snapshot>("d1").at(0).stream_port == 7101u);
}

BOOST_AUTO_TEST_CASE(a_heartbeat_once_a_second_names_the_last_update_published) {
  // The fixture's own ticks may have made one already.
  (void)central->take_stream_heartbeat();
  pass(1000);
  auto hugz = central->take_stream_heartbeat();
  BOOST_REQUIRE(hugz.has_value());
  BOOST_TEST(hugz->seq == central->seq());
  BOOST_TEST(!central->take_stream_heartbeat().has_value());  // taken once

  // Ticks more often than once a second do not make more of them.
  now += 400;
  central->on_tick(now);
  BOOST_TEST(!central->take_stream_heartbeat().has_value());
  now += 599;
  central->on_tick(now);
  BOOST_TEST(!central->take_stream_heartbeat().has_value());
  now += 1;
  central->on_tick(now);
  BOOST_TEST(central->take_stream_heartbeat().has_value());

  // An update published in a tick is named by that tick's heartbeat, and it
  // is not a new sequence number: the next update follows on.
  drain();
  const auto before = central->seq();
  tell("m1", protocol::cp_status{"ALC1", false, "fault"});
  BOOST_REQUIRE(!updates.empty());
  const auto last = updates.back().seq;
  BOOST_TEST(last > before);
  pass(1000);
  hugz = central->take_stream_heartbeat();
  BOOST_REQUIRE(hugz.has_value());
  BOOST_TEST(hugz->seq == last);
  BOOST_TEST(central->seq() == last);
  tell("m1", protocol::cp_status{"ALC1", true, ""});
  BOOST_TEST(updates.back().seq == last + 1);
}

BOOST_AUTO_TEST_CASE(a_quiet_stream_still_beats_every_second) {
  (void)central->take_stream_heartbeat();
  int beats = 0;
  for (int s = 0; s < 10; ++s) {
    pass(1000);
    if (auto h = central->take_stream_heartbeat()) {
      ++beats;
      BOOST_TEST(h->seq == central->seq());
    }
  }
  BOOST_TEST(beats == 10);
}

BOOST_AUTO_TEST_SUITE_END()

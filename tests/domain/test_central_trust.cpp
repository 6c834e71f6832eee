#define BOOST_TEST_MODULE domain_central_trust
#include <boost/test/unit_test.hpp>

#include "evnet/domain/billing.hpp"
#include "central_rig.hpp"
#include "evnet/domain/central_machine.hpp"

#include <memory>
#include <string>
#include <vector>

// Central's machine with CURVE on: every message carries the User-Id of
// the key that sent it, and the machine checks each one against it.

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

// ALC1 (Monitor "m1", Engine "e1", key cp:ALC1), MAD1 ("m2", "e2", key
// cp:MAD1), drivers D1 ("d1", key driver:D1) and D2 ("d2", key driver:D2).
struct fixture : evnet::testing::central_rig {
  fixture() {
    boot();
    tell("m1", "cp:ALC1", protocol::cp_auth{"ALC1"});
    tell("e1", "cp:ALC1", protocol::engine_hello{"ALC1"});
    tell("m2", "cp:MAD1", protocol::cp_auth{"MAD1"});
    tell("e2", "cp:MAD1", protocol::engine_hello{"MAD1"});
    tell("d1", "driver:D1", protocol::driver_hello{"D1"});
    tell("d2", "driver:D2", protocol::driver_hello{"D2"});
    for (const auto& s : sent) {
      if (std::holds_alternative<protocol::cp_command>(s.body)) {
        central->on_message(s.to, "cp:" + std::get<protocol::cp_command>(s.body).cp_id,
                            protocol::make("test", protocol::ack{true, ""}, s.correlation), now);
      }
    }
    drain();
  }

  template <class T>
  void tell(const std::string& peer, const std::string& user, T body, std::uint64_t corr = 0) {
    tell_as(peer, user, std::move(body), corr);
  }
  void op(operator_verb verb, const std::string& target, cp_order o = cp_order::stop) {
    operator_command cmd;
    cmd.verb = verb;
    cmd.target = target;
    cmd.order = o;
    central->on_operator(cmd, now);
    collect();
  }

  static std::string text(const domain::notice& n, const std::string& key) {
    const auto it = n.fields.find(key);
    return it != n.fields.end() && it->second.is_string() ? it->second.get<std::string>() : std::string{};
  }
  std::vector<domain::audit_entry> audits(const std::string& action) const {
    std::vector<domain::audit_entry> out;
    for (const auto& e : book.audits()) {
      if (e.action == action) {
        out.push_back(e);
      }
    }
    return out;
  }
  static std::string param(const domain::audit_entry& e, const std::string& key) {
    const auto it = e.params.find(key);
    return it != e.params.end() && it->second.is_string() ? it->second.get<std::string>() : std::string{};
  }
  void refused_as_forbidden(const std::string& peer) const {
    const auto errors = to<protocol::error_reply>(peer);
    BOOST_REQUIRE(errors.size() == 1u);
    BOOST_TEST((errors[0].code == errc::forbidden));
  }

  // D1 charges at ALC1 as charge `charge_id`, with `kwh` supplied so far.
  void charging(const std::string& charge_id, double kwh) {
    tell("d1", "driver:D1", protocol::charge_request{"D1", "ALC1", 60, "r-" + charge_id}, 40);
    tell("m1", "cp:ALC1", protocol::authorize_reply{true, "", charge_id, "ALC1", "r-" + charge_id});
    tell("e1", "cp:ALC1", protocol::telemetry{"ALC1", charge_id, "D1", 1, kwh, domain::amount_for(kwh, 0.35), 0.35});
  }

  protocol::charge_record record(const std::string& charge_id, const std::string& cp = "ALC1",
                                 const std::string& driver = "D1", double kwh = 99.0) const {
    protocol::charge_record r;
    r.cp_id = cp;
    r.charge_id = charge_id;
    r.driver_id = driver;
    r.kwh = kwh;
    r.price = 0.35;
    r.amount = domain::amount_for(kwh, 0.35);
    r.start_ms = now - 5000;
    r.end_ms = now;
    return r;
  }
};

} // namespace

// ---- what a key may say ----------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(claims, fixture)

BOOST_AUTO_TEST_CASE(a_cp_key_claiming_another_cp_is_refused_and_audited) {
  tell("x", "cp:MAD1", protocol::cp_auth{"ALC1"}, 3);
  refused_as_forbidden("x");
  BOOST_TEST(to<protocol::cp_auth_reply>("x").empty());
  BOOST_TEST(*central->peers().monitor_of("ALC1") == "m1");
  const auto refused = events("refused");
  BOOST_REQUIRE(refused.size() == 1u);
  BOOST_TEST(text(refused[0], "identity") == "cp:MAD1");
  BOOST_TEST(text(refused[0], "type") == "cp_auth");
  BOOST_TEST(text(refused[0], "peer") == "x");
  const auto hellos = audits("hello");
  BOOST_REQUIRE(!hellos.empty());
  BOOST_TEST(param(hellos.back(), "claimed") == "cp:ALC1");
  BOOST_TEST(param(hellos.back(), "identity") == "cp:MAD1");
  BOOST_TEST(hellos.back().outcome.rfind("refused: ", 0) == 0u);
  BOOST_TEST(hellos.back().source == "peer x");
}

BOOST_AUTO_TEST_CASE(a_cp_key_posing_as_another_cps_engine_cannot_bill_anyone) {
  // The attack: engine_hello for ALC1, then charge_finished for D1.
  tell("forger", "cp:MAD1", protocol::engine_hello{"ALC1"}, 1);
  refused_as_forbidden("forger");
  BOOST_TEST(*central->peers().engine_of("ALC1") == "e1");
  drain();
  now += 1000;
  tell("forger", "cp:MAD1", protocol::charge_finished{record("forged")}, 2);
  refused_as_forbidden("forger");
  // MAD1's own Engine may not report ALC1's charges either.
  tell("e2", "cp:MAD1", protocol::charge_finished{record("forged2")}, 3);
  refused_as_forbidden("e2");
  BOOST_TEST(book.charges().empty());
  BOOST_TEST(to<protocol::ticket>("d1").empty());
  BOOST_TEST(to<protocol::record_ack>("forger").empty());
  const auto rows = audits("refused");
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(param(rows[0], "type") == "charge_finished");
  BOOST_TEST(param(rows[1], "identity") == "cp:MAD1");
}

BOOST_AUTO_TEST_CASE(a_driver_key_speaks_only_as_that_driver) {
  tell("x", "driver:D2", protocol::driver_hello{"D1"}, 1);
  refused_as_forbidden("x");
  BOOST_TEST(*central->peers().driver_peer("D1") == "d1");
  tell("d2", "driver:D2", protocol::charge_request{"D1", "ALC1", 60, "q"}, 2);
  refused_as_forbidden("d2");
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
  // Nor as a CP.
  tell("d2", "driver:D2", protocol::cp_auth{"ALC1"}, 3);
  BOOST_TEST(to<protocol::error_reply>("d2").size() == 2u);
  tell("d2", "driver:D2", protocol::telemetry{"ALC1", "c1", "D1", 1, 1, 0.35, 0.35});
  BOOST_TEST(to<protocol::error_reply>("d2").size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_driver_key_acknowledging_another_drivers_ticket_is_refused) {
  charging("c1", 2.0);
  tell("e1", "cp:ALC1", protocol::charge_finished{record("c1", "ALC1", "D1", 2.0)});
  drain();
  tell("d2", "driver:D2", protocol::ticket_ack{"ALC1", "c1"}, 5);
  refused_as_forbidden("d2");
  BOOST_TEST(!book.delivered("ALC1", "c1"));
  BOOST_TEST(audits("refused").size() == 1u);
  tell("d1", "driver:D1", protocol::ticket_ack{"ALC1", "c1"});
  BOOST_TEST(book.delivered("ALC1", "c1"));
}

BOOST_AUTO_TEST_CASE(a_monitor_may_start_a_local_charge_at_its_own_cp_only) {
  tell("m1", "cp:ALC1", protocol::charge_request{"@ALC1", "ALC1", 60, "l1"}, 1);
  BOOST_TEST(to<protocol::error_reply>("m1").empty());
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 1u);
  tell("m1", "cp:ALC1", protocol::charge_request{"@MAD1", "MAD1", 60, "l2"}, 2);
  refused_as_forbidden("m1");
  BOOST_TEST(to<protocol::authorize_request>("m2").empty());
}

BOOST_AUTO_TEST_CASE(centrals_own_key_and_unknown_identities_speak_for_nobody) {
  tell("c", "central", protocol::cp_auth{"ALC1"});
  refused_as_forbidden("c");
  tell("u", "someone", protocol::driver_hello{"D1"});
  refused_as_forbidden("u");
  BOOST_TEST(*central->peers().driver_peer("D1") == "d1");
}

BOOST_AUTO_TEST_CASE(the_bound_role_must_be_the_keys) {
  // A peer that introduced itself as ALC1's Engine cannot go on under another key.
  tell("e1", "cp:MAD1", protocol::telemetry{"MAD1", "c9", "D1", 1, 1.0, 0.45, 0.45});
  refused_as_forbidden("e1");
  BOOST_TEST((central->model().info("MAD1").state == cp_state::active));
}

BOOST_AUTO_TEST_CASE(the_right_key_is_served_as_before) {
  charging("c1", 2.0);
  BOOST_TEST(to<protocol::charge_reply>("d1").at(0).ok);
  BOOST_TEST(to<protocol::progress>("d1").size() == 1u);
  BOOST_TEST(events("refused").empty());
  tell("e1", "cp:ALC1", protocol::charge_finished{record("c1", "ALC1", "D1", 2.0)}, 7);
  BOOST_TEST(to<protocol::record_ack>("e1").size() == 1u);
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  // Not yet introduced: asked to, as before.
  tell("new", "cp:ALC1", protocol::telemetry{"ALC1", "c1", "D1", 3, 3.0, 1.05, 0.35}, 8);
  BOOST_TEST((to<protocol::error_reply>("new").at(0).code == errc::unauthenticated));
}

BOOST_AUTO_TEST_CASE(refusals_are_answered_each_time_but_reported_once_a_second) {
  for (int i = 0; i < 5; ++i) {
    tell("forger", "cp:MAD1", protocol::engine_hello{"ALC1"}, static_cast<std::uint64_t>(i));
  }
  BOOST_TEST(to<protocol::error_reply>("forger").size() == 5u);
  BOOST_TEST(events("refused").size() == 1u);
  BOOST_TEST(audits("hello").size() == 6u + 1u);  // the fixture's six hellos, one refusal
  now += 1000;
  tell("forger", "cp:MAD1", protocol::engine_hello{"ALC1"});
  const auto refused = events("refused");
  BOOST_REQUIRE(refused.size() == 2u);
  BOOST_TEST(refused[1].fields.at("suppressed").get<int>() == 4);
  // Another peer is reported on its own.
  tell("other", "cp:MAD1", protocol::engine_hello{"ALC1"});
  BOOST_TEST(events("refused").size() == 3u);
}

BOOST_AUTO_TEST_CASE(hostile_routing_ids_are_escaped_in_reports) {
  const std::string peer = "\x1b[2J\"\n";
  tell(peer, "cp:MAD1", protocol::cp_auth{"ALC1"});
  const auto refused = events("refused");
  BOOST_REQUIRE(refused.size() == 1u);
  BOOST_TEST(text(refused[0], "peer").rfind("0x", 0) == 0u);
  BOOST_TEST(audits("hello").back().source.find('\x1b') == std::string::npos);
  refused_as_forbidden(peer);  // the reply still goes to the raw routing id
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the audit trail -------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(audit_trail, fixture)

BOOST_AUTO_TEST_CASE(accepted_hellos_are_audited_with_key_and_claim) {
  const auto hellos = audits("hello");
  BOOST_REQUIRE(hellos.size() == 6u);
  BOOST_TEST(param(hellos[0], "claimed") == "cp:ALC1");
  BOOST_TEST(param(hellos[0], "identity") == "cp:ALC1");
  BOOST_TEST(param(hellos[0], "peer") == "m1");
  BOOST_TEST(hellos[0].outcome == "ok");
  BOOST_TEST(param(hellos[5], "claimed") == "driver:D2");
  BOOST_TEST(hellos[5].time_ms == now);
  // A hello refused for an unregistered CP is audited too.
  tell("m9", "cp:NOPE", protocol::cp_auth{"NOPE"});
  BOOST_TEST(audits("hello").back().outcome.find("refused: ") == 0u);
}

BOOST_AUTO_TEST_CASE(admissions_are_audited_and_refusals_rate_limited) {
  central->on_admission(true, "cp:ALC1", "KEY-ALC1", "127.0.0.1", "", now);
  central->on_admission(false, "", "KEY-EVIL", "10.0.0.9", "key not registered", now);
  central->on_admission(false, "", "KEY-EVIL", "10.0.0.9", "key not registered", now + 10);
  central->on_admission(false, "", "", "10.0.0.8", "plaintext client", now + 20);
  collect();
  const auto rows = audits("auth");
  BOOST_REQUIRE(rows.size() == 3u);
  BOOST_TEST(rows[0].outcome == "admitted");
  BOOST_TEST(rows[0].source == "key cp:ALC1 from 127.0.0.1");
  BOOST_TEST(param(rows[0], "key") == "KEY-ALC1");
  BOOST_TEST(rows[1].outcome == "refused: key not registered");
  BOOST_TEST(param(rows[1], "address") == "10.0.0.9");
  BOOST_TEST(rows[2].outcome == "refused: plaintext client");
  BOOST_TEST(events("refused").size() == 2u);
  central->on_admission(false, "", "KEY-EVIL", "10.0.0.9", "key not registered", now + 1000);
  BOOST_TEST(audits("auth").back().params.at("suppressed").get<int>() == 1);
}

BOOST_AUTO_TEST_CASE(rejected_frames_are_audited_once_a_second_per_peer) {
  for (int i = 0; i < 3; ++i) {
    central->on_rejected_frame("p1", "cp:ALC1", "frame of 70000 bytes exceeds 65536", now);
  }
  central->on_rejected_frame("p2", "", "not MessagePack", now);
  const auto rows = audits("malformed");
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].source == "peer p1");
  BOOST_TEST(param(rows[0], "identity") == "cp:ALC1");
  BOOST_TEST(rows[0].outcome == "refused: frame of 70000 bytes exceeds 65536");
  pass(1000);
  central->on_rejected_frame("p1", "cp:ALC1", "again", now);
  BOOST_TEST(audits("malformed").size() == 3u);
  BOOST_TEST(audits("malformed").back().params.at("suppressed").get<int>() == 2);
}

BOOST_AUTO_TEST_CASE(operator_stop_and_resume_are_audited_with_the_change) {
  op(operator_verb::order, "ALC1", cp_order::stop);
  op(operator_verb::order, "ALC1", cp_order::resume);
  const auto stops = audits("stop");
  const auto resumes = audits("resume");
  BOOST_REQUIRE(stops.size() == 1u);
  BOOST_REQUIRE(resumes.size() == 1u);
  BOOST_TEST(stops[0].source == "operator");
  BOOST_TEST(param(stops[0], "cp") == "ALC1");
  BOOST_TEST(stops[0].outcome == "ok");
  // An order the model refuses changes nothing and is not audited as done.
  op(operator_verb::order, "NOPE", cp_order::stop);
  BOOST_TEST(audits("stop").size() == 1u);
}

BOOST_AUTO_TEST_CASE(faults_and_recoveries_are_logged_and_audited_together) {
  tell("m1", "cp:ALC1", protocol::cp_status{"ALC1", false, "engine fault"});
  tell("m1", "cp:ALC1", protocol::cp_status{"ALC1", false, "engine fault"});  // still broken: nothing new
  tell("m1", "cp:ALC1", protocol::cp_status{"ALC1", true, ""});
  const auto faults = audits("fault");
  BOOST_REQUIRE(faults.size() == 1u);
  BOOST_TEST(param(faults[0], "cp") == "ALC1");
  BOOST_TEST(param(faults[0], "detail") == "engine fault");
  BOOST_TEST(audits("recovery").size() == 1u);
  int fault_rows = 0;
  int recovery_rows = 0;
  for (const auto& [kind, text] : book.events()) {
    fault_rows += kind == "fault" ? 1 : 0;
    recovery_rows += kind == "recovery" ? 1 : 0;
  }
  BOOST_TEST(fault_rows == 1);
  BOOST_TEST(recovery_rows == 1);
}

// An OCPP charge point's Unavailable, told by its Monitor: OUT_OF_ORDER on
// the stream, charges refused, logged and audited once each way.
BOOST_AUTO_TEST_CASE(a_cp_out_of_service_by_its_own_say_is_out_of_order_and_audited) {
  protocol::cp_status out{"ALC1", true, "", true};
  tell("m1", "cp:ALC1", out);
  tell("m1", "cp:ALC1", out);  // periodic: nothing new
  BOOST_REQUIRE(!updates.empty());
  BOOST_TEST((updates.back().cp.state == cp_state::out_of_order));
  BOOST_TEST(audits("out_of_service").size() == 1u);
  BOOST_TEST(param(audits("out_of_service")[0], "cp") == "ALC1");
  tell("m1", "cp:ALC1", protocol::cp_status{"ALC1", true, "", false});
  BOOST_TEST((updates.back().cp.state == cp_state::active));
  BOOST_TEST(audits("in_service").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- privacy ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(privacy, fixture)

BOOST_AUTO_TEST_CASE(the_stream_and_snapshots_name_nobodys_charge) {
  charging("c1", 2.0);
  BOOST_REQUIRE(!updates.empty());
  for (const auto& u : updates) {
    BOOST_TEST(u.cp.driver_id.empty());
    BOOST_TEST(u.cp.kwh == 0.0);
    BOOST_TEST(u.cp.amount == 0.0);
  }
  BOOST_TEST((updates.back().cp.state == cp_state::busy));
  tell("d2", "driver:D2", protocol::snapshot_request{}, 9);
  const auto snaps = to<protocol::snapshot>("d2");
  BOOST_REQUIRE(snaps.size() == 1u);
  for (const auto& cp : snaps[0].cps) {
    BOOST_TEST(cp.driver_id.empty());
    BOOST_TEST(cp.kwh == 0.0);
  }
  // Only D1 hears of its charge; Central's own console sees everything.
  BOOST_TEST(to<protocol::progress>("d2").empty());
  BOOST_TEST(to<protocol::progress>("d1").size() == 1u);
  BOOST_TEST(text(events("telemetry").at(0), "driver") == "D1");
  BOOST_TEST(central->model().info("ALC1").driver_id == "D1");
}

BOOST_AUTO_TEST_CASE(telemetry_changes_nothing_public_and_publishes_nothing) {
  charging("c1", 2.0);
  drain();
  tell("e1", "cp:ALC1", protocol::telemetry{"ALC1", "c1", "D1", 2, 3.0, 1.05, 0.35});
  BOOST_TEST(updates.empty());
  BOOST_TEST(to<protocol::progress>("d1").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- revocation ------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(revocation, fixture)

BOOST_AUTO_TEST_CASE(revoking_a_cp_mid_charge_ends_it_with_one_ticket_for_what_was_supplied) {
  charging("c1", 3.0);
  const std::int64_t started = now;
  drain();
  now += 4000;
  op(operator_verb::revoke, "ALC1");
  // The charge ends now, billed for its last telemetry.
  BOOST_REQUIRE(book.charges().size() == 1u);
  const auto& r = book.charges().begin()->second;
  BOOST_TEST(r.charge_id == "c1");
  BOOST_TEST(r.driver_id == "D1");
  BOOST_TEST(r.kwh == 3.0);
  BOOST_TEST(r.price == 0.35);
  BOOST_TEST(r.amount == domain::amount_for(3.0, 0.35));
  BOOST_TEST(r.start_ms == started);
  BOOST_TEST(r.end_ms == now);
  BOOST_TEST((r.reason == end_reason::revoked));
  const auto tickets = to<protocol::ticket>("d1");
  BOOST_REQUIRE(tickets.size() == 1u);
  BOOST_TEST((tickets[0].record.reason == end_reason::revoked));
  // Its peers are forgotten and it shows DISCONNECTED; nothing goes to them.
  BOOST_TEST((central->model().info("ALC1").state == cp_state::disconnected));
  BOOST_TEST(central->peers().monitor_of("ALC1") == nullptr);
  BOOST_TEST(central->peers().engine_of("ALC1") == nullptr);
  BOOST_TEST(to<protocol::error_reply>("m1").empty());
  BOOST_TEST(to<protocol::error_reply>("e1").empty());
  const auto revoked = events("revoked");
  BOOST_REQUIRE(revoked.size() == 1u);
  BOOST_TEST(text(revoked[0], "id") == "ALC1");
  BOOST_TEST(text(revoked[0], "kind") == "cp");
  BOOST_TEST(book.revoked().contains("ALC1"));
  BOOST_TEST(audits("revoke").size() == 1u);
  BOOST_TEST(audits("revoke")[0].source == "operator");
  // The actor is told once, to update its key ring and cut the link.
  BOOST_TEST((central->take_revoked() == std::vector<std::string>{"cp:ALC1"}));
  BOOST_TEST(central->take_revoked().empty());
  BOOST_TEST(central->is_revoked("cp:ALC1"));

  // Anything still signed by that key is dropped without an answer.
  drain();
  tell("e1", "cp:ALC1", protocol::engine_hello{"ALC1"}, 3);
  tell("e1", "cp:ALC1", protocol::charge_finished{record("c1", "ALC1", "D1", 5.0)}, 4);
  tell("m1x", "cp:ALC1", protocol::cp_auth{"ALC1"}, 5);
  BOOST_TEST(sent.empty());
  BOOST_TEST(book.charges().size() == 1u);

  // Registered again with a new key: its Engine's own record is only acknowledged.
  central->readmit("cp:ALC1");
  tell("e1b", "cp:ALC1", protocol::engine_hello{"ALC1"}, 6);
  tell("e1b", "cp:ALC1", protocol::charge_finished{record("c1", "ALC1", "D1", 5.0)}, 7);
  BOOST_TEST(to<protocol::record_ack>("e1b").size() == 1u);
  BOOST_TEST(book.charges().size() == 1u);
  BOOST_TEST(book.charges().begin()->second.kwh == 3.0);
  BOOST_TEST(to<protocol::ticket>("d1").empty());
  BOOST_TEST(events("ticket").empty());
}

BOOST_AUTO_TEST_CASE(revoking_a_cp_answers_its_pending_authorisations_no) {
  tell("d1", "driver:D1", protocol::charge_request{"D1", "ALC1", 60, "r1"}, 40);
  BOOST_TEST(to<protocol::authorize_request>("m1").size() == 1u);
  drain();
  op(operator_verb::revoke, "ALC1");
  const auto replies = to<protocol::charge_reply>("d1");
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(!replies[0].ok);
  BOOST_TEST(replies[0].reason.find("revoked") != std::string::npos);
  // MAD1 is untouched.
  BOOST_TEST((central->model().info("MAD1").state == cp_state::active));
  BOOST_TEST(book.charges().empty());
}

BOOST_AUTO_TEST_CASE(revoking_an_idle_cp_bills_nothing) {
  op(operator_verb::revoke, "MAD1");
  BOOST_TEST(book.charges().empty());
  BOOST_TEST(events("ticket").empty());
  BOOST_TEST((central->model().info("MAD1").state == cp_state::disconnected));
  BOOST_TEST((central->take_revoked() == std::vector<std::string>{"cp:MAD1"}));
}

BOOST_AUTO_TEST_CASE(revoking_a_driver_forgets_it_and_drops_its_messages) {
  op(operator_verb::revoke, "D2");
  BOOST_TEST(central->peers().driver_peer("D2") == nullptr);
  BOOST_TEST(text(events("revoked").at(0), "kind") == "driver");
  BOOST_TEST((central->take_revoked() == std::vector<std::string>{"driver:D2"}));
  drain();
  tell("d2", "driver:D2", protocol::charge_request{"D2", "MAD1", 60, "q1"}, 1);
  tell("d2b", "driver:D2", protocol::driver_hello{"D2"}, 2);
  tell("d2b", "driver:D2", protocol::snapshot_request{}, 3);
  BOOST_TEST(sent.empty());
  BOOST_TEST(to<protocol::authorize_request>("m2").empty());
  // Others carry on.
  tell("d1", "driver:D1", protocol::charge_request{"D1", "MAD1", 60, "q2"}, 4);
  BOOST_TEST(to<protocol::authorize_request>("m2").size() == 1u);
}

BOOST_AUTO_TEST_CASE(revoking_a_driver_withdraws_its_pending_requests) {
  tell("d2", "driver:D2", protocol::charge_request{"D2", "MAD1", 60, "q1"}, 1);
  drain();
  op(operator_verb::revoke, "D2");
  // The CP's late yes is cancelled: no charge for a revoked key.
  tell("m2", "cp:MAD1", protocol::authorize_reply{true, "", "k1", "MAD1", "q1"});
  const auto decisions = to<protocol::authorize_decision>("m2");
  BOOST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(!decisions[0].confirmed);
  BOOST_TEST((central->model().info("MAD1").state == cp_state::active));
}

BOOST_AUTO_TEST_CASE(revoking_an_unknown_id_changes_nothing) {
  op(operator_verb::revoke, "NOPE");
  const auto errors = events("error");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(text(errors[0], "code") == "unknown_cp");
  BOOST_TEST(central->take_revoked().empty());
  BOOST_TEST(events("revoked").empty());
  BOOST_TEST(audits("revoke").empty());
}

BOOST_AUTO_TEST_CASE(without_curve_claims_are_trusted_as_before) {
  // user id "": the simulation and --insecure.
  central->on_message("x", protocol::make("test", protocol::engine_hello{"MAD1"}, 1), now);
  collect();
  BOOST_TEST(to<protocol::ack>("x").at(0).ok);
  BOOST_TEST(events("refused").empty());
  const auto hellos = audits("hello");
  BOOST_TEST(param(hellos.back(), "identity").empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- changes made by tools while Central runs ------------------------------------------

BOOST_FIXTURE_TEST_SUITE(tools_alongside, fixture)

BOOST_AUTO_TEST_CASE(a_key_revoked_by_the_tool_is_cut_off_like_the_operators_revoke) {
  charging("c1", 2.0);
  drain();
  central->on_revoked_elsewhere("cp:ALC1", now);
  collect();
  BOOST_REQUIRE(book.charges().size() == 1u);
  BOOST_TEST((book.charges().begin()->second.reason == end_reason::revoked));
  BOOST_TEST(to<protocol::ticket>("d1").size() == 1u);
  BOOST_TEST((central->model().info("ALC1").state == cp_state::disconnected));
  BOOST_TEST(audits("revoke").empty());  // the tool wrote its own row
  BOOST_TEST((central->take_revoked() == std::vector<std::string>{"cp:ALC1"}));
  // Once is enough; identities that are not ours are ignored.
  central->on_revoked_elsewhere("cp:ALC1", now);
  central->on_revoked_elsewhere("central", now);
  central->on_revoked_elsewhere("", now);
  BOOST_TEST(central->take_revoked().empty());
  central->on_revoked_elsewhere("driver:D2", now);
  BOOST_TEST(central->peers().driver_peer("D2") == nullptr);
}

BOOST_AUTO_TEST_CASE(cps_and_drivers_registered_by_the_tool_join_the_model) {
  BOOST_REQUIRE(book.add_cp({"VLC1", "C/ Colon 2, Valencia", 0.42}).ok());
  BOOST_TEST(!central->model().knows_cp("VLC1"));
  central->reload_registry(now);
  collect();
  BOOST_TEST(central->model().knows_cp("VLC1"));
  BOOST_TEST((central->model().info("VLC1").state == cp_state::disconnected));
  BOOST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].cp.cp_id == "VLC1");
  // Nothing changed: nothing published.
  drain();
  central->reload_registry(now);
  collect();
  BOOST_TEST(updates.empty());
  tell("m3", "cp:VLC1", protocol::cp_auth{"VLC1"});
  BOOST_TEST(to<protocol::cp_auth_reply>("m3").at(0).ok);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- OCPP charge points: the Basic password the gateway passes on ------------------------

BOOST_FIXTURE_TEST_SUITE(ocpp_passwords, fixture)

BOOST_AUTO_TEST_CASE(an_ocpp_password_is_checked_and_a_wrong_one_refused_and_audited) {
  std::vector<std::pair<std::string, std::string>> asked;
  central->set_ocpp_password_check([&](const std::string& cp, const std::string& pw) {
    asked.emplace_back(cp, pw);
    return cp == "MAD1" && pw == "the-right-password";
  });
  // MAD1's gateway session (a new link, key cp:MAD1) with a wrong password.
  tell("g1", "cp:MAD1", protocol::cp_auth{"MAD1", "a-wrong-password!"}, 5);
  const auto no = to<protocol::cp_auth_reply>("g1");
  BOOST_REQUIRE(no.size() == 1u);
  BOOST_TEST(!no[0].ok);
  BOOST_TEST(no[0].reason == "OCPP credentials refused for MAD1");
  BOOST_TEST(no[0].reason.find("wrong-password") == std::string::npos);  // never echoed
  BOOST_TEST(*central->peers().monitor_of("MAD1") == "m2");             // the Monitor it had stays
  const auto hellos = audits("hello");
  BOOST_REQUIRE(!hellos.empty());
  BOOST_TEST(hellos.back().outcome == "refused: wrong OCPP password");
  BOOST_TEST(param(hellos.back(), "identity") == "cp:MAD1");
  for (const auto& e : book.audits()) {
    BOOST_TEST(evnet::json::dump(evnet::json::value(e.params)).find("a-wrong-password") == std::string::npos);
  }
  // The right one, once MAD1's Monitor link is gone: accepted, with the
  // CP's configuration.
  central->on_peer_gone("m2", now);
  drain();
  tell("g2", "cp:MAD1", protocol::cp_auth{"MAD1", "the-right-password"}, 6);
  const auto yes = to<protocol::cp_auth_reply>("g2");
  BOOST_REQUIRE(yes.size() == 1u);
  BOOST_TEST(yes[0].ok);
  BOOST_TEST(yes[0].config.cp_id == "MAD1");
  BOOST_TEST(asked.size() == 2u);
}

BOOST_AUTO_TEST_CASE(without_a_check_every_ocpp_password_is_refused_and_plain_monitors_are_not_asked) {
  tell("g1", "cp:MAD1", protocol::cp_auth{"MAD1", "any-password-at-all"}, 5);
  BOOST_REQUIRE(to<protocol::cp_auth_reply>("g1").size() == 1u);
  BOOST_TEST(!to<protocol::cp_auth_reply>("g1")[0].ok);
  bool asked = false;
  central->set_ocpp_password_check([&](const std::string&, const std::string&) { return asked = true; });
  central->on_peer_gone("m2", now);
  drain();
  tell("m9", "cp:MAD1", protocol::cp_auth{"MAD1"}, 7);  // EV_CP_M: its key is its credential
  BOOST_TEST(!asked);
  BOOST_REQUIRE(to<protocol::cp_auth_reply>("m9").size() == 1u);
  BOOST_TEST(to<protocol::cp_auth_reply>("m9")[0].ok);
}

// The gateway's Monitor (authenticated with the charge point's password)
// may ask for a charge at its own CP in the name of a registered driver:
// the idTag the charge point read. A plain Monitor may not; nor may the
// gateway's for another CP; an unregistered driver is denied.
BOOST_AUTO_TEST_CASE(an_ocpp_monitor_asks_for_a_charge_in_the_name_of_a_registered_driver) {
  central->set_ocpp_password_check([](const std::string&, const std::string& pw) { return pw == "the-right-password"; });
  central->on_peer_gone("m2", now);
  drain();
  tell("g1", "cp:MAD1", protocol::cp_auth{"MAD1", "the-right-password"}, 5);
  BOOST_REQUIRE(to<protocol::cp_auth_reply>("g1").at(0).ok);
  drain();
  tell("g1", "cp:MAD1", protocol::charge_request{"D1", "MAD1", 0, "MAD1-local-1"}, 6);
  const auto asked = to<protocol::authorize_request>("g1");
  BOOST_REQUIRE(asked.size() == 1u);
  BOOST_TEST(asked[0].driver_id == "D1");
  BOOST_TEST(to<protocol::error_reply>("g1").empty());
  drain();
  // An unregistered driver: denied by the registry, not by trust.
  tell("g1", "cp:MAD1", protocol::charge_request{"D99", "MAD1", 0, "MAD1-local-2"}, 7);
  BOOST_REQUIRE(to<protocol::charge_reply>("g1").size() == 1u);
  BOOST_TEST(!to<protocol::charge_reply>("g1")[0].ok);
  BOOST_TEST(to<protocol::charge_reply>("g1")[0].reason.find("not registered") != std::string::npos);
  drain();
  // The gateway's Monitor of MAD1 asking at ALC1: refused.
  tell("g1", "cp:MAD1", protocol::charge_request{"D1", "ALC1", 0, "MAD1-local-3"}, 8);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
  BOOST_TEST((!to<protocol::error_reply>("g1").empty() || !to<protocol::charge_reply>("g1").empty()));
  drain();
  // EV_CP_M (no OCPP password) asking in a driver's name: refused.
  tell("m1", "cp:ALC1", protocol::charge_request{"D1", "ALC1", 0, "ALC1-local-1"}, 9);
  BOOST_TEST(to<protocol::authorize_request>("m1").empty());
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE domain_ocpp_engine
#include <boost/test/unit_test.hpp>

// The Engine of one OCPP charge point on simulated time: the Monitor's
// messages and the charge point's OCPP facts in, Engine messages to Central,
// OCPP requests and answers out. Every money figure is checked exactly.

#include "evnet/domain/ocpp_engine.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace evnet;
using domain::ocpp_engine;
using domain::ocpp_status;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;
const protocol::cp_config config{"OC1", "Parking 1", 0.30};

struct rig {
  std::int64_t now = t0;
  domain::memory_ocpp_ledger ledger;
  std::unique_ptr<ocpp_engine> m;
  std::vector<domain::outgoing> sent;
  std::vector<domain::notice> notices;
  std::vector<domain::ocpp_request> requests;
  std::vector<domain::ocpp_answer> answers;
  std::uint64_t corr = 100;
  int calls = 0;

  rig() { start(); }

  void start() {
    m = std::make_unique<ocpp_engine>("OC1", ledger, now);
    drain();
  }

  void drain() {
    for (auto& s : m->out().take_sends()) {
      sent.push_back(std::move(s));
    }
    for (auto& n : m->out().take_notices()) {
      notices.push_back(std::move(n));
    }
    for (auto& r : m->take_requests()) {
      requests.push_back(std::move(r));
    }
    for (auto& a : m->take_answers()) {
      answers.push_back(std::move(a));
    }
  }
  void clear() {
    drain();
    sent.clear();
    notices.clear();
    requests.clear();
    answers.clear();
  }

  template <class T>
  void from_monitor(T body) {
    m->on_monitor(protocol::make("monitor:OC1", std::move(body), ++corr), now);
    drain();
  }
  template <class T>
  void from_central(T body) {
    m->on_central(protocol::make("central", std::move(body), 0), now);
    drain();
  }
  void advance(std::int64_t ms) {
    now += ms;
    m->on_tick(now);
    drain();
  }

  // Every message of type T sent so far, in order.
  template <class T>
  std::vector<T> sent_of(const std::string& to) const {
    std::vector<T> out;
    for (const auto& s : sent) {
      if (s.to == to) {
        if (const auto* b = std::get_if<T>(&s.body)) {
          out.push_back(*b);
        }
      }
    }
    return out;
  }
  template <class T>
  T last_to_monitor() const {
    const auto all = sent_of<T>("monitor");
    BOOST_REQUIRE(!all.empty());
    return all.back();
  }

  // Configured by its Monitor, the charge point connected and Available.
  void ready() {
    from_monitor(protocol::engine_configure{config});
    m->on_connected(now);
    m->on_status(1, ocpp_status::available, now);
    clear();
  }

  // Central's fence, as the Monitor relays it: reserve, then confirm.
  std::string authorize(const std::string& driver, std::int64_t duration_s, const std::string& request_id = "r1") {
    from_monitor(protocol::authorize_request{"OC1", driver, duration_s, request_id});
    const auto reply = last_to_monitor<protocol::authorize_reply>();
    BOOST_REQUIRE_MESSAGE(reply.ok, reply.reason);
    from_monitor(protocol::authorize_decision{"OC1", request_id, reply.charge_id, true});
    BOOST_REQUIRE(last_to_monitor<protocol::decision_ack>().ok);
    return reply.charge_id;
  }

  std::string call_id() { return "cp-call-" + std::to_string(++calls); }
  std::int64_t start_tx(const std::string& id_tag, std::int64_t meter_start_wh) {
    const auto id = call_id();
    m->on_start_transaction(id, id_tag, meter_start_wh, now, now);
    drain();
    BOOST_REQUIRE(!answers.empty());
    BOOST_REQUIRE(answers.back().call_id == id);
    return answers.back().payload.at("transactionId").get<std::int64_t>();
  }
  void stop_tx(std::int64_t tx, std::int64_t meter_stop_wh) {
    m->on_stop_transaction(call_id(), tx, meter_stop_wh, now, now);
    drain();
  }
};

std::string id_tag_status(const domain::ocpp_answer& a) {
  return a.payload.at("idTagInfo").at("status").get<std::string>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(statuses)

BOOST_AUTO_TEST_CASE(every_ocpp_status_maps_to_the_state_the_issue_names) {
  const std::vector<std::pair<std::string, cp_state>> table{
      {"Available", cp_state::active},        {"Preparing", cp_state::active},
      {"Charging", cp_state::busy},           {"SuspendedEV", cp_state::busy},
      {"SuspendedEVSE", cp_state::busy},      {"Finishing", cp_state::busy},
      {"Faulted", cp_state::broken},          {"Unavailable", cp_state::out_of_order},
      {"Reserved", cp_state::active},
  };
  for (const auto& [name, state] : table) {
    const auto s = domain::parse_ocpp_status(name);
    BOOST_REQUIRE_MESSAGE(s.has_value(), name);
    BOOST_TEST(domain::to_string(*s) == name);
    BOOST_TEST((domain::state_for(*s) == state), name);
  }
  BOOST_TEST(!domain::parse_ocpp_status("available").has_value());  // the spec's spelling only
  BOOST_TEST(!domain::parse_ocpp_status("").has_value());
}

BOOST_AUTO_TEST_CASE(a_fault_makes_the_engine_ko_and_a_recovery_clears_it) {
  rig r;
  r.ready();
  r.from_monitor(protocol::health_check{});
  BOOST_TEST(r.last_to_monitor<protocol::health_reply>().ok);
  r.m->on_status(1, ocpp_status::faulted, r.now);
  r.from_monitor(protocol::health_check{});
  const auto ko = r.last_to_monitor<protocol::health_reply>();
  BOOST_TEST(!ko.ok);
  BOOST_TEST((ko.state == cp_state::broken));
  r.m->on_status(1, ocpp_status::available, r.now);
  r.from_monitor(protocol::health_check{});
  BOOST_TEST(r.last_to_monitor<protocol::health_reply>().ok);
  // Connector 2 is not evnet's: ignored.
  r.m->on_status(2, ocpp_status::faulted, r.now);
  r.from_monitor(protocol::health_check{});
  BOOST_TEST(r.last_to_monitor<protocol::health_reply>().ok);
}

// Unavailable is the charge point's own word: the Monitor passes it to
// Central (cp_status.out_of_service), which shows OUT_OF_ORDER.
BOOST_AUTO_TEST_CASE(unavailable_is_reported_as_out_of_service_until_available) {
  rig r;
  r.ready();
  r.from_monitor(protocol::health_check{});
  BOOST_TEST(!r.last_to_monitor<protocol::health_reply>().out_of_service);
  r.m->on_status(0, ocpp_status::unavailable, r.now);  // connector 0: the whole charge point
  r.from_monitor(protocol::health_check{});
  auto h = r.last_to_monitor<protocol::health_reply>();
  BOOST_TEST(h.ok);
  BOOST_TEST(h.out_of_service);
  BOOST_TEST((h.state == cp_state::out_of_order));
  r.m->on_status(1, ocpp_status::available, r.now);
  r.from_monitor(protocol::health_check{});
  h = r.last_to_monitor<protocol::health_reply>();
  BOOST_TEST(!h.out_of_service);
  BOOST_TEST((h.state == cp_state::active));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(charges)

// A driver's request in evnet becomes RemoteStartTransaction; the charge
// point's StartTransaction gets a transactionId; meter values are kWh since
// meterStart at the CP's price; StopTransaction is the record.
BOOST_AUTO_TEST_CASE(a_remote_started_charge_ends_in_one_exact_record) {
  rig r;
  r.ready();
  const auto charge_id = r.authorize("D1", 0);
  BOOST_REQUIRE(r.requests.size() == 1u);
  BOOST_TEST(r.requests[0].action == "RemoteStartTransaction");
  BOOST_TEST(r.requests[0].payload.at("idTag").get<std::string>() == "D1");
  BOOST_TEST(r.requests[0].payload.at("connectorId").get<int>() == 1);
  BOOST_TEST((r.m->state() == cp_state::busy));
  r.m->on_request_answered("RemoteStartTransaction", true, r.now);

  const auto tx = r.start_tx("D1", 12'345'000);  // the meter reads 12,345 kWh
  BOOST_TEST(id_tag_status(r.answers.back()) == "Accepted");
  BOOST_TEST(tx > 0);
  BOOST_REQUIRE(r.ledger.transactions().count(tx) == 1u);
  BOOST_TEST(r.ledger.transactions().at(tx).charge_id == charge_id);

  r.now += 1000;
  r.m->on_meter(tx, 12'345.0 + 1.5, r.now);  // 1.5 kWh so far
  r.drain();
  auto telemetry = r.sent_of<protocol::telemetry>("central");
  BOOST_REQUIRE(telemetry.size() == 1u);
  BOOST_TEST(telemetry[0].charge_id == charge_id);
  BOOST_TEST(telemetry[0].driver_id == "D1");
  BOOST_TEST(telemetry[0].kwh == 1.5);
  BOOST_TEST(telemetry[0].amount == 0.45);
  r.m->on_meter(tx, 12'345.0 + 1.5, r.now);  // unchanged: nothing new to say
  r.drain();
  BOOST_TEST(r.sent_of<protocol::telemetry>("central").size() == 1u);

  r.now += 5000;
  r.stop_tx(tx, 12'345'000 + 4'200);  // 4.2 kWh in all
  BOOST_TEST(id_tag_status(r.answers.back()) == "Accepted");
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  const auto& rec = finished[0].record;
  BOOST_TEST(rec.cp_id == "OC1");
  BOOST_TEST(rec.charge_id == charge_id);
  BOOST_TEST(rec.driver_id == "D1");
  BOOST_TEST(rec.kwh == 4.2);
  BOOST_TEST(rec.price == 0.30);
  BOOST_TEST(rec.amount == 1.26);
  BOOST_TEST((rec.reason == end_reason::unplugged));
  BOOST_TEST((r.m->state() == cp_state::active));
  BOOST_TEST(r.m->unacknowledged() == 1u);
  r.from_central(protocol::record_ack{"OC1", charge_id});
  BOOST_TEST(r.m->unacknowledged() == 0u);
  BOOST_TEST(r.ledger.engine().unacknowledged().empty());
}

// OCPP's offline queue: the charge point lost its connection mid-charge,
// charged on, and sends its queued MeterValues and StopTransaction when it
// is back, then the StopTransaction again because our answer was lost.
BOOST_AUTO_TEST_CASE(a_charge_across_a_lost_connection_is_billed_once) {
  rig r;
  r.ready();
  const auto charge_id = r.authorize("D2", 0);
  const auto tx = r.start_tx("D2", 1000);
  r.m->on_disconnected(r.now);
  r.drain();
  r.from_monitor(protocol::health_check{});
  BOOST_TEST(r.last_to_monitor<protocol::health_reply>().charging);  // the charge goes on
  r.now += 60'000;
  r.m->on_connected(r.now);
  r.m->on_meter(tx, 3.0, r.now);  // queued: 2 kWh since meterStart (1 kWh)
  r.stop_tx(tx, 4000);
  r.stop_tx(tx, 4000);  // replayed
  BOOST_REQUIRE(r.answers.size() == 3u);  // Start, Stop, Stop again: each answered
  BOOST_TEST(id_tag_status(r.answers[2]) == "Accepted");
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(finished[0].record.charge_id == charge_id);
  BOOST_TEST(finished[0].record.kwh == 3.0);
  BOOST_TEST(finished[0].record.amount == 0.9);
  // And after a restart of the gateway on the same ledger, once more.
  r.start();
  r.clear();
  r.stop_tx(tx, 4000);
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").empty());
  BOOST_TEST(id_tag_status(r.answers.back()) == "Accepted");
}

BOOST_AUTO_TEST_CASE(a_restarted_gateway_keeps_the_open_transaction_and_resends_records) {
  rig r;
  r.ready();
  const auto first = r.authorize("D1", 0, "r1");
  const auto tx1 = r.start_tx("D1", 0);
  r.stop_tx(tx1, 2000);  // finished, never acknowledged
  const auto second = r.authorize("D3", 0, "r2");
  const auto tx2 = r.start_tx("D3", 2000);
  r.start();  // the gateway restarts
  r.clear();
  r.m->on_central_connected(r.now);
  r.drain();
  const auto resent = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(resent.size() == 1u);
  BOOST_TEST(resent[0].record.charge_id == first);
  BOOST_TEST(r.m->charging());
  BOOST_TEST((r.m->state() == cp_state::busy));
  r.stop_tx(tx2, 2500);
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 2u);
  BOOST_TEST(finished[1].record.charge_id == second);
  BOOST_TEST(finished[1].record.kwh == 0.5);
  BOOST_TEST(finished[1].record.price == 0.30);  // the price it started at, from the ledger
}

BOOST_AUTO_TEST_CASE(a_duration_ends_with_remote_stop) {
  rig r;
  r.ready();
  r.authorize("D1", 10);
  const auto tx = r.start_tx("D1", 0);
  r.clear();
  r.advance(9'000);
  BOOST_TEST(r.requests.empty());
  r.advance(1'000);
  BOOST_REQUIRE(r.requests.size() == 1u);
  BOOST_TEST(r.requests[0].action == "RemoteStopTransaction");
  BOOST_TEST(r.requests[0].payload.at("transactionId").get<std::int64_t>() == tx);
  r.advance(1'000);
  BOOST_TEST(r.requests.size() == 1u);  // once
  r.stop_tx(tx, 10'000);
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST((finished[0].record.reason == end_reason::completed));
  BOOST_TEST(finished[0].record.kwh == 10.0);
}

BOOST_AUTO_TEST_CASE(a_refused_remote_start_ends_the_announced_charge_with_nothing) {
  rig r;
  r.ready();
  const auto charge_id = r.authorize("D1", 0);
  r.m->on_request_answered("RemoteStartTransaction", false, r.now);
  r.drain();
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(finished[0].record.charge_id == charge_id);
  BOOST_TEST(finished[0].record.kwh == 0.0);
  BOOST_TEST((finished[0].record.reason == end_reason::never_plugged));
  BOOST_TEST((r.m->state() == cp_state::active));
}

BOOST_AUTO_TEST_CASE(no_start_transaction_in_time_ends_the_charge_with_nothing) {
  rig r;
  r.ready();
  r.authorize("D1", 0);
  r.advance(ocpp_engine::plug_timeout_ms - 1);
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").empty());
  r.advance(1);
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").size() == 1u);
}

// A charge point that starts a charge on its own (an idTag read at the
// plug) has Central asked for it; a refusal (an unregistered driver) is
// answered Invalid, with a real transactionId whose StopTransaction bills
// nothing.
BOOST_AUTO_TEST_CASE(a_start_central_refuses_is_invalid_and_its_stop_bills_nothing) {
  rig r;
  r.ready();
  r.m->on_start_transaction("s1", "D9", 500, r.now, r.now);
  r.drain();
  BOOST_TEST(r.answers.empty());  // held while Central is asked
  BOOST_TEST(r.m->take_charge_wanted().value() == "D9");
  BOOST_TEST(!r.m->take_charge_wanted().has_value());  // once
  r.m->on_charge_refused("driver D9 is not registered", r.now);
  r.drain();
  BOOST_REQUIRE(r.answers.size() == 1u);
  BOOST_TEST(r.answers[0].call_id == "s1");
  BOOST_TEST(id_tag_status(r.answers[0]) == "Invalid");
  const auto tx = r.answers[0].payload.at("transactionId").get<std::int64_t>();
  BOOST_TEST(tx > 0);
  BOOST_TEST(!r.m->charging());
  r.stop_tx(tx, 900);
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").empty());
  r.stop_tx(424242, 900);  // never given
  BOOST_TEST(id_tag_status(r.answers.back()) == "Invalid");
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").empty());
}

// Authorize first (the usual order at a real charge point): held until
// Central's fence confirms a charge for that driver, then Accepted; the
// StartTransaction that follows starts it. No RemoteStartTransaction.
BOOST_AUTO_TEST_CASE(a_charge_started_at_the_charge_point_with_an_idtag) {
  rig r;
  r.ready();
  r.m->on_authorize_call("a1", "D1", r.now);
  r.drain();
  BOOST_TEST(r.answers.empty());
  BOOST_TEST(r.m->take_charge_wanted().value() == "D1");
  // Central, through the Monitor: the fence for D1's charge.
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "OC1-local-1"});
  const auto reply = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_REQUIRE(reply.ok);
  BOOST_TEST(r.answers.empty());  // not before the decision
  r.from_monitor(protocol::authorize_decision{"OC1", "OC1-local-1", reply.charge_id, true});
  BOOST_REQUIRE(r.answers.size() == 1u);
  BOOST_TEST(r.answers[0].call_id == "a1");
  BOOST_TEST(id_tag_status(r.answers[0]) == "Accepted");
  BOOST_TEST(r.requests.empty());  // it started the charge itself
  const auto tx = r.start_tx("D1", 100);
  BOOST_TEST(id_tag_status(r.answers.back()) == "Accepted");
  r.stop_tx(tx, 2100);
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(finished[0].record.charge_id == reply.charge_id);
  BOOST_TEST(finished[0].record.driver_id == "D1");
  BOOST_TEST(finished[0].record.kwh == 2.0);
  BOOST_TEST(finished[0].record.amount == 0.6);
}

// A StartTransaction without Authorize (a charge point with a local list):
// held, and answered with its transactionId once Central confirmed.
BOOST_AUTO_TEST_CASE(a_start_without_authorize_waits_for_central) {
  rig r;
  r.ready();
  r.m->on_start_transaction("s1", "D2", 7000, r.now, r.now);
  r.drain();
  BOOST_TEST(r.answers.empty());
  BOOST_TEST(r.m->take_charge_wanted().value() == "D2");
  r.from_monitor(protocol::authorize_request{"OC1", "D2", 0, "OC1-local-2"});
  const auto reply = r.last_to_monitor<protocol::authorize_reply>();
  r.from_monitor(protocol::authorize_decision{"OC1", "OC1-local-2", reply.charge_id, true});
  BOOST_REQUIRE(r.answers.size() == 1u);
  BOOST_TEST(r.answers[0].call_id == "s1");
  BOOST_TEST(id_tag_status(r.answers[0]) == "Accepted");
  BOOST_TEST(r.m->charging());
  BOOST_TEST(r.requests.empty());
}

BOOST_AUTO_TEST_CASE(a_held_call_central_never_decides_on_is_invalid_in_time) {
  rig r;
  r.ready();
  r.m->on_authorize_call("a1", "D1", r.now);
  r.advance(ocpp_engine::held_timeout_ms - 1);
  BOOST_TEST(r.answers.empty());
  r.advance(1);
  BOOST_REQUIRE(r.answers.size() == 1u);
  BOOST_TEST(id_tag_status(r.answers[0]) == "Invalid");
  // While a charge runs, another idTag is not even asked for.
  r.authorize("D1", 0);
  r.start_tx("D1", 0);
  r.m->on_authorize_call("a2", "D2", r.now);
  r.drain();
  BOOST_TEST(id_tag_status(r.answers.back()) == "ConcurrentTx");
  BOOST_TEST(!r.m->take_charge_wanted().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fence)

BOOST_AUTO_TEST_CASE(authorisation_is_refused_for_the_charge_points_real_state) {
  rig r;
  r.from_monitor(protocol::engine_configure{config});
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r0"});
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>().reason.find("not connected") != std::string::npos);
  r.m->on_connected(r.now);
  r.m->on_status(1, ocpp_status::faulted, r.now);
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r1"});
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>().reason.find("fault") != std::string::npos);
  r.m->on_status(1, ocpp_status::unavailable, r.now);
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r2"});
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>().reason.find("out of order") != std::string::npos);
  r.m->on_status(1, ocpp_status::available, r.now);
  r.from_monitor(protocol::authorize_request{"OC2", "D1", 0, "r3"});
  BOOST_TEST(!r.last_to_monitor<protocol::authorize_reply>().ok);
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r4"});
  const auto yes = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_TEST(yes.ok);
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r4"});  // a retry: the same charge
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>().charge_id == yes.charge_id);
  r.from_monitor(protocol::authorize_request{"OC1", "D2", 0, "r5"});
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>().reason == "busy");
  BOOST_TEST(r.requests.empty());  // nothing asked of the charge point before a yes
}

BOOST_AUTO_TEST_CASE(a_reservation_without_decision_expires_and_a_late_yes_is_refused) {
  rig r;
  r.ready();
  r.from_monitor(protocol::authorize_request{"OC1", "D1", 0, "r1"});
  const auto reply = r.last_to_monitor<protocol::authorize_reply>();
  r.advance(ocpp_engine::reservation_timeout_ms);
  r.from_monitor(protocol::authorize_decision{"OC1", "r1", reply.charge_id, true});
  const auto ack = r.last_to_monitor<protocol::decision_ack>();
  BOOST_TEST(!ack.ok);
  BOOST_TEST(ack.reason == "reservation_expired");
  BOOST_TEST(r.requests.empty());
}

BOOST_AUTO_TEST_CASE(a_repeated_yes_starts_once_and_a_confirmed_charge_is_never_cancelled) {
  rig r;
  r.ready();
  const auto charge_id = r.authorize("D1", 0);
  r.from_monitor(protocol::authorize_decision{"OC1", "r1", charge_id, true});
  BOOST_TEST(r.last_to_monitor<protocol::decision_ack>().ok);
  BOOST_TEST(r.requests.size() == 1u);
  r.from_monitor(protocol::authorize_decision{"OC1", "r1", charge_id, false});
  BOOST_TEST(!r.last_to_monitor<protocol::decision_ack>().ok);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(operator_orders)

BOOST_AUTO_TEST_CASE(stop_while_charging_stops_the_transaction_then_the_charge_point) {
  rig r;
  r.ready();
  r.authorize("D1", 0);
  const auto tx = r.start_tx("D1", 0);
  r.clear();
  r.from_monitor(protocol::cp_command{"OC1", cp_order::stop, "operator"});
  BOOST_TEST(r.last_to_monitor<protocol::ack>().ok);
  BOOST_REQUIRE(r.requests.size() == 2u);
  BOOST_TEST(r.requests[0].action == "RemoteStopTransaction");
  BOOST_TEST(r.requests[0].payload.at("transactionId").get<std::int64_t>() == tx);
  BOOST_TEST(r.requests[1].action == "ChangeAvailability");
  BOOST_TEST(r.requests[1].payload.at("type").get<std::string>() == "Inoperative");
  BOOST_TEST((r.m->state() == cp_state::out_of_order));
  r.stop_tx(tx, 1500);
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST((finished[0].record.reason == end_reason::stopped));
  BOOST_TEST(finished[0].record.kwh == 1.5);
  r.from_monitor(protocol::authorize_request{"OC1", "D2", 0, "r9"});
  BOOST_TEST(!r.last_to_monitor<protocol::authorize_reply>().ok);
  r.clear();
  r.from_monitor(protocol::cp_command{"OC1", cp_order::resume, "operator"});
  BOOST_REQUIRE(r.requests.size() == 1u);
  BOOST_TEST(r.requests[0].action == "ChangeAvailability");
  BOOST_TEST(r.requests[0].payload.at("type").get<std::string>() == "Operative");
  BOOST_TEST((r.m->state() == cp_state::active));
}

BOOST_AUTO_TEST_CASE(stop_while_idle_only_changes_availability) {
  rig r;
  r.ready();
  r.from_monitor(protocol::cp_command{"OC1", cp_order::stop, "operator"});
  BOOST_REQUIRE(r.requests.size() == 1u);
  BOOST_TEST(r.requests[0].action == "ChangeAvailability");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(central_link)

BOOST_AUTO_TEST_CASE(hello_on_configure_on_connect_and_when_central_forgot_us) {
  rig r;
  r.from_monitor(protocol::engine_configure{config});
  BOOST_TEST(r.sent_of<protocol::engine_hello>("central").size() == 1u);
  r.m->on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.sent_of<protocol::engine_hello>("central").size() == 2u);
  r.from_central(protocol::error_reply{errc::unauthenticated, "who are you"});
  BOOST_TEST(r.sent_of<protocol::engine_hello>("central").size() == 3u);
  r.from_monitor(protocol::engine_configure{protocol::cp_config{"OC2", "x", 0.3}});
  BOOST_TEST(!r.last_to_monitor<protocol::ack>().ok);  // this session is OC1's
}

BOOST_AUTO_TEST_CASE(a_failing_store_refuses_to_supply_unrecorded) {
  rig r;
  r.ready();
  r.authorize("D1", 0);
  r.ledger.failing = true;
  r.start_tx("D1", 0);
  BOOST_TEST(id_tag_status(r.answers.back()) == "Invalid");
  BOOST_TEST(!r.m->charging());
}

// A StopTransaction the store cannot check is answered InternalError (the
// charge point sends it again, OCPP 1.6 4.10); the retry bills it once.
BOOST_AUTO_TEST_CASE(a_stop_the_store_cannot_check_is_an_internal_error_and_its_retry_bills_once) {
  rig r;
  r.ready();
  r.authorize("D1", 0);
  const auto tx = r.start_tx("D1", 1000);
  r.ledger.failing = true;
  r.m->on_stop_transaction("stop-1", tx, 4000, r.now, r.now);
  r.drain();
  BOOST_TEST_REQUIRE(!r.answers.empty());
  BOOST_TEST(r.answers.back().call_id == "stop-1");
  BOOST_TEST(r.answers.back().internal_error.has_value());
  BOOST_TEST(r.sent_of<protocol::charge_finished>("central").empty());
  r.ledger.failing = false;
  r.m->on_stop_transaction("stop-2", tx, 4000, r.now, r.now);
  r.drain();
  BOOST_TEST(!r.answers.back().internal_error.has_value());
  BOOST_TEST(id_tag_status(r.answers.back()) == "Accepted");
  const auto finished = r.sent_of<protocol::charge_finished>("central");
  BOOST_TEST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(finished[0].record.kwh == 3.0);
  BOOST_TEST(finished[0].record.amount == 0.9);
}

BOOST_AUTO_TEST_SUITE_END()

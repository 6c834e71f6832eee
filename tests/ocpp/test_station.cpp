#define BOOST_TEST_MODULE ocpp_station
#include <boost/test/unit_test.hpp>

// One charge point's OCPP-J conversation over a real ocpp_engine, with the
// texts a charge point would send and the ones it would get back.

#include "evnet/ocpp/admission.hpp"
#include "evnet/ocpp/station.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace evnet;
namespace oc = evnet::ocpp;
using evnet::json::value;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

struct rig {
  std::int64_t now = t0;
  domain::memory_ocpp_ledger ledger;
  domain::ocpp_engine engine{"OC1", ledger, t0};
  oc::station st{engine, 30};
  std::vector<value> out;  // frames sent to the charge point, parsed
  std::vector<domain::outgoing> to_monitor;

  rig() {
    engine.on_monitor(protocol::make("monitor:OC1", protocol::engine_configure{{"OC1", "Parking 1", 0.30}}, 1), now);
    engine.on_connected(now);
    st.on_connected(now);
    drain();
  }

  void drain() {
    for (auto& t : st.take_texts()) {
      out.push_back(json::parse(t).value());
    }
    for (auto& s : engine.out().take_sends()) {
      if (s.to == "monitor") {
        to_monitor.push_back(std::move(s));
      }
    }
    (void)engine.out().take_notices();
    (void)st.take_log();
  }
  value send(const std::string& text) {
    out.clear();
    st.on_text(text, now);
    drain();
    BOOST_REQUIRE(!out.empty());
    return out.back();
  }
  void send_silent(const std::string& text) {
    out.clear();
    st.on_text(text, now);
    drain();
  }
  template <class T>
  void from_monitor(T body) {
    engine.on_monitor(protocol::make("monitor:OC1", std::move(body), 7), now);
    out.clear();
    st.pump(now);
    drain();
  }
  // Central's yes for D1, as the Monitor relays it.
  void confirm(const std::string& driver) {
    from_monitor(protocol::authorize_request{"OC1", driver, 0, "r1"});
    const auto& reply = std::get<protocol::authorize_reply>(to_monitor.back().body);
    BOOST_REQUIRE(reply.ok);
    from_monitor(protocol::authorize_decision{"OC1", "r1", reply.charge_id, true});
  }
};

std::string error_code(const value& frame) {
  BOOST_REQUIRE(frame.is_array());
  BOOST_REQUIRE(frame[0].get<int>() == 4);
  return frame[2].get<std::string>();
}

} // namespace

BOOST_AUTO_TEST_CASE(boot_heartbeat_and_status_are_answered) {
  rig r;
  const auto boot = r.send(R"([2,"b1","BootNotification",{"chargePointVendor":"evnet","chargePointModel":"sim"}])");
  BOOST_TEST(boot[0].get<int>() == 3);
  BOOST_TEST(boot[1].get<std::string>() == "b1");
  BOOST_TEST(boot[2]["status"].get<std::string>() == "Accepted");
  BOOST_TEST(boot[2]["interval"].get<int>() == 30);
  BOOST_TEST(boot[2]["currentTime"].get<std::string>() == "2023-11-14T22:13:20.000Z");
  const auto hb = r.send(R"([2,"h1","Heartbeat",{}])");
  BOOST_TEST(hb[2]["currentTime"].is_string());
  const auto st = r.send(R"([2,"s1","StatusNotification",{"connectorId":1,"errorCode":"GroundFailure","status":"Faulted"}])");
  BOOST_TEST(st[0].get<int>() == 3);
  BOOST_TEST((r.engine.state() == cp_state::broken));
}

BOOST_AUTO_TEST_CASE(malformed_frames_get_the_callerror_the_spec_names_and_nothing_breaks) {
  rig r;
  BOOST_TEST(error_code(r.send("not json")) == "FormationViolation");
  BOOST_TEST(error_code(r.send(R"([2,"x"])")) == "ProtocolError");
  BOOST_TEST(error_code(r.send(R"([2,"u1","FlyToTheMoon",{}])")) == "NotImplemented");
  BOOST_TEST(error_code(r.send(R"([2,"d1","DataTransfer",{"vendorId":"x"}])")) == "NotSupported");
  BOOST_TEST(error_code(r.send(R"([2,"v1","BootNotification",{"chargePointVendor":"evnet"}])")) ==
             "OccurenceConstraintViolation");
  BOOST_TEST(error_code(r.send(R"([2,"v2","StatusNotification",{"connectorId":"one","errorCode":"NoError","status":"Available"}])")) ==
             "TypeConstraintViolation");
  // A CALLRESULT nobody asked for: not answered.
  r.send_silent(R"([3,"nobody-asked",{"status":"Accepted"}])");
  BOOST_TEST(r.out.empty());
  // And the conversation goes on.
  BOOST_TEST(r.send(R"([2,"h2","Heartbeat",{}])")[0].get<int>() == 3);
}

BOOST_AUTO_TEST_CASE(a_remote_started_charge_over_ocpp_j) {
  rig r;
  r.confirm("D1");
  BOOST_REQUIRE(r.out.size() == 1u);
  const auto remote = r.out[0];
  BOOST_TEST(remote[0].get<int>() == 2);
  BOOST_TEST(remote[2].get<std::string>() == "RemoteStartTransaction");
  BOOST_TEST(remote[3]["idTag"].get<std::string>() == "D1");
  const auto auth = r.send(R"([2,"a1","Authorize",{"idTag":"D1"}])");
  BOOST_TEST(auth[2]["idTagInfo"]["status"].get<std::string>() == "Accepted");
  BOOST_TEST(r.send(R"([2,"a2","Authorize",{"idTag":"D2"}])")[2]["idTagInfo"]["status"].get<std::string>() ==
             "Invalid");
  r.send_silent(R"([3,")" + remote[1].get<std::string>() + R"(",{"status":"Accepted"}])");
  const auto start = r.send(
      R"([2,"st1","StartTransaction",{"connectorId":1,"idTag":"D1","meterStart":1000,"timestamp":"2023-11-14T22:13:20Z"}])");
  BOOST_TEST(start[0].get<int>() == 3);
  BOOST_TEST(start[1].get<std::string>() == "st1");
  BOOST_TEST(start[2]["idTagInfo"]["status"].get<std::string>() == "Accepted");
  const auto tx = start[2]["transactionId"].get<std::int64_t>();
  BOOST_TEST(r.send(R"([2,"m1","MeterValues",{"connectorId":1,"transactionId":)" + std::to_string(tx) +
                    R"(,"meterValue":[{"timestamp":"2023-11-14T22:13:25Z","sampledValue":[{"value":"2.5","unit":"kWh","measurand":"Energy.Active.Import.Register"}]}]}])")[0]
                 .get<int>() == 3);
  const auto telemetry = r.engine.out().take_sends();
  (void)telemetry;
  const auto stop = r.send(R"([2,"sp1","StopTransaction",{"transactionId":)" + std::to_string(tx) +
                           R"(,"meterStop":4500,"timestamp":"2023-11-14T22:14:20Z"}])");
  BOOST_TEST(stop[1].get<std::string>() == "sp1");
  BOOST_TEST(stop[2]["idTagInfo"]["status"].get<std::string>() == "Accepted");
  BOOST_REQUIRE(r.ledger.engine().records().size() == 1u);
  BOOST_TEST(r.ledger.engine().records()[0].first.kwh == 3.5);
  BOOST_TEST(r.ledger.engine().records()[0].first.amount == 1.05);
}

// Operator STOP while charging asks two things of the charge point; the
// second waits for the answer to the first (one CALL in flight at a time).
BOOST_AUTO_TEST_CASE(our_calls_go_one_at_a_time_and_time_out) {
  rig r;
  r.confirm("D1");
  const auto remote_id = r.out[0][1].get<std::string>();
  r.send_silent(R"([3,")" + remote_id + R"(",{"status":"Accepted"}])");
  r.send(R"([2,"st1","StartTransaction",{"connectorId":1,"idTag":"D1","meterStart":0,"timestamp":"2023-11-14T22:13:20Z"}])");
  r.from_monitor(protocol::cp_command{"OC1", cp_order::stop, "operator"});
  BOOST_REQUIRE(r.out.size() == 1u);
  BOOST_TEST(r.out[0][2].get<std::string>() == "RemoteStopTransaction");
  BOOST_TEST(r.st.queued_requests() == 2u);
  const auto first = r.out[0][1].get<std::string>();
  r.send_silent(R"([3,")" + first + R"(",{"status":"Accepted"}])");
  BOOST_REQUIRE(r.out.size() == 1u);
  BOOST_TEST(r.out[0][2].get<std::string>() == "ChangeAvailability");
  BOOST_TEST(r.out[0][3]["type"].get<std::string>() == "Inoperative");
  // No answer: after the timeout it counts as refused and the queue moves on.
  r.out.clear();
  r.now += oc::station::call_timeout_ms;
  r.st.on_tick(r.now);
  r.drain();
  BOOST_TEST(r.st.queued_requests() == 0u);
  // A late answer is ignored.
  r.send_silent(R"([3,")" + first + R"(",{"status":"Accepted"}])");
  BOOST_TEST(r.out.empty());
}

// Central's answer to the gateway's cp_auth decides the waiting upgrade.
BOOST_AUTO_TEST_CASE(central_s_answer_admits_refuses_or_waits) {
  using oc::admission;
  BOOST_TEST((oc::admission_for({{"ok", true}, {"reason", ""}}).what == admission::admit));
  const auto wrong = oc::admission_for({{"ok", false}, {"reason", "OCPP credentials refused for OC1"}, {"code", "forbidden"}});
  BOOST_TEST((wrong.what == admission::refuse));
  BOOST_TEST(wrong.reason == "OCPP credentials refused for OC1");
  const auto held = oc::admission_for(
      {{"ok", false}, {"reason", "CP OC1 already has a connected monitor"}, {"code", "already_connected"}});
  BOOST_TEST((held.what == admission::wait));
  // Prose alone decides nothing: without the code it is a refusal.
  BOOST_TEST((oc::admission_for({{"ok", false}, {"reason", "CP OC1 already has a connected monitor"}}).what ==
              admission::refuse));
  BOOST_TEST(oc::admission_for({{"ok", "yes"}}).reason == "refused by CENTRAL");
}


// One outstanding CALL per direction: while the charge point's Authorize
// waits for Central, another CALL is refused and the same one again is not
// answered twice.
BOOST_AUTO_TEST_CASE(a_second_call_while_one_waits_for_central_is_refused) {
  rig r;
  r.send_silent(R"([2,"a1","Authorize",{"idTag":"D7"}])");
  BOOST_TEST(r.out.empty());  // held: the gateway asks Central first
  BOOST_REQUIRE(r.engine.take_charge_wanted() == std::optional<std::string>("D7"));
  const auto second = r.send(R"([2,"h1","Heartbeat",{}])");
  BOOST_TEST(error_code(second) == "GenericError");
  BOOST_TEST(second[1].get<std::string>() == "h1");
  r.send_silent(R"([2,"a1","Authorize",{"idTag":"D7"}])");  // the same CALL again
  BOOST_TEST(r.out.empty());
  // Central refuses: the held Authorize is answered, and CALLs flow again.
  r.out.clear();
  r.engine.on_charge_refused("driver D7 is not registered", r.now);
  r.st.pump(r.now);
  r.drain();
  BOOST_REQUIRE(r.out.size() == 1u);
  BOOST_TEST(r.out[0][1].get<std::string>() == "a1");
  BOOST_TEST(r.out[0][2]["idTagInfo"]["status"].get<std::string>() == "Invalid");
  BOOST_TEST(r.send(R"([2,"h2","Heartbeat",{}])")[0].get<int>() == 3);
}

// A CALL of the charge point that nothing answers (a store that fails under
// a StopTransaction, say) does not block it for ever: after call_timeout_ms
// it counts as given up, as the charge point's own timeout says.
BOOST_AUTO_TEST_CASE(an_unanswered_call_of_the_charge_point_is_given_up_after_the_call_timeout) {
  rig r;
  r.send_silent(R"([2,"a1","Authorize",{"idTag":"D7"}])");
  BOOST_REQUIRE(r.out.empty());
  r.now += oc::station::call_timeout_ms - 1;
  r.st.on_tick(r.now);
  r.drain();
  BOOST_TEST(error_code(r.send(R"([2,"h1","Heartbeat",{}])")) == "GenericError");
  r.now += 1;
  r.st.on_tick(r.now);
  r.drain();
  BOOST_TEST(r.send(R"([2,"h2","Heartbeat",{}])")[0].get<int>() == 3);
}

// BootNotification says what the gateway knows of Central's decision.
BOOST_AUTO_TEST_CASE(boot_is_pending_without_central_and_rejected_once_central_refused) {
  rig r;
  const std::string boot = R"([2,"b1","BootNotification",{"chargePointVendor":"evnet","chargePointModel":"sim"}])";
  r.st.set_registration(oc::registration_status::pending);
  auto b = r.send(boot);
  BOOST_TEST(b[2]["status"].get<std::string>() == "Pending");
  BOOST_TEST(b[2]["interval"].get<int>() == oc::station::retry_interval_s);
  // Pending keeps the charge point's messages: they are still answered.
  BOOST_TEST(r.send(R"([2,"h1","Heartbeat",{}])")[0].get<int>() == 3);
  r.st.set_registration(oc::registration_status::rejected);
  b = r.send(boot);
  BOOST_TEST(b[2]["status"].get<std::string>() == "Rejected");
  BOOST_TEST(b[2]["interval"].get<int>() == oc::station::retry_interval_s);
  // Rejected: nothing but BootNotification is answered.
  BOOST_TEST(error_code(r.send(R"([2,"h2","Heartbeat",{}])")) == "SecurityError");
  BOOST_TEST(error_code(r.send(R"([2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}])")) ==
             "SecurityError");
  r.st.set_registration(oc::registration_status::accepted);
  b = r.send(boot);
  BOOST_TEST(b[2]["status"].get<std::string>() == "Accepted");
  BOOST_TEST(b[2]["interval"].get<int>() == 30);
}

// A StopTransaction the gateway could not record: InternalError, so that the
// charge point sends it again; the retry is answered and billed once.
BOOST_AUTO_TEST_CASE(a_stop_the_gateway_could_not_record_is_an_internal_error) {
  rig r;
  r.confirm("D1");
  const auto remote_id = r.out[0][1].get<std::string>();
  r.send_silent(R"([3,")" + remote_id + R"(",{"status":"Accepted"}])");
  const auto start =
      r.send(R"([2,"st1","StartTransaction",{"connectorId":1,"idTag":"D1","meterStart":0,"timestamp":"2023-11-14T22:13:20Z"}])");
  const auto tx = std::to_string(start[2]["transactionId"].get<std::int64_t>());
  r.ledger.failing = true;
  const auto failed =
      r.send(R"([2,"sp1","StopTransaction",{"transactionId":)" + tx + R"(,"meterStop":2000,"timestamp":"2023-11-14T22:20:00Z"}])");
  BOOST_TEST(error_code(failed) == "InternalError");
  BOOST_TEST(failed[1].get<std::string>() == "sp1");
  r.ledger.failing = false;
  const auto again =
      r.send(R"([2,"sp2","StopTransaction",{"transactionId":)" + tx + R"(,"meterStop":2000,"timestamp":"2023-11-14T22:20:00Z"}])");
  BOOST_TEST(again[0].get<int>() == 3);
  BOOST_TEST(again[2]["idTagInfo"]["status"].get<std::string>() == "Accepted");
}

// What the gateway does with its Monitor's notices and its console lines is
// decided here, not in the actor.
BOOST_AUTO_TEST_CASE(monitor_notices_and_console_lines_mean_what_they_say) {
  using kind = oc::monitor_notice_meaning::kind;
  const auto auth = oc::meaning_of(domain::notice{"auth", {{"ok", true}, {"reason", ""}}});
  BOOST_TEST((auth.what == kind::central_answered));
  BOOST_TEST((auth.admission.what == oc::admission::admit));
  const auto refused = oc::meaning_of(
      domain::notice{"local_charge", {{"ok", false}, {"reason", "driver D7 is not registered"}}});
  BOOST_TEST((refused.what == kind::charge_refused));
  BOOST_TEST(refused.reason == "driver D7 is not registered");
  BOOST_TEST(oc::meaning_of(domain::notice{"local_charge", {{"ok", false}}}).reason == "refused by CENTRAL");
  BOOST_TEST((oc::meaning_of(domain::notice{"local_charge", {{"ok", true}}}).what == kind::shown_only));
  BOOST_TEST((oc::meaning_of(domain::notice{"local_charge", {{"ok", "no"}}}).what == kind::shown_only));
  BOOST_TEST((oc::meaning_of(domain::notice{"engine", {{"ok", false}}}).what == kind::shown_only));

  BOOST_TEST((oc::parse_gateway_command("list") == oc::gateway_command::list));
  BOOST_TEST((oc::parse_gateway_command("quit") == oc::gateway_command::quit));
  BOOST_TEST((oc::parse_gateway_command("") == oc::gateway_command::none));
  BOOST_TEST((oc::parse_gateway_command("lis") == oc::gateway_command::unknown));
  BOOST_TEST((oc::parse_gateway_command("quit now") == oc::gateway_command::unknown));
}

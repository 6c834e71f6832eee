// Issue #3: operator commands under faults, and the state table.
// STOP ends a charge at once with a ticket saying why and leaves the CP
// OUT_OF_ORDER; RESUME returns it to ACTIVE; both for one CP or all; a STOP
// given while a CP is disconnected is applied when it returns. An Engine
// fault makes the CP BROKEN and repair makes it ACTIVE; Monitor KO makes it
// DISCONNECTED within 3 s whatever the Engine.
#define BOOST_TEST_MODULE integration_operator
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace evnet::testing;
using evnet::json::value;

BOOST_AUTO_TEST_CASE(stop_ends_a_charge_at_once_with_a_ticket_and_resume_returns_active) {
  network net{three_cps()};
  auto& central = net.start_central();
  auto& monitor = net.start_cp("ALC1");
  auto& engine = net.engine("ALC1");
  auto& d1 = net.start_driver("D1");

  d1.send("charge ALC1 60");
  d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized");
  d1.expect(event_is("progress", {{"cp", "ALC1"}, {"kwh", 2.0}}), 10s, "2 kWh supplied");
  const auto asked = now_ms();
  central.send("stop ALC1");
  central.expect(state_of("ALC1", "OUT_OF_ORDER"), 5s, "ALC1 OUT_OF_ORDER");
  auto cmd = central.expect(event_is("command", {{"command", "stop"}, {"cp", "ALC1"}}), 10s, "stop acknowledged");
  BOOST_TEST(flag(cmd, "ok"));
  monitor.expect(event_is("command", {{"command", "stop"}, {"ok", true}}), 10s, "monitor relayed stop");
  engine.expect_ever(event_is("stopped", {{"cp", "ALC1"}}), 10s, "engine stopped");

  // The charge ends at once, and the driver's ticket says why.
  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC1"}}), 10s, "ticket after STOP");
  BOOST_TEST(num(ticket, "ts") - asked <= 3000.0, "the ticket came " << num(ticket, "ts") - asked << " ms after STOP");
  const double kwh = num(ticket, "kwh");
  BOOST_TEST(kwh >= 2.0);
  BOOST_TEST(kwh <= 2.0 + (num(ticket, "ts") - asked) / 1000.0 + 1.0);
  check_ticket(ticket, "ALC1", "D1", kwh, 0.35, "stopped by CENTRAL");
  auto finished = engine.expect_ever(event_is("finished", {{"cp", "ALC1"}}), 5s, "engine finished");
  check_ticket(finished, "ALC1", "D1", kwh, 0.35, "stopped by CENTRAL");
  auto at_central = central.expect_ever(event_is("ticket", {{"cp", "ALC1"}}), 5s, "central ticket");
  check_ticket(at_central, "ALC1", "D1", kwh, 0.35, "stopped by CENTRAL");
  BOOST_TEST(str(at_central, "charge_id") == str(ticket, "charge_id"));

  // While out of order nothing starts: neither a driver nor the CP itself.
  d1.send("charge ALC1 3");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied while stopped");
  BOOST_TEST(str(denied, "reason").find("out of order") != std::string::npos, str(denied, "reason"));
  monitor.send("charge 3");
  auto local = monitor.expect(event_is("local_charge"), 15s, "local charge answered");
  BOOST_TEST(!flag(local, "ok"));
  BOOST_TEST(str(local, "reason").find("out of order") != std::string::npos, str(local, "reason"));
  BOOST_TEST(listed_state(central, "ALC1") == "OUT_OF_ORDER");

  central.send("resume ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE again");
  auto resumed = central.expect_ever(event_is("command", {{"command", "resume"}, {"cp", "ALC1"}}), 10s, "resume ack");
  BOOST_TEST(flag(resumed, "ok"));
  engine.expect(event_is("resumed", {{"cp", "ALC1"}}), 10s, "engine resumed");
  short_charge(net, d1, "D1", "ALC1", 2);

  // Tickets, exactly: the stopped charge and the short one; none for the refused ones.
  BOOST_TEST(d1.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
  BOOST_TEST(d1.all(event_is("authorized")).size() == 2u);
}

BOOST_AUTO_TEST_CASE(stop_all_and_resume_all_including_a_cp_that_is_away) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  net.start_cp("ALC2");
  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  d1.send("charge ALC1 60");
  d2.send("charge ALC2 60");
  d1.expect(event_is("progress", {{"cp", "ALC1"}, {"kwh", 1.0}}), 15s, "ALC1 supplying");
  d2.expect(event_is("progress", {{"cp", "ALC2"}, {"kwh", 1.0}}), 15s, "ALC2 supplying");

  central.send("stop all");
  // MAD1 has never connected: the STOP waits for it.
  auto pending = central.expect(event_is("command", {{"command", "stop"}, {"cp", "MAD1"}}), 5s, "MAD1 stop pending");
  BOOST_TEST(flag(pending, "ok"));
  BOOST_TEST(str(pending, "reason").find("applied when it returns") != std::string::npos, str(pending, "reason"));
  auto t1 = d1.expect(event_is("ticket", {{"cp", "ALC1"}}), 10s, "ALC1 ticket");
  auto t2 = d2.expect(event_is("ticket", {{"cp", "ALC2"}}), 10s, "ALC2 ticket");
  check_ticket(t1, "ALC1", "D1", num(t1, "kwh"), 0.35, "stopped by CENTRAL");
  check_ticket(t2, "ALC2", "D2", num(t2, "kwh"), 0.42, "stopped by CENTRAL");
  BOOST_TEST(num(t1, "kwh") >= 1.0);
  BOOST_TEST(num(t2, "kwh") >= 1.0);
  for (const auto* cp : {"ALC1", "ALC2"}) {
    central.expect_ever(event_is("command", {{"command", "stop"}, {"cp", cp}, {"ok", true}}), 10s,
                   std::string("stop acknowledged by ") + cp);
  }
  BOOST_TEST(listed_state(central, "ALC1") == "OUT_OF_ORDER");
  BOOST_TEST(listed_state(central, "ALC2") == "OUT_OF_ORDER");
  BOOST_TEST(listed_state(central, "MAD1") == "DISCONNECTED");
  // Drivers see it on the stream.
  d1.expect_ever(state_of("ALC2", "OUT_OF_ORDER"), 10s, "driver sees ALC2 out of order");

  // MAD1 arrives: the STOP decided while it was away applies at once.
  central.skip_to_end();
  net.start_engine("MAD1");
  auto& mad1_monitor = net.start_monitor("MAD1");
  mad1_monitor.expect(event_is("auth", {{"ok", true}}), 15s, "MAD1 authenticated");
  auto first = central.expect(event_is("cp_state", {{"cp", "MAD1"}}), 15s, "MAD1 state after auth");
  BOOST_TEST(str(first, "state") == "OUT_OF_ORDER");
  net.engine("MAD1").expect(event_is("stopped", {{"cp", "MAD1"}}), 10s, "MAD1 engine stopped");
  d1.send("charge MAD1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "MAD1"}}), 15s, "MAD1 denied");
  BOOST_TEST(str(denied, "reason").find("out of order") != std::string::npos, str(denied, "reason"));

  central.send("resume all");
  for (const auto* cp : {"ALC1", "ALC2", "MAD1"}) {
    central.expect(state_of(cp, "ACTIVE"), 10s, std::string(cp) + " ACTIVE after resume all");
  }
  for (const auto* cp : {"ALC1", "ALC2", "MAD1"}) {
    net.engine(cp).expect(event_is("resumed", {{"cp", cp}}), 10s, std::string(cp) + " engine resumed");
  }
  short_charge(net, d1, "D1", "MAD1", 2);
  short_charge(net, d2, "D2", "ALC1", 1);

  BOOST_TEST(d1.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(d2.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(central.all_once(event_is("ticket"), 4).size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_stop_given_while_the_cp_is_disconnected_is_applied_when_it_returns) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  net.stop_monitor("ALC1");
  central.expect(state_of("ALC1", "DISCONNECTED"), 10s, "ALC1 DISCONNECTED");

  central.send("stop ALC1");
  auto pending = central.expect(event_is("command", {{"command", "stop"}, {"cp", "ALC1"}}), 5s, "stop pending");
  BOOST_TEST(flag(pending, "ok"));
  BOOST_TEST(str(pending, "reason").find("applied when it returns") != std::string::npos, str(pending, "reason"));
  // Disconnected wins over out of order while it is away.
  BOOST_TEST(listed_state(central, "ALC1") == "DISCONNECTED");

  central.skip_to_end();
  const auto active_before = central.all(state_of("ALC1", "ACTIVE")).size();
  auto& monitor = net.start_monitor("ALC1");
  monitor.expect(event_is("auth", {{"ok", true}}), 15s, "authenticated again");
  auto back = central.expect(event_is("cp_state", {{"cp", "ALC1"}}), 15s, "ALC1 state on return");
  BOOST_TEST(str(back, "state") == "OUT_OF_ORDER");
  monitor.expect(event_is("command", {{"command", "stop"}, {"ok", true}}), 10s, "monitor applied the stop");
  net.engine("ALC1").expect(event_is("stopped", {{"cp", "ALC1"}}), 10s, "engine stopped");
  d1.send("charge ALC1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied");
  BOOST_TEST(str(denied, "reason").find("out of order") != std::string::npos, str(denied, "reason"));
  // It never looked ACTIVE in between.
  BOOST_TEST(central.all(state_of("ALC1", "ACTIVE")).size() == active_before);
  // An Engine that restarts while the CP is stopped learns it again.
  net.stop_engine("ALC1");
  auto& engine = net.start_engine("ALC1");
  engine.expect(event_is("configured", {{"cp", "ALC1"}}), 15s, "new engine configured");
  engine.expect(event_is("stopped", {{"cp", "ALC1"}}), 15s, "new engine stopped too");
  engine.expect(event_is("state", {{"cp", "ALC1"}, {"state", "OUT_OF_ORDER"}}), 5s, "new engine out of order");
  BOOST_TEST(listed_state(central, "ALC1") == "OUT_OF_ORDER");

  central.send("resume ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ACTIVE after resume");
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_engine_fault_makes_the_cp_broken_and_repair_makes_it_active) {
  network net{three_cps()};
  auto& central = net.start_central();
  auto& monitor = net.start_cp("ALC2");
  auto& engine = net.engine("ALC2");
  auto& d1 = net.start_driver("D1");
  start_charging(d1, "ALC2", 60, 2.0);

  engine.send("fault");
  engine.expect(event_is("fault", {{"cp", "ALC2"}}), 5s, "engine fault");
  auto ko = monitor.expect(event_is("engine", {{"ok", false}}), 5s, "monitor sees the fault");
  BOOST_TEST(str(ko, "detail").find("fault") != std::string::npos, str(ko, "detail"));
  central.expect_ever(event_is("fault", {{"cp", "ALC2"}}), 5s, "central fault event");
  central.expect_ever(state_of("ALC2", "BROKEN"), 5s, "ALC2 BROKEN");
  // The fault ended the charge: ticketed with the energy supplied so far.
  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC2"}}), 10s, "ticket after the fault");
  const double kwh = num(ticket, "kwh");
  BOOST_TEST(kwh >= 2.0);
  BOOST_TEST(kwh <= 4.0);
  check_ticket(ticket, "ALC2", "D1", kwh, 0.42, "engine fault");
  d1.send("charge ALC2 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC2"}}), 15s, "denied while broken");
  BOOST_TEST(str(denied, "reason").find("broken") != std::string::npos, str(denied, "reason"));

  engine.send("repair");
  monitor.expect(event_is("engine", {{"ok", true}}), 5s, "monitor sees the repair");
  central.expect(event_is("recovered", {{"cp", "ALC2"}}), 5s, "central recovered event");
  central.expect(state_of("ALC2", "ACTIVE"), 5s, "ALC2 ACTIVE");
  short_charge(net, d1, "D1", "ALC2", 2);

  BOOST_TEST(d1.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_state_table_monitor_ok_engine_ko_is_broken_monitor_ko_is_disconnected) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");

  // Monitor OK + Engine KO = BROKEN (the Monitor calls it KO after 2.5 s).
  auto killed = now_ms();
  net.stop_engine("ALC1");
  auto broken = central.expect(state_of("ALC1", "BROKEN"), 10s, "BROKEN after the Engine died");
  BOOST_TEST(num(broken, "ts") - killed <= 4500.0, "BROKEN came " << num(broken, "ts") - killed << " ms after");
  auto ko = net.monitor("ALC1").expect(event_is("engine", {{"ok", false}}), 5s, "monitor: engine KO");
  BOOST_TEST(str(ko, "detail").find("no answer") != std::string::npos, str(ko, "detail"));
  net.start_engine("ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 20s, "ACTIVE once the Engine is back");

  // Monitor KO = DISCONNECTED, within 4 s (a pause of up to 2 s must stay
  // invisible, so the server waits 3.5 s of silence before it gives up).
  killed = now_ms();
  net.stop_monitor("ALC1");
  auto gone = central.expect(state_of("ALC1", "DISCONNECTED"), 10s, "DISCONNECTED after the Monitor died");
  BOOST_TEST(num(gone, "ts") - killed <= 4000.0, "DISCONNECTED came " << num(gone, "ts") - killed << " ms after");
  // Monitor KO + Engine KO is still DISCONNECTED.
  net.stop_engine("ALC1");
  auto& d1 = net.start_driver("D1");
  d1.send("charge ALC1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied while disconnected");
  BOOST_TEST(str(denied, "reason").find("disconnected") != std::string::npos, str(denied, "reason"));
  BOOST_TEST(listed_state(central, "ALC1") == "DISCONNECTED");
  BOOST_TEST(central.all(state_of("ALC1", "BROKEN")).size() == 1u);

  // Both back: ACTIVE, and it charges.
  net.start_engine("ALC1");
  net.start_monitor("ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 20s, "ACTIVE with both back");
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_cp_takes_charges_as_soon_as_central_shows_it_active_even_if_its_engine_starts_last) {
  network net{three_cps()};
  auto& central = net.start_central();
  // The Monitor first: Central shows the CP ACTIVE once it authenticates,
  // before the Monitor has heard from its Engine at all.
  net.start_monitor("MAD1");
  central.expect(state_of("MAD1", "ACTIVE"), 15s, "MAD1 ACTIVE");
  net.start_engine("MAD1");
  auto& d1 = net.start_driver("D1");
  d1.send("charge MAD1 2");
  auto auth = d1.wait_for([](const value& ev) { return event_is("authorized")(ev) || event_is("denied")(ev); }, 20s);
  BOOST_TEST_REQUIRE(auth.has_value(), "no answer");
  BOOST_TEST(str(*auth, "event") == "authorized", evnet::json::dump(*auth));
  auto ticket = d1.expect(event_is("ticket", {{"cp", "MAD1"}}), 20s, "ticket");
  check_ticket(ticket, "MAD1", "D1", 2.0, 0.55, "completed");
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_monitor_reports_every_answered_health_check) {
  // The CP's screen shows when the Engine last answered, so the Monitor
  // reports each answered check, not only changes.
  network net{three_cps()};
  net.start_central();
  auto& monitor = net.start_cp("ALC1");
  auto first = monitor.expect(event_is("engine", {{"ok", true}}), 10s, "engine OK");
  auto second = monitor.expect(event_is("engine", {{"ok", true}}), 5s, "next check");
  auto third = monitor.expect(event_is("engine", {{"ok", true}}), 5s, "next check");
  BOOST_TEST(num(second, "ts") > num(first, "ts"));
  BOOST_TEST(num(third, "ts") - num(first, "ts") >= 1000.0);
  BOOST_TEST(monitor.all(event_is("auth", {{"ok", true}})).size() == 1u);
}

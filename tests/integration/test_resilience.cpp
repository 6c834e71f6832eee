// Issue #3: any component can die at any moment (kill -9), and no charge is
// lost or billed twice. One test per numbered death of the issue:
//   1. the Engine dies during a charge;
//   2. the Monitor dies (during a charge; no new charge, not even a local
//      one, until it is back and authenticated);
//   3. a Driver dies during a charge and gets its tickets when it returns;
//   4. Central dies (charges continue and are ticketed once after the
//      restart, new requests get "cannot reach CENTRAL", the store restores
//      registry, STOPs and tickets owed);
//   5. Central restarted twice in a row, and components restarted with
//      messages in flight: no ticket lost, duplicated or changed.
// Every test ends by checking the tickets exactly: count, kWh and amount.
#define BOOST_TEST_MODULE integration_resilience
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <set>

using namespace evnet::testing;
using evnet::json::value;

namespace {

// Peers back off while Central is away (1 s doubling, with jitter): waits for
// what follows a Central restart are generous but bounded.
constexpr auto after_restart = 40s;

} // namespace

// 1. The Engine dies during a charge.
BOOST_AUTO_TEST_CASE(engine_dies_during_a_charge_and_the_ticket_is_settled_when_it_returns) {
  network net{three_cps()};
  auto& central = net.start_central();
  auto& monitor = net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  const std::string charge_id = str(start_charging(d1, "ALC1", 60, 3.0), "charge_id");

  net.stop_engine("ALC1");
  // The Monitor reports the fault; Central marks the CP BROKEN and tells the
  // driver what was supplied so far.
  monitor.expect(event_is("engine", {{"ok", false}}), 10s, "monitor: engine KO");
  central.expect_ever(event_is("fault", {{"cp", "ALC1"}}), 10s, "central fault");
  central.expect_ever(state_of("ALC1", "BROKEN"), 10s, "ALC1 BROKEN");
  auto interrupted = central.expect_ever(event_is("interrupted", {{"cp", "ALC1"}}), 10s, "central interrupted");
  const double kwh = num(interrupted, "kwh");
  BOOST_TEST(kwh >= 3.0);
  BOOST_TEST(str(interrupted, "charge_id") == charge_id);
  BOOST_TEST(str(interrupted, "driver") == "D1");
  BOOST_TEST(num(interrupted, "amount") == expected_amount(kwh, 0.35));
  auto told = d1.expect(event_is("interrupted", {{"cp", "ALC1"}}), 10s, "driver told of the interruption");
  BOOST_TEST(num(told, "kwh") == kwh);
  BOOST_TEST(num(told, "amount") == expected_amount(kwh, 0.35));
  BOOST_TEST(str(told, "charge_id") == charge_id);
  // A request meanwhile is refused: the CP is broken.
  d1.send("charge ALC1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied while broken");
  BOOST_TEST(str(denied, "reason").find("broken") != std::string::npos, str(denied, "reason"));

  // The Engine comes back: it settles the charge from its store, nothing
  // supplied is lost, and the ticket follows.
  auto& engine = net.start_engine("ALC1");
  auto finished = engine.expect_ever(event_is("finished", {{"charge_id", charge_id}}), 15s, "engine settles the charge");
  check_ticket(finished, "ALC1", "D1", kwh, 0.35, "engine restarted");
  auto ticket = d1.expect(ticket_for(charge_id), 20s, "driver ticket");
  check_ticket(ticket, "ALC1", "D1", kwh, 0.35, "engine restarted");
  engine.expect_ever(event_is("acknowledged", {{"charge_id", charge_id}}), 15s, "Central acknowledged the record");
  central.expect_ever(state_of("ALC1", "ACTIVE"), 20s, "ALC1 ACTIVE again");
  central.expect(state_of("ALC1", "ACTIVE"), 20s, "ALC1 ACTIVE after the repair");

  // It charges again.
  d1.send("charge ALC1 2");
  auto again = d1.expect(event_is("ticket", {{"cp", "ALC1"}, {"reason", "completed"}}), 25s, "second ticket");
  check_ticket(again, "ALC1", "D1", 2.0, 0.35, "completed");

  BOOST_TEST(central.all(ticket_for(charge_id)).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(d1.all(event_is("interrupted")).size() == 1u);
}

// 2. The Monitor dies.
BOOST_AUTO_TEST_CASE(monitor_dies_the_charge_ends_and_nothing_starts_until_it_is_back) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& engine = net.engine("ALC1");
  auto& d1 = net.start_driver("D1");
  const std::string charge_id = str(start_charging(d1, "ALC1", 60, 2.0), "charge_id");

  const auto killed = now_ms();
  net.stop_monitor("ALC1");
  auto gone = central.expect(state_of("ALC1", "DISCONNECTED"), 10s, "ALC1 DISCONNECTED");
  // A real loss is seen within 4 s (pauses up to 2 s are not losses).
  BOOST_TEST(num(gone, "ts") - killed <= 4000.0, "DISCONNECTED " << num(gone, "ts") - killed << " ms after the kill");
  // The Engine ends the charge itself (its Monitor is silent) and reports
  // it; the ticket says why. Whether Central noticed the silence first (and
  // told the driver the charge was interrupted) or the Engine's report came
  // first is a race between two timeouts; either way the driver is told.
  auto finished = engine.expect(event_is("finished", {{"charge_id", charge_id}}), 10s, "engine ends the charge");
  const double kwh = num(finished, "kwh");
  BOOST_TEST(kwh >= 2.0);
  BOOST_TEST(kwh <= 2.0 + 5.0);
  check_ticket(finished, "ALC1", "D1", kwh, 0.35, "monitor lost");
  auto ticket = d1.expect_ever(ticket_for(charge_id), 15s, "driver ticket");
  check_ticket(ticket, "ALC1", "D1", kwh, 0.35, "monitor lost");
  for (const auto& told : d1.all(event_is("interrupted"))) {
    BOOST_TEST(str(told, "charge_id") == charge_id);
    BOOST_TEST(str(told, "reason").find("disconnected") != std::string::npos, str(told, "reason"));
    BOOST_TEST(num(told, "kwh") <= kwh);
  }

  // No new charge while the Monitor is away...
  d1.send("charge ALC1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied while disconnected");
  BOOST_TEST(str(denied, "reason").find("disconnected") != std::string::npos, str(denied, "reason"));
  // ...nor one started at the CP before its Monitor has authenticated (the
  // command reaches the new Monitor before it can have talked to Central).
  auto& monitor = net.start_monitor("ALC1", {"charge 2"});
  auto early = monitor.expect(event_is("local_charge"), 10s, "early local charge answered");
  BOOST_TEST(!flag(early, "ok"));
  BOOST_TEST(str(early, "reason").find("CENTRAL") != std::string::npos, str(early, "reason"));
  monitor.expect(event_is("auth", {{"ok", true}}), 15s, "authenticated");
  central.expect(state_of("ALC1", "ACTIVE"), 15s, "ALC1 ACTIVE");
  // Back and authenticated: a local charge works, and so does a driver's.
  monitor.send("charge 2");
  auto local = monitor.expect(event_is("local_charge"), 15s, "local charge answered");
  BOOST_TEST(flag(local, "ok"), str(local, "reason"));
  auto local_ticket = central.expect(ticket_for(str(local, "charge_id")), 20s, "local charge ticket");
  check_ticket(local_ticket, "ALC1", "@ALC1", 2.0, 0.35, "completed");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 free again");
  d1.send("charge ALC1 2");
  auto again = d1.expect(event_is("ticket", {{"cp", "ALC1"}, {"reason", "completed"}}), 25s, "driver charges again");
  check_ticket(again, "ALC1", "D1", 2.0, 0.35, "completed");

  BOOST_TEST(central.all(ticket_for(charge_id)).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 3).size() == 3u);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(monitor.all(event_is("local_charge", {{"ok", true}})).size() == 1u);
}

// 3. A Driver dies during a charge.
BOOST_AUTO_TEST_CASE(driver_dies_during_charges_and_gets_every_ticket_when_it_returns) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  net.start_cp("ALC2");

  auto& first = net.start_driver("D1");
  auto a1 = start_charging(first, "ALC1", 10, 1.0);
  first.kill_hard();
  // Back with the same id, it starts another charge and dies again.
  auto& second = net.start_driver("D1");
  auto a2 = start_charging(second, "ALC2", 5, 1.0);
  second.kill_hard();

  // Both charges run their course while the driver is away.
  auto t1 = central.expect_ever(ticket_for(str(a1, "charge_id")), 20s, "ALC1 ticket at Central");
  auto t2 = central.expect_ever(ticket_for(str(a2, "charge_id")), 20s, "ALC2 ticket at Central");
  check_ticket(t1, "ALC1", "D1", 10.0, 0.35, "completed");
  check_ticket(t2, "ALC2", "D1", 5.0, 0.42, "completed");
  BOOST_TEST(first.all(event_is("ticket")).empty());
  BOOST_TEST(second.all(event_is("ticket")).empty());

  // The driver returns and receives both.
  auto& third = net.start_driver("D1");
  auto r1 = third.expect_ever(ticket_for(str(a1, "charge_id")), 15s, "ALC1 ticket delivered");
  auto r2 = third.expect_ever(ticket_for(str(a2, "charge_id")), 15s, "ALC2 ticket delivered");
  check_ticket(r1, "ALC1", "D1", 10.0, 0.35, "completed");
  check_ticket(r2, "ALC2", "D1", 5.0, 0.42, "completed");
  // A charge of a few seconds spans Central's resend period: shown once each.
  third.send("charge ALC1 4");
  auto t3 = third.expect(event_is("ticket", {{"cp", "ALC1"}, {"kwh", 4.0}}), 25s, "a new charge");
  check_ticket(t3, "ALC1", "D1", 4.0, 0.35, "completed");
  BOOST_TEST(third.all(event_is("ticket")).size() == 3u);

  // Delivered means acknowledged: a fourth incarnation is owed nothing.
  // (Killed once Central has stored the ack: a driver killed between showing
  // a ticket and its ack reaching Central is shown it once more, by design.)
  central.expect_ever(event_is("delivered", {{"charge_id", str(t3, "charge_id")}}), 15s, "ack stored");
  third.kill_hard();
  auto& fourth = net.start_driver("D1");
  fourth.send("charge ALC2 4");
  auto t4 = fourth.expect(event_is("ticket", {{"cp", "ALC2"}}), 25s, "the fourth one's charge");
  check_ticket(t4, "ALC2", "D1", 4.0, 0.42, "completed");
  BOOST_TEST(fourth.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 4).size() == 4u);
}

// 4. Central dies.
BOOST_AUTO_TEST_CASE(central_dies_charges_continue_and_its_store_restores_everything) {
  network net{three_cps(), {"D1", "D2", "D3", "D4"}};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  net.start_cp("ALC2");
  auto& mad1 = net.start_cp("MAD1");

  // State that only the store can bring back: a CP registered by the
  // operator, a STOP, and a ticket owed to a driver that is away.
  central.send("add NEW1 0.61 Plaza Mayor 1, Madrid");
  central.expect(event_is("message", {{"text", "CP NEW1 registered at Plaza Mayor 1, Madrid"}}), 10s, "NEW1 added");
  auto& d4 = net.start_driver("D4");
  d4.send("charge MAD1 2");
  auto owed = d4.expect(event_is("authorized", {{"cp", "MAD1"}}), 15s, "D4 authorized");
  d4.kill_hard();
  central.expect(ticket_for(str(owed, "charge_id")), 15s, "D4's ticket stored");
  central.expect(state_of("MAD1", "ACTIVE"), 10s, "MAD1 free");
  central.send("stop MAD1");
  central.expect(state_of("MAD1", "OUT_OF_ORDER"), 10s, "MAD1 stopped");

  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  auto& d3 = net.start_driver("D3");
  d1.send("charge ALC1 6");
  d2.send("charge ALC2 20");
  auto c1 = d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "ALC1 authorized");
  auto c2 = d2.expect(event_is("authorized", {{"cp", "ALC2"}}), 15s, "ALC2 authorized");
  d1.expect(event_is("progress", {{"cp", "ALC1"}, {"kwh", 2.0}}), 15s, "ALC1 at 2 kWh");

  net.stop_central();
  // A request sent at once, before anyone noticed, is answered too.
  d3.send("charge ALC1 2");
  auto& alc1_monitor = net.monitor("ALC1");
  alc1_monitor.send("charge 2");
  auto d3_denied = d3.expect(event_is("denied"), 20s, "D3 answered while CENTRAL is down");
  BOOST_TEST(str(d3_denied, "reason").find("cannot reach CENTRAL") != std::string::npos, str(d3_denied, "reason"));
  auto local = alc1_monitor.expect(event_is("local_charge"), 20s, "local charge answered while CENTRAL is down");
  BOOST_TEST(!flag(local, "ok"));
  BOOST_TEST(str(local, "reason").find("cannot reach CENTRAL") != std::string::npos, str(local, "reason"));
  // Once the outage is known, at once and clearly.
  d3.expect_ever(event_is("central", {{"status", "unreachable"}}), 15s, "D3 knows");
  d3.send("charge ALC2 2");
  auto again = d3.expect(event_is("denied", {{"cp", "ALC2"}}), 5s, "denied at once");
  BOOST_TEST(str(again, "reason").find("cannot reach CENTRAL") != std::string::npos, str(again, "reason"));
  mad1.expect_ever(event_is("central", {{"status", "unreachable"}}), 15s, "MAD1's monitor knows");
  mad1.send("charge 2");
  auto mad1_local = mad1.expect(event_is("local_charge"), 5s, "MAD1 local charge answered");
  BOOST_TEST(!flag(mad1_local, "ok"));
  BOOST_TEST(str(mad1_local, "reason").find("cannot reach CENTRAL") != std::string::npos, str(mad1_local, "reason"));

  // The charges in progress go on: ALC1's ends while Central is down.
  auto f1 = net.engine("ALC1").expect(event_is("finished", {{"charge_id", str(c1, "charge_id")}}), 15s,
                                      "ALC1 ends while CENTRAL is down");
  check_ticket(f1, "ALC1", "D1", 6.0, 0.35, "completed");
  BOOST_TEST(d2.all(event_is("interrupted")).empty());
  BOOST_TEST(net.engine("ALC2").all(event_is("finished")).empty());

  // Meanwhile someone edits the seed file: it may add CPs, but it must not
  // override what the store knows.
  {
    std::ofstream seed{net.dir().file("db.json")};
    seed << R"({"cps":[{"id":"ALC1","location":"Somewhere else","price":9.99},)"
         << R"({"id":"SEV1","location":"Av. de la Constitucion 1, Sevilla","price":0.47}],)"
         << R"("drivers":[{"id":"D1","name":"Driver D1"}]})";
  }
  auto& restarted = net.restart_central();
  // Registry and STOPs from the store, before any CP is back.
  auto cps = restarted.expect(event_is("cps"), 10s, "cps at restart");
  std::map<std::string, value> rows;
  for (const auto& row : rows_of(cps, "cps")) {
    rows[str(row, "cp")] = row;
  }
  BOOST_TEST_REQUIRE(rows.count("NEW1") == 1u, "NEW1 survived the restart");
  BOOST_TEST(num(rows["NEW1"], "price") == 0.61);
  BOOST_TEST(str(rows["NEW1"], "location") == "Plaza Mayor 1, Madrid");
  BOOST_TEST_REQUIRE(rows.count("ALC1") == 1u);
  BOOST_TEST(num(rows["ALC1"], "price") == 0.35);
  BOOST_TEST(str(rows["ALC1"], "location") == "Calle Italia 5, Alicante");
  BOOST_TEST_REQUIRE(rows.count("SEV1") == 1u, "a CP new in the seed file is added");
  BOOST_TEST(num(rows["SEV1"], "price") == 0.47);
  BOOST_TEST(rows.size() == 5u);
  // The record of the charge that ended meanwhile: ticketed once.
  auto t1 = restarted.expect_ever(ticket_for(str(c1, "charge_id")), after_restart, "ALC1 ticketed after restart");
  check_ticket(t1, "ALC1", "D1", 6.0, 0.35, "completed");
  auto r1 = d1.expect(ticket_for(str(c1, "charge_id")), after_restart, "D1 ticket");
  check_ticket(r1, "ALC1", "D1", 6.0, 0.35, "completed");
  // The charge still running is adopted and ticketed when it ends.
  restarted.expect_ever(state_of("ALC2", "BUSY"), after_restart, "ALC2 BUSY again");
  auto r2 = d2.expect(ticket_for(str(c2, "charge_id")), after_restart, "D2 ticket");
  check_ticket(r2, "ALC2", "D2", 20.0, 0.42, "completed");
  // The STOP held: MAD1 comes back out of order.
  restarted.expect_ever(state_of("MAD1", "OUT_OF_ORDER"), after_restart, "MAD1 still stopped");
  BOOST_TEST(restarted.all(state_of("MAD1", "ACTIVE")).empty());
  // D4 returns and gets the ticket owed since before the restart.
  auto& d4_back = net.start_driver("D4");
  auto r4 = d4_back.expect_ever(ticket_for(str(owed, "charge_id")), 20s, "D4's ticket from the store");
  check_ticket(r4, "MAD1", "D4", 2.0, 0.55, "completed");
  // New charges work again.
  d3.send("charge ALC1 2");
  auto r3 = d3.expect(event_is("ticket", {{"cp", "ALC1"}}), 30s, "D3 charges after the restart");
  check_ticket(r3, "ALC1", "D3", 2.0, 0.35, "completed");

  // How long the peers took to find the new Central (for the log).
  const double restarted_at = num(restarted.all(event_is("started")).front(), "ts");
  for (auto* d : {&d1, &d2, &d3}) {
    auto back = d->all(event_is("central", {{"status", "connected"}}));
    BOOST_TEST_MESSAGE(d->name() << " reconnected " << num(back.back(), "ts") - restarted_at << " ms after the restart");
  }
  for (const auto* cp : {"ALC1", "ALC2", "MAD1"}) {
    auto auth = restarted.all(event_is("auth", {{"cp", cp}, {"ok", true}}));
    BOOST_TEST_MESSAGE(cp << " authenticated " << (auth.empty() ? -1.0 : num(auth.front(), "ts") - restarted_at)
                          << " ms after the restart");
  }

  // Exactly once, across both Centrals.
  BOOST_TEST(net.all_centrals(ticket_for(str(c1, "charge_id"))).size() == 1u);
  BOOST_TEST(net.all_centrals(ticket_for(str(c2, "charge_id"))).size() == 1u);
  BOOST_TEST(net.all_centrals(ticket_for(str(owed, "charge_id"))).size() == 1u);
  BOOST_TEST(net.all_centrals(event_is("ticket")).size() == 4u);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(d2.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(d3.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(d4_back.all(event_is("ticket")).size() == 1u);
}

// 5. Central restarted twice in a row; components restarted with messages in flight.
BOOST_AUTO_TEST_CASE(central_restarted_twice_and_components_restarted_in_flight_lose_and_duplicate_nothing) {
  network net{three_cps()};
  net.start_central();
  for (const auto* cp : {"ALC1", "ALC2", "MAD1"}) {
    net.start_cp(cp);
  }
  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  auto& d3 = net.start_driver("D3");
  d1.send("charge ALC1 9");
  d2.send("charge ALC2 12");
  d3.send("charge MAD1 5");
  std::map<std::string, std::string> charge_of;  // cp -> charge id
  for (auto* d : {&d1, &d2, &d3}) {
    auto a = d->expect(event_is("authorized"), 15s, "authorized");
    charge_of[str(a, "cp")] = str(a, "charge_id");
  }
  d3.expect(event_is("progress", {{"cp", "MAD1"}, {"kwh", 1.0}}), 15s, "MAD1 supplying");

  // Twice in a row: the second death comes while peers are still finding
  // the first replacement. D1 dies during the second outage.
  net.stop_central();
  auto& second = net.restart_central();
  second.expect(event_is("auth"), after_restart, "a Monitor is back");
  net.stop_central();
  d1.kill_hard();
  auto& third = net.restart_central();

  // The Engine of ALC2 dies with its finished record in flight, and comes back.
  auto& alc2 = net.engine("ALC2");
  alc2.expect(event_is("finished", {{"charge_id", charge_of["ALC2"]}}), after_restart, "ALC2 finished");
  net.stop_engine("ALC2");
  net.start_engine("ALC2");
  auto& d1_back = net.start_driver("D1");

  // Had D1 received its ticket before it died (from the second Central), it
  // acknowledged it; otherwise the new D1 must get it.
  const auto shown_before = d1.all(ticket_for(charge_of["ALC1"])).size();
  auto t1 = shown_before == 0 ? d1_back.expect_ever(ticket_for(charge_of["ALC1"]), after_restart, "D1 ticket")
                              : d1.all(ticket_for(charge_of["ALC1"])).front();
  auto t2 = d2.expect_ever(ticket_for(charge_of["ALC2"]), after_restart, "D2 ticket");
  auto t3 = d3.expect_ever(ticket_for(charge_of["MAD1"]), after_restart, "D3 ticket");
  check_ticket(t1, "ALC1", "D1", 9.0, 0.35, "completed");
  check_ticket(t2, "ALC2", "D2", 12.0, 0.42, "completed");
  check_ticket(t3, "MAD1", "D3", 5.0, 0.55, "completed");
  // Every Engine got its acknowledgement, so nothing is left to resend.
  net.engine("ALC2").expect_ever(event_is("acknowledged", {{"charge_id", charge_of["ALC2"]}}), after_restart,
                                 "ALC2 record acknowledged");
  for (const auto* cp : {"ALC1", "MAD1"}) {
    net.engine(cp).expect_ever(event_is("acknowledged", {{"charge_id", charge_of[cp]}}), after_restart,
                               std::string(cp) + " record acknowledged");
  }
  // The network still works: a charge across the restarted pieces.
  d2.send("charge ALC2 2");
  auto more = d2.expect(event_is("ticket", {{"cp", "ALC2"}, {"kwh", 2.0}}), 30s, "a charge after all that");
  check_ticket(more, "ALC2", "D2", 2.0, 0.42, "completed");

  // Exactly once across three Centrals, with the Engines' figures unchanged.
  for (const auto& [cp, id] : charge_of) {
    auto at_central = net.all_centrals(ticket_for(id));
    BOOST_TEST(at_central.size() == 1u, cp << " ticketed " << at_central.size() << " times");
    if (!at_central.empty()) {
      check_ticket(at_central.front(), cp, str(at_central.front(), "driver"), cp == "ALC1" ? 9.0 : cp == "ALC2" ? 12.0 : 5.0,
                   net.price(cp), "completed");
    }
  }
  BOOST_TEST(net.all_centrals(event_is("ticket")).size() == 4u);
  BOOST_TEST(third.all(event_is("ticket")).size() >= 1u);
  // A driver has no store: one that died between showing a ticket and
  // Central storing its acknowledgement may be shown it again, once.
  BOOST_TEST(shown_before <= 1u);
  BOOST_TEST(d1_back.all(ticket_for(charge_of["ALC1"])).size() <= 1u);
  BOOST_TEST(shown_before + d1_back.all(ticket_for(charge_of["ALC1"])).size() >= 1u);
  BOOST_TEST(d2.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(d3.all(event_is("ticket")).size() == 1u);
}

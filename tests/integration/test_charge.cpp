// Issue #2: a whole charge, end to end, with real processes over real sockets.
#define BOOST_TEST_MODULE integration_charge
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace evnet::testing;
using evnet::json::value;

BOOST_AUTO_TEST_CASE(full_charge_with_duration_is_ticketed_with_exact_figures) {
  network net{three_cps()};
  auto& central = net.start_central();
  // Every CP is DISCONNECTED until its Monitor authenticates.
  auto cps = central.expect(event_is("cps"), 10s, "cps at start");
  for (const auto& cp : rows_of(cps, "cps")) {
    BOOST_TEST(str(cp, "state") == "DISCONNECTED");
  }
  net.start_cp("ALC1");
  auto& monitor = net.monitor("ALC1");
  auto auth = monitor.expect(event_is("auth", {{"ok", true}}), 15s, "auth ok");
  BOOST_TEST(str(auth, "location") == "Calle Italia 5, Alicante");
  BOOST_TEST(num(auth, "price") == 0.35);
  net.engine("ALC1").expect(event_is("configured", {{"cp", "ALC1"}}), 15s, "engine configured");

  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  auto listed = listed_row(d1, "ALC1");
  BOOST_TEST_REQUIRE(listed.has_value(), "ALC1 is listed");
  BOOST_TEST(str(*listed, "state") == "ACTIVE");
  BOOST_TEST(num(*listed, "price") == 0.35);

  const int seconds = 4;
  d1.send("charge ALC1 " + std::to_string(seconds));
  d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized");
  central.expect(state_of("ALC1", "BUSY"), 10s, "ALC1 BUSY");
  auto p1 = d1.expect(event_is("progress", {{"cp", "ALC1"}, {"kwh", 1.0}}), 10s, "progress at 1 kWh");
  BOOST_TEST(num(p1, "amount") == expected_amount(1.0, 0.35));
  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ticket");
  BOOST_TEST(num(ticket, "kwh") == double(seconds));
  BOOST_TEST(num(ticket, "price") == 0.35);
  BOOST_TEST(num(ticket, "amount") == expected_amount(seconds, 0.35));
  BOOST_TEST(str(ticket, "driver") == "D1");
  BOOST_TEST(str(ticket, "reason") == "completed");
  BOOST_TEST(num(ticket, "end") - num(ticket, "start") >= seconds * 1000.0 - 50.0);
  central.expect(event_is("ticket", {{"cp", "ALC1"}, {"driver", "D1"}, {"kwh", double(seconds)}}), 10s,
                 "central ticket");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE again");
  // Telemetry goes to that driver only.
  BOOST_TEST(d2.all(event_is("progress")).empty());
  BOOST_TEST(d2.all(event_is("ticket")).empty());
  // Every second of supply was published: kWh 1..seconds, in order.
  auto progress = d1.all(event_is("progress", {{"cp", "ALC1"}}));
  BOOST_TEST(progress.size() >= std::size_t(seconds - 1));
  BOOST_TEST(num(progress.back(), "kwh") <= double(seconds));
}

BOOST_AUTO_TEST_CASE(charge_until_unplugged_is_driven_by_the_engine) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC2");
  auto& driver = net.start_driver("D1");
  driver.send("charge ALC2");
  driver.expect(event_is("authorized", {{"cp", "ALC2"}}), 15s, "authorized");
  auto& engine = net.engine("ALC2");
  engine.expect(event_is("authorized"), 10s, "engine authorized");
  engine.send("plug");
  engine.expect(event_is("plugged"), 10s, "plugged");
  driver.expect(event_is("plugged", {{"cp", "ALC2"}}), 10s, "driver sees plugged");
  auto p = driver.expect(event_is("progress", {{"cp", "ALC2"}, {"kwh", 2.0}}), 10s, "2 kWh");
  BOOST_TEST(num(p, "amount") == expected_amount(2.0, 0.42));
  engine.send("unplug");
  auto ticket = driver.expect(event_is("ticket", {{"cp", "ALC2"}}), 15s, "ticket");
  BOOST_TEST(str(ticket, "reason") == "unplugged");
  BOOST_TEST(num(ticket, "kwh") >= 2.0);
  BOOST_TEST(num(ticket, "amount") == expected_amount(num(ticket, "kwh"), 0.42));
  central.expect(event_is("ticket", {{"cp", "ALC2"}}), 10s, "central ticket");
}

BOOST_AUTO_TEST_CASE(unknown_cp_is_denied_everywhere) {
  network net{three_cps()};
  net.start_central();
  net.start_engine("ALC1");
  // A Monitor claiming an id the registry does not know is denied with a
  // reason (it holds a registered key for that id: without one it would be
  // refused before it could say anything, see test_trust).
  net.register_unlisted_key("cp", "XXX9");
  net.central().expect(event_is("keys"), 10s, "Central takes in the new key");
  evnet::testing::process rogue{"monitor-XXX9", net.monitor_argv("ALC1", "XXX9")};
  auto denied = rogue.expect(event_is("auth", {{"ok", false}}), 15s, "auth denied");
  BOOST_TEST(str(denied, "reason").find("XXX9") != std::string::npos);
  net.central().expect(event_is("auth", {{"cp", "XXX9"}, {"ok", false}}), 10s, "central logs the denial");
  // A driver asking for an unknown CP gets a reason too.
  auto& driver = net.start_driver("D1");
  driver.send("charge NOPE1 5");
  auto d = driver.expect(event_is("denied", {{"cp", "NOPE1"}}), 15s, "denied");
  BOOST_TEST(str(d, "reason").find("NOPE1") != std::string::npos);
  // A registered but disconnected CP is refused as such.
  driver.send("charge MAD1 5");
  auto d2 = driver.expect(event_is("denied", {{"cp", "MAD1"}}), 15s, "denied MAD1");
  BOOST_TEST(str(d2, "reason").find("disconnected") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_busy_cp_is_denied_to_a_second_driver) {
  network net{three_cps()};
  net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  d1.send("charge ALC1 30");
  d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized");
  net.central().expect(state_of("ALC1", "BUSY"), 10s, "BUSY");
  d2.send("charge ALC1 5");
  auto denied = d2.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "denied");
  BOOST_TEST(str(denied, "reason").find("busy") != std::string::npos);
  // The first charge is undisturbed.
  d1.expect(event_is("progress", {{"cp", "ALC1"}}), 10s, "progress continues");
  BOOST_TEST(d1.all(event_is("interrupted")).empty());
}

BOOST_AUTO_TEST_CASE(a_file_runs_in_order_with_four_second_pauses) {
  network net{three_cps()};
  net.start_central();
  net.start_cp("ALC1");
  net.start_cp("ALC2");
  std::ofstream{net.dir().file("requests.txt")} << "# three services\nALC1 2\n\nALC2 3\nMAD1 1\n";
  auto& driver = net.start_driver("D1");
  driver.send("file " + net.dir().file("requests.txt"));
  auto file = driver.expect(event_is("file"), 10s, "file");
  BOOST_TEST(num(file, "services") == 3.0);
  auto t1 = driver.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ticket ALC1");
  BOOST_TEST(num(t1, "kwh") == 2.0);
  BOOST_TEST(num(t1, "amount") == expected_amount(2.0, 0.35));
  auto w1 = driver.expect(event_is("waiting", {{"seconds", 4}}), 5s, "pause 1");
  auto r2 = driver.expect(event_is("requested", {{"cp", "ALC2"}}), 10s, "second request");
  BOOST_TEST(num(r2, "ts") - num(w1, "ts") >= 3900.0);
  auto t2 = driver.expect(event_is("ticket", {{"cp", "ALC2"}}), 20s, "ticket ALC2");
  BOOST_TEST(num(t2, "kwh") == 3.0);
  BOOST_TEST(num(t2, "amount") == expected_amount(3.0, 0.42));
  auto w2 = driver.expect(event_is("waiting"), 5s, "pause 2");
  // MAD1 has no Monitor: denied, and the file still finishes.
  auto r3 = driver.expect(event_is("requested", {{"cp", "MAD1"}}), 10s, "third request");
  BOOST_TEST(num(r3, "ts") - num(w2, "ts") >= 3900.0);
  driver.expect(event_is("denied", {{"cp", "MAD1"}}), 15s, "MAD1 denied");
  auto done = driver.expect(event_is("file_done"), 15s, "file done");
  BOOST_TEST(num(done, "done") == 2.0);
  BOOST_TEST(num(done, "failed") == 1.0);
}

// Issue #3: hostile and wrong input. Garbage, truncated, oversized,
// wrong-version, unknown-type and multi-part frames sent with a raw ZeroMQ
// DEALER to Central's ROUTER and to an Engine's listen port: the sender gets
// an error reply, the receiver reports the flood once, and a real charge
// running meanwhile is undisturbed. Also: forged records, two Monitors for
// one CP, bad durations over the wire and on the command lines, a request
// file full of mistakes, and every reason a charge can be denied.
// Every test ends by checking the tickets exactly: count, kWh and amount.
#define BOOST_TEST_MODULE integration_hostile
#include "harness.hpp"
#include "raw_client.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <limits>
#include <thread>

using namespace evnet::testing;
using evnet::errc;
using evnet::json::value;
namespace protocol = evnet::protocol;

namespace {

std::string endpoint(std::uint16_t port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// One kind of bad input and the error code its sender must get back.
struct bad_input {
  std::string name;
  std::vector<std::string> parts;  // one ZeroMQ frame each
  evnet::errc code;
};

std::vector<bad_input> bad_inputs() {
  const std::string valid = protocol::encode(protocol::make("raw", protocol::cp_auth{"ALC1"}));
  auto other_version = protocol::make("raw", protocol::cp_auth{"ALC1"});
  other_version.version = protocol::version + 1;
  return {
      {"garbage", {std::string("this is not MessagePack \xc1\xff\x00\x01", 28)}, errc::malformed},
      {"truncated", {valid.substr(0, valid.size() - 3)}, errc::malformed},
      {"trailing bytes", {valid + "xyz"}, errc::malformed},
      {"empty frame", {std::string{}}, errc::malformed},
      {"wrong version", {protocol::encode(other_version)}, errc::bad_version},
      {"unknown type", {raw_envelope(protocol::version, "make_coffee")}, errc::unknown_type},
      {"two frames", {valid, valid}, errc::malformed},
      {"oversized field", {protocol::encode(protocol::make("raw", protocol::cp_auth{std::string(5000, 'X')}))},
       errc::invalid_field},
  };
}

// Sends each bad input `repeat` times; every copy must be answered with its
// error code. Returns how many frames were sent.
std::size_t send_bad_inputs(raw_dealer& raw, int repeat) {
  const auto inputs = bad_inputs();
  std::size_t sent = 0;
  for (const auto& in : inputs) {
    for (int i = 0; i < repeat; ++i) {
      raw.send_parts(in.parts);
      auto reply = raw.receive_a<protocol::error_reply>(5s);
      BOOST_TEST_REQUIRE(reply.has_value(), "no error reply to " << in.name);
      BOOST_TEST(reply->code == in.code, in.name << ": got " << reply->code << " (" << reply->detail << ")");
      ++sent;
    }
  }
  return sent;
}

// Rejections are reported per peer: the first at once, then at most one a
// second (with the count held back). So a flood of `sent` frames over
// `elapsed` gives at least one report and at most 2 + elapsed seconds.
void check_flood_reported_per_peer(process& p, const std::string& peer, std::size_t sent,
                                   std::chrono::steady_clock::duration elapsed) {
  p.expect(event_is("error", {{"code", "rejected"}}), 10s, "rejection report");
  const auto reported = p.all(event_is("error", {{"code", "rejected"}}));
  const auto most = 2 + static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
  BOOST_TEST(reported.size() <= most, reported.size() << " reports for " << sent << " frames in "
                                                      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                                                      << " ms");
  BOOST_TEST(reported.size() < sent);
  for (const auto& ev : reported) {
    if (!peer.empty()) {
      BOOST_TEST(str(ev, "message").find(peer) != std::string::npos, str(ev, "message"));
    }
  }
}

// A frame larger than every socket's ZMQ_MAXMSGSIZE: libzmq drops the
// connection before anything is decoded, so no reply is possible; the
// sender's socket reconnects by itself and is served again.
void send_oversized_then_check_served(raw_dealer& raw) {
  raw.send_bytes(std::string(protocol::max_request_frame_size + 1024, 'A'));
  // A frame queued behind the big one may go down with the dropped
  // connection: ask again until answered (bounded).
  std::optional<protocol::error_reply> reply;
  for (int attempt = 0; attempt < 10 && !reply; ++attempt) {
    raw.send_bytes("still garbage");
    reply = raw.receive_a<protocol::error_reply>(1s);
  }
  BOOST_TEST_REQUIRE(reply.has_value(), "not served after an oversized frame");
  BOOST_TEST(reply->code == errc::malformed);
}

} // namespace

BOOST_AUTO_TEST_CASE(bad_frames_to_central_are_answered_and_reported_once_and_disturb_no_charge) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  auto auth = start_charging(d1, "ALC1", 8, 1.0);

  // A peer holding a registered key (ALC1's: the worst case, a CP's own
  // key in the wrong hands) that sends garbage.
  const auto alc1_key = client_keys(net.keys_dir(), "cp-ALC1");
  raw_dealer raw{endpoint(net.central_port()), "hostile-1", alc1_key};
  const auto flood_start = std::chrono::steady_clock::now();
  const auto sent = send_bad_inputs(raw, 5);
  check_flood_reported_per_peer(central, "hostile-1", sent, std::chrono::steady_clock::now() - flood_start);
  {
    raw_dealer big{endpoint(net.central_port()), "hostile-big", alc1_key};
    send_oversized_then_check_served(big);
  }

  // Well-formed but not allowed: a peer must introduce itself first.
  raw.send(protocol::telemetry{"ALC1", str(auth, "charge_id"), "D1", 999, 500.0, 1.0, 0.002}, 7);
  auto refused = raw.receive_a<protocol::error_reply>(5s);
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->code == errc::unauthenticated);
  // An unknown CP (a registered key for an id the registry does not hold)
  // is denied with a reason.
  central.skip_to_end();
  net.register_unlisted_key("cp", "NOPE7");
  central.expect(event_is("keys"), 10s, "Central takes in the new key");
  raw_dealer nope{endpoint(net.central_port()), "hostile-nope", client_keys(net.keys_dir(), "cp-NOPE7")};
  nope.send(protocol::cp_auth{"NOPE7"}, 8);
  auto denied = nope.receive_a<protocol::cp_auth_reply>(5s);
  BOOST_TEST_REQUIRE(denied.has_value());
  BOOST_TEST(!denied->ok);
  BOOST_TEST(denied->reason.find("NOPE7") != std::string::npos, denied->reason);

  // The charge ran on, undisturbed, with its own figures.
  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ticket");
  check_ticket(ticket, "ALC1", "D1", 8.0, 0.35, "completed");
  BOOST_TEST(d1.all(event_is("interrupted")).empty());
  BOOST_TEST(d1.all(event_is("progress", {{"kwh", 500.0}})).empty());
  BOOST_TEST(central.running());
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_frames_to_an_engine_are_answered_and_reported_once_and_disturb_no_charge) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC2");
  auto& engine = net.engine("ALC2");
  auto& d1 = net.start_driver("D1");
  start_charging(d1, "ALC2", 8, 1.0);

  // Only ALC2's own key reaches its Engine: the worst case is that key in
  // the wrong hands.
  const auto alc2_key = client_keys(net.keys_dir(), "cp-ALC2", "cp-ALC2");
  raw_dealer raw{endpoint(net.engine_port("ALC2")), "hostile-2", alc2_key};
  const auto flood_start = std::chrono::steady_clock::now();
  const auto sent = send_bad_inputs(raw, 3);
  // (An Engine has one Monitor: its reports do not name the peer.)
  check_flood_reported_per_peer(engine, {}, sent, std::chrono::steady_clock::now() - flood_start);
  {
    raw_dealer big{endpoint(net.engine_port("ALC2")), "hostile-big", alc2_key};
    send_oversized_then_check_served(big);
  }
  // A message that is not for an Engine is refused too.
  raw.send(protocol::ticket{}, 3);
  auto refused = raw.receive_a<protocol::error_reply>(5s);
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->code == errc::unexpected);

  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC2"}}), 20s, "ticket");
  check_ticket(ticket, "ALC2", "D1", 8.0, 0.42, "completed");
  BOOST_TEST(engine.all(event_is("finished")).size() == 1u);
  BOOST_TEST(d1.all(event_is("interrupted")).empty());
  BOOST_TEST(central.all(state_of("ALC2", "BROKEN")).empty());
  BOOST_TEST(central.all(state_of("ALC2", "DISCONNECTED")).empty());
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_forged_charge_record_is_not_billed) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");

  // Any registered key can connect to Central's port (a driver's here);
  // only the CP's Engine may report its charges.
  raw_dealer raw{endpoint(net.central_port()), "forger", client_keys(net.keys_dir(), "driver-D3")};
  protocol::charge_record forged{"ALC1", "ALC1-forged-1", "D1", 1000.0, 0.35, 0.01, now_ms() - 5000, now_ms(),
                                 evnet::end_reason::completed};
  raw.send(protocol::charge_finished{forged}, 1);
  auto reply = raw.receive(5s);
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(!reply->is<protocol::record_ack>(), "a forged record was acknowledged");
  // A real charge shows the driver's ticket list holds only real charges.
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(central.all(ticket_for("ALC1-forged-1")).empty());
  BOOST_TEST(d1.all(ticket_for("ALC1-forged-1")).empty());
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_second_monitor_for_the_same_cp_is_denied_and_the_first_keeps_its_session) {
  network net{three_cps()};
  auto& central = net.start_central();
  auto& first = net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  start_charging(d1, "ALC1", 8, 1.0);

  {
    process twin{"monitor-ALC1-twin", net.monitor_argv("ALC1", "ALC1")};
    auto denied = twin.expect(event_is("auth", {{"ok", false}}), 15s, "twin denied");
    BOOST_TEST(str(denied, "reason").find("already") != std::string::npos, str(denied, "reason"));
    auto logged = central.expect_ever(event_is("auth", {{"cp", "ALC1"}, {"ok", false}}), 10s, "Central logs it");
    BOOST_TEST(str(logged, "reason").find("already") != std::string::npos, str(logged, "reason"));
    // The twin cannot start charges either.
    twin.send("charge 2");
    auto local = twin.expect(event_is("local_charge"), 10s, "twin's local charge answered");
    BOOST_TEST(!flag(local, "ok"));
    twin.kill_hard();
  }
  // The first Monitor kept its session: the charge ends normally.
  auto ticket = d1.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ticket");
  check_ticket(ticket, "ALC1", "D1", 8.0, 0.35, "completed");
  BOOST_TEST(central.all(state_of("ALC1", "DISCONNECTED")).empty());
  BOOST_TEST(central.all(event_is("auth", {{"cp", "ALC1"}, {"ok", true}})).size() == 1u);
  // And it still serves: a local charge at the CP works.
  first.send("charge 2");
  auto local = first.expect(event_is("local_charge"), 15s, "local charge");
  BOOST_TEST(flag(local, "ok"), str(local, "reason"));
  auto local_ticket = central.expect(ticket_for(str(local, "charge_id")), 20s, "local ticket");
  check_ticket(local_ticket, "ALC1", "@ALC1", 2.0, 0.35, "completed");
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(zero_negative_and_absurd_durations_are_refused_with_a_reason) {
  network net{three_cps(), {"D1", "D2"}};
  auto& central = net.start_central();
  auto& monitor = net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");

  // Over the wire, as a driver. (0 means "until unplugged" in the protocol,
  // so it is checked where a person types it, below.)
  raw_dealer raw{endpoint(net.central_port()), "driver:D2:raw", client_keys(net.keys_dir(), "driver-D2")};
  const std::vector<std::int64_t> durations{-5, -1, 86401, 1'000'000'000'000LL,
                                            std::numeric_limits<std::int64_t>::min(),
                                            std::numeric_limits<std::int64_t>::max()};
  int n = 0;
  for (auto d : durations) {
    // Introduce ourselves each time: this raw socket sends no heartbeats.
    raw.send(protocol::driver_hello{"D2"}, 100 + n);
    auto hello = raw.receive_a<protocol::ack>(5s);
    BOOST_TEST_REQUIRE(hello.has_value());
    BOOST_TEST_REQUIRE(hello->ok, hello->reason);
    const std::string request_id = "D2-raw-" + std::to_string(++n);
    raw.send(protocol::charge_request{"D2", "ALC1", d, request_id}, 200 + n);
    auto reply = raw.receive_a<protocol::charge_reply>(10s);
    BOOST_TEST_REQUIRE(reply.has_value(), "no answer for duration " << d);
    BOOST_TEST(!reply->ok, "duration " << d << " was accepted");
    BOOST_TEST(reply->request_id == request_id);
    BOOST_TEST(reply->reason.find("duration") != std::string::npos, d << ": " << reply->reason);
  }
  // Central's events reach its stdout on their own thread: the last reply can
  // overtake the last line, so wait (bounded) for every denial to be printed.
  const auto denied_d2 = event_is("denied", {{"driver", "D2"}});
  for (const auto until = std::chrono::steady_clock::now() + 5s;
       central.all(denied_d2).size() < durations.size() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(central.all(event_is("authorized", {{"driver", "D2"}})).empty());
  BOOST_TEST(central.all(denied_d2).size() == durations.size());

  // On the command lines.
  for (const auto* bad : {"0", "-3", "86401", "99999999999999999999", "5s", "abc"}) {
    d1.send(std::string("charge ALC1 ") + bad);
    auto e = d1.expect(event_is("error", {{"code", "bad_command"}}), 10s, std::string("driver refuses ") + bad);
    BOOST_TEST(str(e, "message").find("seconds") != std::string::npos, str(e, "message"));
    monitor.send(std::string("charge ") + bad);
    auto l = monitor.expect(event_is("local_charge"), 10s, std::string("monitor refuses ") + bad);
    BOOST_TEST(!flag(l, "ok"));
    BOOST_TEST(str(l, "reason").find("seconds") != std::string::npos, str(l, "reason"));
  }
  BOOST_TEST(d1.all(event_is("requested")).empty());

  // A sound request still works.
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_request_file_full_of_mistakes_reports_them_by_line_and_runs_the_rest) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  net.start_cp("ALC2");
  const std::string path = net.dir().file("requests.txt");
  {
    std::ofstream out{path, std::ios::binary};
    out << "# services for the hostile test\n"   // 1
        << "\n"                                   // 2
        << "   \t  \n"                            // 3
        << "ALC1 2\n"                             // 4 runs
        << "NOPE9 3\n"                            // 5 runs, denied: unknown CP
        << "this line is garbage\n"               // 6 error
        << "ALC2 abc\n"                           // 7 error
        << "ALC2 0\n"                             // 8 error
        << "ALC1 -4\n"                            // 9 error
        << "\t# an indented comment\n"            // 10
        << "ALC2 3\r\n"                           // 11 runs (CRLF)
        << "ALC1 999999\n"                        // 12 error
        << "caf\xc3\xa9 2\n"                      // 13 error: not an id
        << std::string("\x01\x02\xff", 3) << "\n" // 14 error: binary garbage
        << "MAD1 1";                              // 15 runs, denied: disconnected (no newline at the end)
  }
  auto& driver = net.start_driver("D1");
  driver.send("file " + path);
  auto file = driver.expect(event_is("file"), 10s, "file");
  BOOST_TEST(num(file, "services") == 4.0);
  std::vector<double> lines;
  for (const auto& e : rows_of(file, "errors")) {
    lines.push_back(num(e, "line"));
    BOOST_TEST(!str(e, "message").empty());
  }
  const std::vector<double> expected_lines{6, 7, 8, 9, 12, 13, 14};
  BOOST_TEST(lines == expected_lines, boost::test_tools::per_element());

  auto t1 = driver.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "ALC1 ticket");
  check_ticket(t1, "ALC1", "D1", 2.0, 0.35, "completed");
  auto unknown = driver.expect(event_is("denied", {{"cp", "NOPE9"}}), 20s, "NOPE9 denied");
  BOOST_TEST(str(unknown, "reason").find("not registered") != std::string::npos, str(unknown, "reason"));
  auto t2 = driver.expect(event_is("ticket", {{"cp", "ALC2"}}), 30s, "ALC2 ticket");
  check_ticket(t2, "ALC2", "D1", 3.0, 0.42, "completed");
  auto away = driver.expect(event_is("denied", {{"cp", "MAD1"}}), 20s, "MAD1 denied");
  BOOST_TEST(str(away, "reason").find("disconnected") != std::string::npos, str(away, "reason"));
  auto done = driver.expect(event_is("file_done"), 20s, "file done");
  BOOST_TEST(num(done, "done") == 2.0);
  BOOST_TEST(num(done, "failed") == 2.0);
  BOOST_TEST(driver.all(event_is("ticket")).size() == 2u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(every_refusal_has_a_reason_unknown_busy_broken_stopped_disconnected) {
  auto cps = three_cps();
  cps.push_back({"VAL1", "Plaza del Ayuntamiento 1, Valencia", 0.40});
  network net{cps};
  auto& central = net.start_central();
  auto& alc1 = net.start_cp("ALC1");
  net.start_cp("ALC2");
  net.start_cp("MAD1");
  auto& d1 = net.start_driver("D1");
  auto& d2 = net.start_driver("D2");
  d2.send("charge ALC1 6");
  d2.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "D2 charging at ALC1");
  net.engine("ALC2").send("fault");
  central.expect(state_of("ALC2", "BROKEN"), 10s, "ALC2 BROKEN");
  central.send("stop MAD1");
  central.expect(state_of("MAD1", "OUT_OF_ORDER"), 10s, "MAD1 OUT_OF_ORDER");

  const std::vector<std::pair<std::string, std::string>> cases{{"NOPE1", "not registered"},
                                                               {"ALC1", "busy"},
                                                               {"ALC2", "broken"},
                                                               {"MAD1", "out of order"},
                                                               {"VAL1", "disconnected"}};
  for (const auto& [cp, why] : cases) {
    d1.send("charge " + cp + " 2");
    auto denied = d1.expect(event_is("denied", {{"cp", cp}}), 15s, cp + " denied");
    BOOST_TEST(str(denied, "reason").find(why) != std::string::npos, cp << ": " << str(denied, "reason"));
    BOOST_TEST(str(denied, "reason").find(cp) != std::string::npos, cp << ": " << str(denied, "reason"));
    auto at_central = central.expect(event_is("denied", {{"driver", "D1"}, {"cp", cp}}), 10s, cp + " at Central");
    BOOST_TEST(str(at_central, "reason") == str(denied, "reason"));
  }
  // The CP itself refuses a local charge while busy, with the same words.
  alc1.send("charge 2");
  auto local = alc1.expect(event_is("local_charge"), 15s, "local charge at a busy CP");
  BOOST_TEST(!flag(local, "ok"));
  BOOST_TEST(str(local, "reason").find("busy") != std::string::npos, str(local, "reason"));

  // The only charge that was admitted runs to its end.
  auto ticket = d2.expect(event_is("ticket", {{"cp", "ALC1"}}), 20s, "D2 ticket");
  check_ticket(ticket, "ALC1", "D2", 6.0, 0.35, "completed");
  BOOST_TEST(d1.all(event_is("authorized")).empty());
  BOOST_TEST(d1.all(event_is("ticket")).empty());
  BOOST_TEST(d2.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_driver_cannot_settle_another_drivers_ticket) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  d1.send("charge ALC1 2");
  auto authorized = d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized");
  const auto charge_id = str(authorized, "charge_id");
  d1.kill_hard();
  central.expect(event_is("ticket", {{"cp", "ALC1"}, {"charge_id", charge_id}}), 20s, "ticket stored");

  // D2, over a raw link, tries to acknowledge D1's ticket.
  raw_dealer d2{"tcp://127.0.0.1:" + std::to_string(net.central_port()), "raw-driver-D2",
                client_keys(net.keys_dir(), "driver-D2")};
  d2.send(protocol::driver_hello{"D2"}, 1);
  auto hello = d2.receive(10s);
  BOOST_REQUIRE(hello);
  BOOST_REQUIRE(hello->is<protocol::ack>());
  BOOST_TEST(hello->as<protocol::ack>().ok);
  d2.send(protocol::ticket_ack{"ALC1", charge_id}, 2);

  // D1 comes back and is still owed its ticket, exactly as billed.
  auto& again = net.start_driver("D1");
  // The ticket may come before the CP list that start_driver waits for.
  auto ticket = again.expect_ever(event_is("ticket", {{"charge_id", charge_id}}), 20s, "ticket delivered to D1");
  BOOST_TEST(num(ticket, "kwh") == 2.0);
  BOOST_TEST(num(ticket, "amount") == 0.70);
  BOOST_TEST(str(ticket, "driver") == "D1");
}

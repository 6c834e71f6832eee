#define BOOST_TEST_MODULE domain_driver_runner
#include <boost/test/unit_test.hpp>

#include "evnet/domain/driver_runner.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

// Every rule of the driver on simulated time: `now` is a plain integer that
// the tests move; nothing sleeps.

using namespace evnet;
using namespace evnet::domain;
using R = driver_runner;

namespace {

constexpr std::int64_t t0 = 1'000'000;

const json::value& field(const notice& n, const std::string& key) {
  const auto it = n.fields.find(key);
  BOOST_REQUIRE_MESSAGE(it != n.fields.end(), n.name << " has no " << key);
  return it->second;
}

std::string str(const notice& n, const std::string& key) { return field(n, key).get<std::string>(); }
std::int64_t num(const notice& n, const std::string& key) { return field(n, key).get<std::int64_t>(); }
double real(const notice& n, const std::string& key) { return field(n, key).get<double>(); }

std::vector<std::string> names(const std::vector<notice>& ns) {
  std::vector<std::string> out;
  for (const auto& n : ns) {
    out.push_back(n.name);
  }
  return out;
}

template <class T>
std::vector<T> of(const std::vector<outgoing>& sends) {
  std::vector<T> out;
  for (const auto& s : sends) {
    BOOST_TEST(s.to == "central");
    if (const auto* b = std::get_if<T>(&s.body)) {
      out.push_back(*b);
    }
  }
  return out;
}

protocol::charge_record record(const std::string& cp, const std::string& charge_id, double kwh = 1.5) {
  protocol::charge_record r;
  r.cp_id = cp;
  r.charge_id = charge_id;
  r.driver_id = "D1";
  r.kwh = kwh;
  r.price = 0.5;
  r.amount = kwh * 0.5;
  r.start_ms = t0;
  r.end_ms = t0 + 5000;
  r.reason = end_reason::completed;
  return r;
}

// A runner with a simulated clock; its outbox is drained into `sends` and
// `events` after every input.
struct fixture {
  R r{driver_runner_settings{"D1", "central.example:7000", 0}};
  std::int64_t now = t0;
  std::vector<outgoing> sends;
  std::vector<notice> events;

  void drain() {
    for (auto& s : r.out().take_sends()) {
      sends.push_back(std::move(s));
    }
    for (auto& n : r.out().take_notices()) {
      events.push_back(std::move(n));
    }
    BOOST_TEST(r.out().take_updates().empty());
  }
  std::vector<outgoing> take_sends() {
    drain();
    return std::exchange(sends, {});
  }
  std::vector<notice> take_events() {
    drain();
    return std::exchange(events, {});
  }
  void clear() {
    drain();
    sends.clear();
    events.clear();
  }

  // Moves the clock in steps of `step` ms (the actor ticks every 250 ms).
  void advance(std::int64_t ms, std::int64_t step = 250) {
    const std::int64_t end = now + ms;
    while (now < end) {
      now = std::min(end, now + step);
      r.on_tick(now);
    }
    drain();
  }
  template <class T>
  void central(T body) {
    r.on_central(protocol::make("central", std::move(body)), now);
    drain();
  }
  void connect() {
    r.on_connected(now);
    drain();
  }
  void disconnect() {
    r.on_disconnected(now);
    drain();
  }
  void console(const std::string& line) {
    auto cmd = parse_driver_command(line);
    if (cmd) {
      r.on_console(*cmd, now);
    } else {
      r.on_bad_command(cmd.err(), now);
    }
    drain();
  }
  void run_file(const std::string& path, const std::string& content) {
    r.start_file(path, parse_request_file(content), now);
    drain();
  }
  // Connected, with the table loaded; outputs cleared.
  void ready() {
    connect();
    central(protocol::snapshot{1, {}});
    clear();
  }
  // Requests a charge at `cp` and returns its request id.
  std::string charge(const std::string& cp) {
    console("charge " + cp);
    const auto reqs = of<protocol::charge_request>(take_sends());
    BOOST_REQUIRE(reqs.size() == 1u);
    return reqs[0].request_id;
  }
  void authorize(const std::string& cp, const std::string& request_id, const std::string& charge_id) {
    central(protocol::charge_reply{true, "", cp, charge_id, request_id});
  }
  void supply(const std::string& cp, const std::string& charge_id, double kwh) {
    central(protocol::progress{cp, charge_id, kwh, kwh * 0.5});
  }
  void ticket(const std::string& cp, const std::string& charge_id) {
    central(protocol::ticket{record(cp, charge_id)});
  }
};

} // namespace

// ---- link and hello -----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(started_names_the_driver_and_central, fixture) {
  r.start(now);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "started");
  BOOST_TEST(str(e[0], "driver") == "D1");
  BOOST_TEST(str(e[0], "central") == "central.example:7000");
  BOOST_TEST(take_sends().empty());
}

BOOST_FIXTURE_TEST_CASE(connected_says_hello_and_asks_for_the_table, fixture) {
  advance(10'000);
  BOOST_TEST(take_sends().empty());  // nothing is offered to a link that is not up
  connect();
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "central");
  BOOST_TEST(str(e[0], "status") == "connected");
  BOOST_TEST(str(e[0], "text") == "connected to CENTRAL at central.example:7000");
  const auto s = take_sends();
  BOOST_REQUIRE(of<protocol::driver_hello>(s).size() == 1u);
  BOOST_TEST(of<protocol::driver_hello>(s)[0].driver_id == "D1");
  BOOST_TEST(of<protocol::snapshot_request>(s).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(hello_every_five_seconds_while_up_only, fixture) {
  ready();
  advance(R::hello_every_ms - 250);
  BOOST_TEST(of<protocol::driver_hello>(take_sends()).empty());
  advance(250);
  BOOST_TEST(of<protocol::driver_hello>(take_sends()).size() == 1u);
  advance(3 * R::hello_every_ms);
  BOOST_TEST(of<protocol::driver_hello>(take_sends()).size() == 3u);
  disconnect();
  advance(3 * R::hello_every_ms);
  BOOST_TEST(take_sends().empty());
}

BOOST_FIXTURE_TEST_CASE(unreachable_is_told_once_per_outage, fixture) {
  disconnect();  // the link never came up
  disconnect();
  auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(str(e[0], "status") == "unreachable");
  BOOST_TEST(str(e[0], "text") == "cannot reach CENTRAL at central.example:7000, retrying");
  connect();
  disconnect();
  disconnect();
  e = take_events();
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(str(e[0], "status") == "connected");
  BOOST_TEST(str(e[1], "status") == "unreachable");
}

BOOST_FIXTURE_TEST_CASE(unauthenticated_says_hello_again_and_repeats_the_request, fixture) {
  ready();
  const auto id = charge("ALC1");
  central(protocol::error_reply{errc::unauthenticated, ""});
  const auto s = take_sends();
  BOOST_TEST(of<protocol::driver_hello>(s).size() == 1u);
  BOOST_TEST(of<protocol::snapshot_request>(s).size() == 1u);
  const auto reqs = of<protocol::charge_request>(s);
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].request_id == id);
  // reintroduce() is the same input, for an owner that recognises it first.
  r.reintroduce(now);
  BOOST_TEST(of<protocol::charge_request>(take_sends()).size() == 1u);
  // Other errors decide nothing.
  clear();
  central(protocol::error_reply{errc::malformed, "x"});
  BOOST_TEST(take_sends().empty());
  BOOST_TEST(take_events().empty());
}

BOOST_FIXTURE_TEST_CASE(a_refused_hello_is_reported_once, fixture) {
  ready();
  central(protocol::ack{false, "driver D1 is not registered"});
  central(protocol::ack{false, "driver D1 is not registered"});
  auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "error");
  BOOST_TEST(str(e[0], "code") == "unknown_driver");
  BOOST_TEST(str(e[0], "message") == "driver D1 is not registered");
  central(protocol::ack{true, ""});
  central(protocol::ack{false, "driver D1 is not registered"});
  BOOST_TEST(take_events().size() == 1u);
}

// ---- one charge -------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_request_has_an_id_from_the_driver_the_time_and_a_counter, fixture) {
  ready();
  const auto first = charge("ALC1");
  BOOST_TEST(first == "D1-" + std::to_string(t0) + "-1");
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "requested");
  BOOST_TEST(str(e[0], "cp") == "ALC1");
  BOOST_TEST(num(e[0], "duration") == 0);
  BOOST_TEST(str(e[0], "request_id") == first);
  central(protocol::charge_reply{false, "CP ALC1 is busy", "ALC1", "", first});
  clear();
  now += 10;
  BOOST_TEST(charge("ALC1") == "D1-" + std::to_string(t0 + 10) + "-2");
}

BOOST_FIXTURE_TEST_CASE(durations_come_from_the_command_or_the_default, fixture) {
  R timed{driver_runner_settings{"D1", "c:1", 30}};
  timed.on_connected(now);
  timed.out().take_sends();
  timed.on_console(driver_command{driver_cmd::charge{"ALC1", std::nullopt}}, now);
  auto reqs = of<protocol::charge_request>(timed.out().take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].duration_s == 30);
  BOOST_TEST(reqs[0].driver_id == "D1");
  BOOST_TEST(reqs[0].cp_id == "ALC1");
  timed.on_central(protocol::make("central", protocol::charge_reply{false, "no", "ALC1", "", reqs[0].request_id}), now);
  timed.on_console(driver_command{driver_cmd::charge{"ALC1", 7}}, now);
  reqs = of<protocol::charge_request>(timed.out().take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].duration_s == 7);
}

BOOST_FIXTURE_TEST_CASE(one_charge_at_a_time, fixture) {
  ready();
  charge("ALC1");
  clear();
  console("charge MAD1");
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "error");
  BOOST_TEST(str(e[0], "code") == "busy");
  BOOST_TEST(str(e[0], "message") == "a charge at ALC1 is already in progress");
  BOOST_TEST(take_sends().empty());
}

BOOST_FIXTURE_TEST_CASE(the_same_request_is_resent_every_4_s_up_to_3_attempts, fixture) {
  ready();
  const auto id = charge("ALC1");
  clear();
  advance(R::request_timeout_ms - 250);
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());
  advance(250);
  auto reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);  // attempt 2
  BOOST_TEST(reqs[0].request_id == id);
  advance(R::request_timeout_ms);
  reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);  // attempt 3
  BOOST_TEST(reqs[0].request_id == id);
  clear();
  advance(R::request_timeout_ms - 250);
  BOOST_TEST(take_events().empty());
  advance(250);
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());  // no fourth
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "denied");
  BOOST_TEST(str(e[0], "cp") == "ALC1");
  BOOST_TEST(str(e[0], "reason") == "cannot reach CENTRAL at central.example:7000 (no answer)");
  BOOST_TEST(!r.charging());
  // An answer to the abandoned request changes nothing.
  authorize("ALC1", id, "c1");
  BOOST_TEST(take_events().empty());
}

BOOST_FIXTURE_TEST_CASE(no_resend_while_the_link_is_down_then_denied, fixture) {
  ready();
  charge("ALC1");
  disconnect();
  clear();
  advance(R::request_timeout_ms);
  BOOST_TEST(take_sends().empty());
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "denied");
}

BOOST_FIXTURE_TEST_CASE(a_reconnect_resends_the_request_in_flight, fixture) {
  ready();
  const auto id = charge("ALC1");
  advance(1000);
  disconnect();
  advance(1000);
  connect();  // the request may have died with the link: send it again
  auto reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].request_id == id);
  // Its deadline starts again from the re-send.
  advance(R::request_timeout_ms - 250);
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());
  advance(250);
  BOOST_TEST(of<protocol::charge_request>(take_sends()).size() == 1u);
  // An authorised charge is not requested again on reconnect.
  authorize("ALC1", id, "c1");
  disconnect();
  connect();
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());
}

BOOST_FIXTURE_TEST_CASE(a_request_before_the_link_is_up_waits_for_it, fixture) {
  console("charge ALC1");
  auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "requested");
  const auto id = str(e[0], "request_id");
  BOOST_TEST(take_sends().empty());  // it would be dropped: not offered
  advance(2000);
  connect();
  const auto reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].request_id == id);
}

BOOST_FIXTURE_TEST_CASE(a_request_that_never_sees_the_link_is_denied_at_its_deadline, fixture) {
  console("charge ALC1");
  clear();
  advance(R::request_timeout_ms);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "denied");
  BOOST_TEST(str(e[0], "reason") == "cannot reach CENTRAL at central.example:7000 (no answer)");
}

BOOST_FIXTURE_TEST_CASE(denied_at_once_when_central_is_known_down, fixture) {
  disconnect();
  clear();
  console("charge ALC1");
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(e[0].name == "requested");
  BOOST_TEST(e[1].name == "denied");
  BOOST_TEST(str(e[1], "cp") == "ALC1");
  BOOST_TEST(str(e[1], "reason") == "cannot reach CENTRAL at central.example:7000");
  BOOST_TEST(take_sends().empty());
  BOOST_TEST(!r.charging());
}

BOOST_FIXTURE_TEST_CASE(denied_by_central, fixture) {
  ready();
  const auto id = charge("ALC1");
  clear();
  central(protocol::charge_reply{false, "CP refused: broken", "ALC1", "", "someone-else"});
  BOOST_TEST(take_events().empty());  // not our request
  central(protocol::charge_reply{false, "CP refused: broken", "ALC1", "", id});
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "denied");
  BOOST_TEST(str(e[0], "reason") == "CP refused: broken");
  BOOST_TEST(!r.charging());
}

BOOST_FIXTURE_TEST_CASE(authorized_plugged_once_progress_and_the_ticket, fixture) {
  ready();
  const auto id = charge("ALC1");
  clear();
  authorize("ALC1", id, "c1");
  authorize("ALC1", id, "c1");  // the answer to a retry: already authorised
  auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "authorized");
  BOOST_TEST(str(e[0], "cp") == "ALC1");
  BOOST_TEST(str(e[0], "charge_id") == "c1");

  supply("ALC1", "other", 0.5);  // not ours
  supply("ALC1", "c1", 0.1);
  supply("ALC1", "c1", 0.2);
  e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"plugged", "progress", "progress"}));
  BOOST_TEST(str(e[0], "charge_id") == "c1");
  BOOST_TEST(e[2].fields.size() == 4u);

  // A charge that supplies is never given up, however long it lasts.
  advance(3 * R::plug_wait_ms);
  BOOST_TEST(take_events().empty());
  BOOST_TEST(r.charging());

  ticket("ALC1", "c1");
  e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "ticket");
  for (const char* key : {"cp", "charge_id", "driver", "kwh", "price", "amount", "start", "end", "reason"}) {
    BOOST_TEST((e[0].fields.find(key) != e[0].fields.end()));
  }
  BOOST_TEST(str(e[0], "reason") == "completed");
  const auto acks = of<protocol::ticket_ack>(take_sends());
  BOOST_REQUIRE(acks.size() == 1u);
  BOOST_TEST(acks[0].cp_id == "ALC1");
  BOOST_TEST(acks[0].charge_id == "c1");
  BOOST_TEST(!r.charging());
}

BOOST_FIXTURE_TEST_CASE(every_ticket_is_acked_and_shown_once, fixture) {
  ready();
  ticket("ALC1", "c1");
  ticket("ALC1", "c1");  // a resend
  ticket("MAD1", "c1");  // same charge id at another CP: another ticket
  ticket("ALC1", "c1");
  BOOST_TEST(of<protocol::ticket_ack>(take_sends()).size() == 4u);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(str(e[0], "cp") == "ALC1");
  BOOST_TEST(str(e[1], "cp") == "MAD1");
}

BOOST_FIXTURE_TEST_CASE(a_ticket_for_another_charge_does_not_end_the_current_one, fixture) {
  ready();
  const auto id = charge("ALC1");
  authorize("ALC1", id, "c2");
  ticket("MAD1", "c9");
  BOOST_TEST(r.charging());
}

BOOST_FIXTURE_TEST_CASE(an_authorised_charge_that_never_starts_is_given_up_after_70_s, fixture) {
  ready();
  const auto id = charge("ALC1");
  authorize("ALC1", id, "c1");
  clear();
  advance(R::plug_wait_ms - 250);
  BOOST_TEST(take_events().empty());
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());  // never requested again
  advance(250);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "interrupted");
  BOOST_TEST(str(e[0], "cp") == "ALC1");
  BOOST_TEST(str(e[0], "charge_id") == "c1");
  BOOST_TEST(real(e[0], "kwh") == 0.0);
  BOOST_TEST(str(e[0], "reason") == "the charge never started (not plugged in)");
  BOOST_TEST(!r.charging());
  // Its ticket (0 kWh, never plugged) may still come: shown and acked.
  central(protocol::ticket{record("ALC1", "c1", 0.0)});
  BOOST_TEST(names(take_events()) == std::vector<std::string>{"ticket"});
}

BOOST_FIXTURE_TEST_CASE(interrupted_is_shown_and_frees_the_driver, fixture) {
  ready();
  const auto id = charge("ALC1");
  authorize("ALC1", id, "c1");
  supply("ALC1", "c1", 1.0);
  clear();
  central(protocol::charge_interrupted{"MAD1", "c7", 0.5, 0.25, "engine fault"});  // not ours: shown
  BOOST_TEST(r.charging());
  central(protocol::charge_interrupted{"ALC1", "c1", 1.2, 0.6, "engine fault"});
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 2u);
  BOOST_TEST(e[1].name == "interrupted");
  BOOST_TEST(str(e[1], "reason") == "engine fault");
  BOOST_TEST(real(e[1], "kwh") == 1.2);
  BOOST_TEST(!r.charging());
  charge("MAD1");  // free to go on
}

// ---- console ----------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(list_needs_the_table, fixture) {
  console("list");
  auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "error");
  BOOST_TEST(str(e[0], "code") == "unreachable");
  BOOST_TEST(str(e[0], "message") == "cannot reach CENTRAL at central.example:7000: no CP list yet");
  connect();
  protocol::cp_info a;
  a.cp_id = "ALC1";
  a.state = cp_state::active;
  central(protocol::snapshot{3, {a}});
  clear();
  console("list");
  e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "cps");
  BOOST_TEST(field(e[0], "cps").size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(the_stream_feeds_the_table, fixture) {
  ready();  // snapshot at seq 1
  protocol::cp_info a;
  a.cp_id = "ALC1";
  a.state = cp_state::busy;
  r.on_stream(protocol::make("central", protocol::cp_update{2, a}), now);
  r.on_stream(protocol::make("central", protocol::heartbeat{}), now);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "cp_state");
  BOOST_TEST(str(e[0], "state") == "BUSY");
  BOOST_TEST(r.table().seq() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_bad_command_is_an_error_event, fixture) {
  console("fly ALC1");
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "error");
  BOOST_TEST(str(e[0], "code") == "bad_command");
  BOOST_TEST(str(e[0], "message") ==
             "unknown command 'fly ALC1' (try: list, charge <CP> [SECONDS], file <PATH>, quit)");
  console("");
  console("quit");  // the owner's to carry out
  BOOST_TEST(take_events().empty());
  BOOST_TEST(take_sends().empty());
}

// ---- files --------------------------------------------------------------------------------

namespace {

// Serves the current request the way Central and a CP would: authorise,
// supply, ticket (or deny). Returns the CP asked for.
std::string serve(fixture& f, bool ok, const std::string& charge_id) {
  const auto reqs = of<protocol::charge_request>(f.take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  const auto& q = reqs[0];
  if (!ok) {
    f.central(protocol::charge_reply{false, "CP " + q.cp_id + " is broken", q.cp_id, "", q.request_id});
    return q.cp_id;
  }
  f.authorize(q.cp_id, q.request_id, charge_id);
  f.advance(1000);
  f.supply(q.cp_id, charge_id, 0.5);
  f.advance(q.duration_s * 1000);
  f.ticket(q.cp_id, charge_id);
  return q.cp_id;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_twelve_line_file_runs_in_order_with_4_s_pauses, fixture) {
  ready();
  const std::string content =
      "# twelve services\n"
      "ALC1 3\nALC2 4\nMAD1 5\nMAD2 3\nVLC1 4\nVLC2 5\n"
      "SVQ1 3\nSVQ2 4\nBIO1 5\nBIO2 3\nZAZ1 4\nZAZ2\n";
  const std::vector<std::string> cps{"ALC1", "ALC2", "MAD1", "MAD2", "VLC1", "VLC2",
                                     "SVQ1", "SVQ2", "BIO1", "BIO2", "ZAZ1", "ZAZ2"};
  run_file("requests.txt", content);
  BOOST_TEST(r.running_file());
  auto e = take_events();
  BOOST_REQUIRE(e.size() >= 3u);
  BOOST_TEST(e[0].name == "file");
  BOOST_TEST(str(e[0], "path") == "requests.txt");
  BOOST_TEST(num(e[0], "services") == 12);
  BOOST_TEST(field(e[0], "errors").empty());

  for (std::size_t i = 0; i < cps.size(); ++i) {
    BOOST_TEST_CONTEXT("service " << i + 1) {
      if (i > 0) {
        e = take_events();
      } else {
        e.erase(e.begin());
      }
      BOOST_REQUIRE(e.size() == 2u);
      BOOST_TEST(e[0].name == "service");
      BOOST_TEST(num(e[0], "index") == static_cast<std::int64_t>(i + 1));
      BOOST_TEST(num(e[0], "total") == 12);
      BOOST_TEST(str(e[0], "cp") == cps[i]);
      BOOST_TEST(str(e[0], "status") == "running");
      BOOST_TEST(e[1].name == "requested");
      BOOST_TEST(str(e[1], "cp") == cps[i]);

      const bool ok = i != 6;  // SVQ1 is refused
      BOOST_TEST(serve(*this, ok, "c" + std::to_string(i + 1)) == cps[i]);
      e = take_events();
      BOOST_REQUIRE(e.size() >= 3u);
      const auto n = e.size();
      BOOST_TEST(e[n - 2].name == "service");
      BOOST_TEST(num(e[n - 2], "index") == static_cast<std::int64_t>(i + 1));
      BOOST_TEST(str(e[n - 2], "status") == (ok ? "done" : "failed"));
      BOOST_TEST(e[n - 1].name == "waiting");
      BOOST_TEST(num(e[n - 1], "seconds") == 4);

      // The pause runs on the runner's own deadline: nothing before 4 s.
      advance(R::pause_between_services_ms - 250);
      BOOST_TEST(take_events().empty());
      BOOST_TEST(of<protocol::charge_request>(sends).empty());
      advance(250);
    }
  }
  e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "file_done");
  BOOST_TEST(str(e[0], "path") == "requests.txt");
  BOOST_TEST(num(e[0], "done") == 11);
  BOOST_TEST(num(e[0], "failed") == 1);
  BOOST_TEST(!r.running_file());
  BOOST_TEST(!r.charging());
}

BOOST_FIXTURE_TEST_CASE(a_file_service_without_seconds_uses_the_default_duration, fixture) {
  R timed{driver_runner_settings{"D1", "c:1", 30}};
  timed.on_connected(now);
  timed.out().take_sends();
  timed.start_file("f", parse_request_file("ALC1\nMAD1 5\n"), now);
  const auto reqs = of<protocol::charge_request>(timed.out().take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].duration_s == 30);
}

BOOST_FIXTURE_TEST_CASE(file_lines_in_error_are_reported_and_the_rest_runs, fixture) {
  ready();
  run_file("f.txt", "ALC1 3\nALC1 0\nMAD1 x y\n");
  const auto e = take_events();
  BOOST_REQUIRE(!e.empty());
  BOOST_TEST(e[0].name == "file");
  BOOST_TEST(num(e[0], "services") == 1);
  const auto& errors = field(e[0], "errors");
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].at("line").get<int>() == 2);
  BOOST_TEST(errors[0].at("text").get<std::string>() == "ALC1 0");
  BOOST_TEST(errors[1].contains("message"));
}

BOOST_FIXTURE_TEST_CASE(a_file_that_cannot_be_read_is_an_error, fixture) {
  ready();
  r.start_file("/nope", load_request_file("/nonexistent/evnet/requests.txt"), now);
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "error");
  BOOST_TEST(str(e[0], "code") == "file");
  BOOST_TEST(!r.running_file());
}

BOOST_FIXTURE_TEST_CASE(one_file_at_a_time, fixture) {
  ready();
  run_file("a.txt", "ALC1 3\n");
  clear();
  run_file("b.txt", "MAD1 3\n");
  const auto e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(str(e[0], "code") == "busy");
  BOOST_TEST(str(e[0], "message") == "file a.txt is still running");
}

BOOST_FIXTURE_TEST_CASE(an_empty_file_is_done_at_once, fixture) {
  ready();
  run_file("empty.txt", "# nothing\n");
  BOOST_TEST((names(take_events()) == std::vector<std::string>{"file", "file_done"}));
  BOOST_TEST(!r.running_file());
}

BOOST_FIXTURE_TEST_CASE(a_file_given_during_a_single_charge_starts_when_it_ends, fixture) {
  ready();
  const auto id = charge("ALC1");
  authorize("ALC1", id, "c1");
  clear();
  run_file("f.txt", "MAD1 3\n");
  BOOST_TEST(names(take_events()) == std::vector<std::string>{"file"});
  BOOST_TEST(of<protocol::charge_request>(take_sends()).empty());
  ticket("ALC1", "c1");
  // The single charge is not a service of the file: no service result, no
  // pause; the file's first service starts at once.
  const auto e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"ticket", "service", "requested"}));
  BOOST_TEST(str(e[1], "status") == "running");
  BOOST_TEST(str(e[1], "cp") == "MAD1");
  const auto reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].cp_id == "MAD1");
}

BOOST_FIXTURE_TEST_CASE(a_single_charge_in_a_pause_delays_the_next_service, fixture) {
  ready();
  run_file("f.txt", "ALC1 3\nMAD1 3\n");
  serve(*this, true, "c1");
  clear();
  advance(1000);
  const auto id = charge("VLC1");  // typed during the pause
  advance(R::pause_between_services_ms);
  for (const auto& q : of<protocol::charge_request>(take_sends())) {
    BOOST_TEST(q.cp_id == "VLC1");  // its retry; nothing for the file yet
  }
  BOOST_TEST(names(take_events()) == std::vector<std::string>{"requested"});
  central(protocol::charge_reply{false, "no", "VLC1", "", id});
  const auto e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"denied", "service", "requested"}));
  BOOST_TEST(num(e[1], "index") == 2);
  BOOST_TEST(str(e[1], "cp") == "MAD1");
}

BOOST_FIXTURE_TEST_CASE(a_service_denied_while_central_is_down_fails_and_the_file_goes_on, fixture) {
  disconnect();
  clear();
  run_file("f.txt", "ALC1 3\nMAD1 3\n");
  auto e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"file", "service", "requested", "denied", "service", "waiting"}));
  BOOST_TEST(str(e[4], "status") == "failed");
  advance(R::pause_between_services_ms);
  e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"service", "requested", "denied", "service", "waiting"}));
  advance(R::pause_between_services_ms);
  e = take_events();
  BOOST_REQUIRE(e.size() == 1u);
  BOOST_TEST(e[0].name == "file_done");
  BOOST_TEST(num(e[0], "done") == 0);
  BOOST_TEST(num(e[0], "failed") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_file_service_retries_like_any_request, fixture) {
  ready();
  run_file("f.txt", "ALC1 3\n");
  const auto id = of<protocol::charge_request>(take_sends()).at(0).request_id;
  advance(R::request_timeout_ms);
  advance(R::request_timeout_ms);
  const auto reqs = of<protocol::charge_request>(take_sends());
  BOOST_REQUIRE(reqs.size() == 2u);
  BOOST_TEST(reqs[0].request_id == id);
  BOOST_TEST(reqs[1].request_id == id);
  clear();
  advance(R::request_timeout_ms);
  const auto e = take_events();
  BOOST_TEST((names(e) == std::vector<std::string>{"denied", "service", "waiting"}));
  BOOST_TEST(str(e[1], "status") == "failed");
}

// ---- deadlines ----------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(next_deadline_names_the_earliest_thing_to_do, fixture) {
  BOOST_TEST(!r.next_deadline().has_value());
  connect();
  BOOST_REQUIRE(r.next_deadline().has_value());
  BOOST_TEST(*r.next_deadline() == now + R::hello_every_ms);
  central(protocol::snapshot{1, {}});
  now += 100;
  const auto id = charge("ALC1");
  BOOST_TEST(*r.next_deadline() == now + R::request_timeout_ms);
  authorize("ALC1", id, "c1");
  BOOST_TEST(*r.next_deadline() == t0 + R::hello_every_ms);
}

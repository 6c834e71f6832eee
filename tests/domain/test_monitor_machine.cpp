#define BOOST_TEST_MODULE domain_monitor_machine
#include <boost/test/unit_test.hpp>

#include "evnet/domain/monitor_machine.hpp"

#include <string>
#include <vector>

using namespace evnet;
using domain::monitor_machine;
using domain::monitor_command;
using domain::monitor_verb;

namespace {

// An arbitrary realistic epoch: 2023-11-14T22:13:20Z.
constexpr std::int64_t t0 = 1'700'000'000'000;
const std::string central_at = "central.local:7000";
const std::string engine_at = "engine.local:6000";
const protocol::cp_config config{"ALC1", "C/ Italia 5, Alicante", 0.35};

// The machine on a simulated clock, with everything it produced kept in order.
struct rig {
  std::int64_t now = t0;
  monitor_machine m{domain::monitor_setup{"ALC1", engine_at, central_at}, t0};
  std::vector<domain::outgoing> sent;
  std::vector<domain::notice> notices;
  bool engine_answers = false;  // answer every health check at once
  bool engine_ok = true;
  bool engine_configured = true;

  rig() { drain(); }

  void drain() {
    for (auto& s : m.out().take_sends()) {
      sent.push_back(std::move(s));
    }
    for (auto& n : m.out().take_notices()) {
      notices.push_back(std::move(n));
    }
  }
  void clear() {
    drain();
    sent.clear();
    notices.clear();
  }

  template <class T>
  void from_central(T body, std::uint64_t corr = 0) {
    m.on_central(protocol::make("central", std::move(body), corr), now);
    drain();
  }
  template <class T>
  void from_engine(T body, std::uint64_t corr = 0) {
    m.on_engine(protocol::make("engine:ALC1", std::move(body), corr), now);
    drain();
  }
  void console(std::string_view line) {
    m.on_console(domain::parse_monitor_command(line), now);
    drain();
  }

  // One tick at `now`; a live Engine answers its health check at once.
  void tick() {
    m.on_tick(now);
    drain();
    if (engine_answers) {
      protocol::health_reply h;
      h.ok = engine_ok;
      h.configured = engine_configured;
      h.state = engine_ok ? cp_state::active : cp_state::broken;
      from_engine(h, 0);
    }
  }
  // Moves time forward by `ms`, ticking every second on the way.
  void run(std::int64_t ms) {
    const auto end = now + ms;
    while (now + monitor_machine::tick_ms <= end) {
      now += monitor_machine::tick_ms;
      tick();
    }
    now = end;
  }

  void connect_and_authenticate() {
    m.on_central_connected(now);
    drain();
    from_central(protocol::cp_auth_reply{true, "", config});
  }

  // ---- what came out ----
  template <class T>
  std::vector<T> bodies(std::string_view to) const {
    std::vector<T> out;
    for (const auto& s : sent) {
      if (s.to == to && std::holds_alternative<T>(s.body)) {
        out.push_back(std::get<T>(s.body));
      }
    }
    return out;
  }
  template <class T>
  std::vector<domain::outgoing> sends(std::string_view to) const {
    std::vector<domain::outgoing> out;
    for (const auto& s : sent) {
      if (s.to == to && std::holds_alternative<T>(s.body)) {
        out.push_back(s);
      }
    }
    return out;
  }
  std::vector<json::object> events(std::string_view name) const {
    std::vector<json::object> out;
    for (const auto& n : notices) {
      if (n.name == name) {
        out.push_back(n.fields);
      }
    }
    return out;
  }
};

std::string text(const json::object& o, const std::string& key) { return o.at(key).get<std::string>(); }
bool flag(const json::object& o, const std::string& key) { return o.at(key).get<bool>(); }

// A rig authenticated with Central and with a healthy Engine, all output cleared.
struct ready : rig {
  ready() {
    engine_answers = true;
    connect_and_authenticate();
    run(1000);
    clear();
  }
};

protocol::authorize_request request(std::string id, std::int64_t duration = 10) {
  return protocol::authorize_request{"ALC1", "D1", duration, std::move(id)};
}

protocol::authorize_reply yes(std::string request_id, std::string charge_id) {
  return protocol::authorize_reply{true, "", std::move(charge_id), "ALC1", std::move(request_id)};
}

} // namespace

// ---- start and authentication ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(started_is_told_once_and_nothing_goes_to_central_before_the_link_is_up) {
  rig r;
  BOOST_TEST_REQUIRE(r.events("started").size() == 1u);
  BOOST_TEST(text(r.events("started")[0], "cp") == "ALC1");
  BOOST_TEST(text(r.events("started")[0], "engine") == engine_at);
  BOOST_TEST(text(r.events("started")[0], "central") == central_at);
  r.run(10'000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").empty());
  BOOST_TEST(r.bodies<protocol::cp_status>("central").empty());
  // The Engine is checked every tick all the same.
  BOOST_TEST(r.bodies<protocol::health_check>("engine").size() == 10u);
}

BOOST_AUTO_TEST_CASE(auth_on_connected_then_every_three_seconds_until_accepted) {
  rig r;
  r.m.on_central_connected(r.now);
  r.drain();
  BOOST_TEST_REQUIRE(r.events("central").size() == 1u);
  BOOST_TEST(text(r.events("central")[0], "status") == "connected");
  BOOST_TEST(text(r.events("central")[0], "text") == "connected to CENTRAL at " + central_at);
  BOOST_TEST_REQUIRE(r.bodies<protocol::cp_auth>("central").size() == 1u);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central")[0].cp_id == "ALC1");
  r.run(2000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 1u);
  r.run(1000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 2u);
  r.run(3000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 3u);
  // Each attempt has its own correlation id.
  const auto auths = r.sends<protocol::cp_auth>("central");
  BOOST_TEST(auths[0].correlation != auths[1].correlation);
  BOOST_TEST(auths[0].correlation != 0u);

  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST(r.m.authenticated());
  r.run(9000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_denial_is_retried_and_auth_events_come_once_per_change) {
  rig r;
  r.m.on_central_connected(r.now);
  r.drain();
  r.from_central(protocol::cp_auth_reply{false, "ALC1 is already connected", {}});
  r.run(3000);
  r.from_central(protocol::cp_auth_reply{false, "ALC1 is already connected", {}});
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 2u);
  BOOST_TEST_REQUIRE(r.events("auth").size() == 1u);
  BOOST_TEST(!flag(r.events("auth")[0], "ok"));
  BOOST_TEST(text(r.events("auth")[0], "reason") == "ALC1 is already connected");
  BOOST_TEST(text(r.events("auth")[0], "cp") == "ALC1");
  r.from_central(protocol::cp_auth_reply{false, "unknown CP ALC1", {}});
  BOOST_TEST(r.events("auth").size() == 2u);
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST_REQUIRE(r.events("auth").size() == 3u);
  const auto ok = r.events("auth")[2];
  BOOST_TEST(flag(ok, "ok"));
  BOOST_TEST(text(ok, "location") == config.location);
  BOOST_TEST(ok.at("price").get<double>() == 0.35);
  // A repeated acceptance is not news.
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST(r.events("auth").size() == 3u);
}

BOOST_AUTO_TEST_CASE(unauthenticated_from_central_authenticates_again_at_once) {
  ready r;
  r.from_central(protocol::error_reply{errc::unauthenticated, "who are you?"});
  BOOST_TEST(!r.m.authenticated());
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 1u);
  // Other errors change nothing.
  r.from_central(protocol::error_reply{errc::unexpected, "no"});
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 1u);
  r.m.on_central_unauthenticated(r.now);
  r.drain();
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 2u);
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST(r.m.authenticated());
  // Authenticated again: that is news for the screen.
  BOOST_TEST(r.events("auth").size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_outage_is_told_once_and_authentication_starts_over_on_reconnect) {
  ready r;
  r.m.on_central_disconnected(r.now);
  r.m.on_central_disconnected(r.now + 1000);  // every failed reconnect attempt
  r.drain();
  BOOST_TEST(!r.m.authenticated());
  BOOST_TEST_REQUIRE(r.events("central").size() == 1u);
  BOOST_TEST(text(r.events("central")[0], "status") == "unreachable");
  BOOST_TEST(text(r.events("central")[0], "text") == "cannot reach CENTRAL at " + central_at + ", retrying");
  r.clear();
  r.run(10'000);
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").empty());  // would be dropped
  BOOST_TEST(r.bodies<protocol::cp_status>("central").empty());
  r.m.on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.bodies<protocol::cp_auth>("central").size() == 1u);
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST_REQUIRE(r.events("auth").size() == 1u);  // a new session is told
  BOOST_TEST(flag(r.events("auth")[0], "ok"));
}

// ---- configuration and status ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_configuration_goes_to_the_engine_after_auth_and_when_it_says_it_has_none) {
  rig r;
  r.m.on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.bodies<protocol::engine_configure>("engine").empty());
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST_REQUIRE(r.bodies<protocol::engine_configure>("engine").size() == 1u);
  BOOST_TEST(r.bodies<protocol::engine_configure>("engine")[0].config.location == config.location);
  r.engine_answers = true;
  r.run(3000);
  BOOST_TEST(r.bodies<protocol::engine_configure>("engine").size() == 1u);
  r.engine_configured = false;  // the Engine restarted
  r.run(1000);
  BOOST_TEST(r.bodies<protocol::engine_configure>("engine").size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_refused_configuration_is_an_error_event) {
  ready r;
  r.from_engine(protocol::engine_configure{config});  // nonsense from the Engine: ignored
  r.m.on_engine_connected(r.now);
  r.drain();
  const auto conf = r.sends<protocol::engine_configure>("engine");
  BOOST_TEST_REQUIRE(conf.size() == 1u);
  r.from_engine(protocol::ack{false, "wrong CP"}, conf[0].correlation);
  BOOST_TEST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "engine");
  BOOST_TEST(text(r.events("error")[0], "message") == "the Engine refused its configuration: wrong CP");
}

BOOST_AUTO_TEST_CASE(status_every_second_while_authenticated_once_the_verdict_is_known) {
  rig r;
  r.connect_and_authenticate();
  r.run(2000);
  BOOST_TEST(r.bodies<protocol::cp_status>("central").empty());  // no verdict yet
  r.run(1000);
  auto statuses = r.bodies<protocol::cp_status>("central");
  BOOST_TEST_REQUIRE(statuses.size() == 1u);
  BOOST_TEST(!statuses[0].engine_ok);
  BOOST_TEST(statuses[0].detail == "no answer from the Engine at " + engine_at);
  r.run(3000);
  BOOST_TEST(r.bodies<protocol::cp_status>("central").size() == 4u);
  // An answer that changes the verdict is told at once, between ticks.
  r.clear();
  r.now += 300;
  r.from_engine(protocol::health_reply{true, true, cp_state::active, false, {}, false, {}});
  statuses = r.bodies<protocol::cp_status>("central");
  BOOST_TEST_REQUIRE(statuses.size() == 1u);
  BOOST_TEST(statuses[0].engine_ok);
  BOOST_TEST(statuses[0].detail.empty());
  BOOST_TEST(statuses[0].cp_id == "ALC1");
}

// An OCPP charge point's Unavailable: the Engine says the CP is out of
// service; Central hears it at once and in every status after, and at once
// again when it is back in service.
BOOST_AUTO_TEST_CASE(out_of_service_is_passed_on_at_once_and_in_every_status) {
  rig r;
  r.connect_and_authenticate();
  r.engine_answers = true;
  r.run(3000);
  BOOST_TEST_REQUIRE(!r.bodies<protocol::cp_status>("central").empty());
  BOOST_TEST(!r.bodies<protocol::cp_status>("central").back().out_of_service);
  r.clear();
  r.now += 300;
  protocol::health_reply h{true, true, cp_state::out_of_order, false, {}, false, {}};
  h.out_of_service = true;
  r.from_engine(h);
  auto statuses = r.bodies<protocol::cp_status>("central");
  BOOST_TEST_REQUIRE(statuses.size() == 1u);  // at once, between ticks
  BOOST_TEST(statuses[0].engine_ok);
  BOOST_TEST(statuses[0].out_of_service);
  r.from_engine(h);
  BOOST_TEST(r.bodies<protocol::cp_status>("central").size() == 1u);  // no change, no extra status
  h.out_of_service = false;
  h.state = cp_state::active;
  r.from_engine(h);
  statuses = r.bodies<protocol::cp_status>("central");
  BOOST_TEST_REQUIRE(statuses.size() == 2u);
  BOOST_TEST(!statuses[1].out_of_service);
}

BOOST_AUTO_TEST_CASE(engine_events_on_every_answer_and_on_every_change) {
  rig r;
  r.engine_answers = true;
  r.run(3000);
  auto ev = r.events("engine");
  BOOST_TEST_REQUIRE(ev.size() == 3u);
  for (const auto& e : ev) {
    BOOST_TEST(flag(e, "ok"));
    BOOST_TEST(text(e, "state") == "ACTIVE");
    BOOST_TEST(text(e, "detail").empty());
  }
  r.engine_answers = false;
  r.run(2000);
  BOOST_TEST(r.events("engine").size() == 3u);  // one late reply is not a fault
  r.run(1000);
  ev = r.events("engine");
  BOOST_TEST_REQUIRE(ev.size() == 4u);
  BOOST_TEST(!flag(ev[3], "ok"));
  BOOST_TEST(text(ev[3], "detail") == "no answer from the Engine at " + engine_at);
  BOOST_TEST(text(ev[3], "state").empty());
  r.run(5000);
  BOOST_TEST(r.events("engine").size() == 4u);
  r.engine_answers = true;
  r.engine_ok = false;
  r.run(1000);
  ev = r.events("engine");
  BOOST_TEST_REQUIRE(ev.size() == 5u);
  BOOST_TEST(text(ev[4], "detail") == "the Engine reports a fault");
  BOOST_TEST(text(ev[4], "state") == "BROKEN");
}

BOOST_AUTO_TEST_CASE(the_running_charge_every_answer_and_the_last_ticket_once) {
  ready r;
  protocol::health_reply h;
  h.configured = true;
  h.state = cp_state::busy;
  h.charging = true;
  h.charge = protocol::charge_view{"ALC1-7", "D1", true, 3.0, 1.05, 3, 10};
  r.from_engine(h);
  BOOST_TEST_REQUIRE(r.events("charge").size() == 1u);
  const auto c = r.events("charge")[0];
  BOOST_TEST(text(c, "cp") == "ALC1");
  BOOST_TEST(text(c, "charge_id") == "ALC1-7");
  BOOST_TEST(text(c, "driver") == "D1");
  BOOST_TEST(c.at("kwh").get<double>() == 3.0);
  BOOST_TEST(c.at("elapsed_s").get<std::int64_t>() == 3);
  BOOST_TEST(c.at("duration_s").get<std::int64_t>() == 10);
  BOOST_TEST(flag(c, "plugged"));
  h.charging = false;
  h.has_last = true;
  h.last = protocol::charge_record{"ALC1", "ALC1-7", "D1", 10.0, 0.35, 3.5, t0, t0 + 10'000, end_reason::completed};
  r.from_engine(h);
  r.from_engine(h);
  BOOST_TEST_REQUIRE(r.events("ticket").size() == 1u);
  const auto t = r.events("ticket")[0];
  BOOST_TEST(text(t, "reason") == "completed");
  BOOST_TEST(text(t, "driver") == "D1");
  BOOST_TEST(t.at("amount").get<double>() == 3.5);
  BOOST_TEST(t.at("start").get<std::int64_t>() == t0);
}

// ---- the fence: authorisations ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_configuration_goes_before_the_relayed_authorize_request) {
  ready r;
  r.from_central(request("D1-1"), 41);
  BOOST_TEST_REQUIRE(r.sent.size() == 2u);
  BOOST_TEST(r.sent[0].to == "engine");
  BOOST_TEST(std::holds_alternative<protocol::engine_configure>(r.sent[0].body));
  BOOST_TEST(r.sent[1].to == "engine");
  BOOST_TEST_REQUIRE(std::holds_alternative<protocol::authorize_request>(r.sent[1].body));
  const auto& relayed = std::get<protocol::authorize_request>(r.sent[1].body);
  BOOST_TEST(relayed.request_id == "D1-1");
  BOOST_TEST(relayed.driver_id == "D1");
  BOOST_TEST(relayed.duration_s == 10);
  BOOST_TEST(r.sent[0].correlation != r.sent[1].correlation);
}

BOOST_AUTO_TEST_CASE(the_yes_is_repeated_every_second_until_the_decision_and_not_after) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.now += 200;
  r.from_engine(yes("D1-1", "ALC1-1"), r.sends<protocol::authorize_request>("engine")[0].correlation);
  auto replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 1u);  // at once
  BOOST_TEST(replies[0].correlation == 41u);
  r.run(3000);
  replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 4u);
  for (const auto& s : replies) {
    const auto& body = std::get<protocol::authorize_reply>(s.body);
    BOOST_TEST(body.ok);
    BOOST_TEST(body.charge_id == "ALC1-1");
    BOOST_TEST(body.request_id == "D1-1");
    BOOST_TEST(body.cp_id == "ALC1");
    BOOST_TEST(s.correlation == 41u);
  }
  r.from_central(protocol::authorize_decision{"ALC1", "D1-1", "ALC1-1", true}, 77);
  const auto decisions = r.sends<protocol::authorize_decision>("engine");
  BOOST_TEST_REQUIRE(decisions.size() == 1u);
  BOOST_TEST(std::get<protocol::authorize_decision>(decisions[0].body).confirmed);
  BOOST_TEST(r.m.authorizations_in_flight() == 0u);
  // The Engine's ack goes back to Central with the decision's correlation.
  r.now += 100;
  r.from_engine(protocol::decision_ack{"ALC1", "D1-1", "ALC1-1", true, ""}, decisions[0].correlation);
  const auto acks = r.sends<protocol::decision_ack>("central");
  BOOST_TEST_REQUIRE(acks.size() == 1u);
  BOOST_TEST(acks[0].correlation == 77u);
  BOOST_TEST(std::get<protocol::decision_ack>(acks[0].body).charge_id == "ALC1-1");
  // No more repeats.
  r.run(20'000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_resent_decision_is_relayed_again_and_each_ack_goes_back) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_engine(yes("D1-1", "ALC1-1"), 0);
  for (std::uint64_t corr : {77u, 78u, 79u}) {
    r.from_central(protocol::authorize_decision{"ALC1", "D1-1", "ALC1-1", false}, corr);
    r.now += 1000;
  }
  const auto decisions = r.sends<protocol::authorize_decision>("engine");
  BOOST_TEST_REQUIRE(decisions.size() == 3u);
  for (const auto& d : decisions) {
    r.from_engine(protocol::decision_ack{"ALC1", "D1-1", "ALC1-1", true, ""}, d.correlation);
  }
  // Even one the Monitor cannot match: it names its request and charge.
  r.from_engine(protocol::decision_ack{"ALC1", "D1-1", "ALC1-1", true, ""}, 9999);
  const auto acks = r.sends<protocol::decision_ack>("central");
  BOOST_TEST_REQUIRE(acks.size() == 4u);
  BOOST_TEST(acks[0].correlation == 77u);
  BOOST_TEST(acks[2].correlation == 79u);
  BOOST_TEST(acks[3].correlation == 0u);
}

BOOST_AUTO_TEST_CASE(the_yes_is_repeated_for_the_reservation_time_at_most) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_engine(yes("D1-1", "ALC1-1"), 0);
  r.run(30'000);
  const auto n = r.bodies<protocol::authorize_reply>("central").size();
  BOOST_TEST(n >= 15u);
  BOOST_TEST(n <= 16u);
  BOOST_TEST(r.m.authorizations_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(replies_are_matched_on_the_request_id_not_the_correlation) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_central(request("D2-1"), 42);
  r.from_engine(yes("D2-1", "ALC1-2"), 123456);  // any correlation
  auto replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(replies[0].correlation == 42u);
  BOOST_TEST(std::get<protocol::authorize_reply>(replies[0].body).request_id == "D2-1");
  // An Engine that leaves the request id out is matched on the correlation.
  const auto first = r.sends<protocol::authorize_request>("engine")[0];
  r.from_engine(protocol::authorize_reply{false, "busy", "", "ALC1", ""}, first.correlation);
  replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 2u);
  BOOST_TEST(replies[1].correlation == 41u);
  BOOST_TEST(std::get<protocol::authorize_reply>(replies[1].body).request_id == "D1-1");
}

BOOST_AUTO_TEST_CASE(an_engine_that_does_not_answer_in_three_seconds_is_a_refusal) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.run(2000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").empty());
  r.run(1000);
  auto replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 1u);
  const auto& no = std::get<protocol::authorize_reply>(replies[0].body);
  BOOST_TEST(!no.ok);
  BOOST_TEST(no.reason == "the Engine did not answer");
  BOOST_TEST(no.cp_id == "ALC1");
  BOOST_TEST(no.request_id == "D1-1");
  BOOST_TEST(no.charge_id.empty());
  BOOST_TEST(replies[0].correlation == 41u);
  // A refusal matters while Central may still wait: a few repeats, then silence.
  r.run(20'000);
  const auto n = r.bodies<protocol::authorize_reply>("central").size();
  BOOST_TEST(n >= 5u);
  BOOST_TEST(n <= 6u);
  BOOST_TEST(r.m.authorizations_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(a_late_yes_still_reaches_central_so_that_it_can_cancel_it) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.run(4000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 2u);  // "did not answer", repeated
  r.from_engine(yes("D1-1", "ALC1-1"), 0);
  auto replies = r.bodies<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 3u);
  BOOST_TEST(replies[2].ok);
  BOOST_TEST(replies[2].charge_id == "ALC1-1");
  r.run(2000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 5u);
  // Central cancels; the repeats stop, the cancellation goes to the Engine.
  r.from_central(protocol::authorize_decision{"ALC1", "D1-1", "ALC1-1", false}, 80);
  BOOST_TEST(r.bodies<protocol::authorize_decision>("engine").size() == 1u);
  BOOST_TEST(!r.bodies<protocol::authorize_decision>("engine")[0].confirmed);
  r.run(10'000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_ko_engine_is_refused_at_once_and_not_asked) {
  rig r;
  r.connect_and_authenticate();
  r.run(3000);  // the Engine never answered: KO
  BOOST_TEST_REQUIRE(r.m.verdict().ko());
  r.clear();
  r.from_central(request("D1-1"), 41);
  BOOST_TEST(r.bodies<protocol::authorize_request>("engine").empty());
  auto replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 1u);
  const auto& no = std::get<protocol::authorize_reply>(replies[0].body);
  BOOST_TEST(!no.ok);
  BOOST_TEST(no.reason == "the Engine is not available: no answer from the Engine at " + engine_at);
  BOOST_TEST(no.request_id == "D1-1");
  BOOST_TEST(no.cp_id == "ALC1");
  BOOST_TEST(replies[0].correlation == 41u);
  // A faulty Engine, too.
  ready f;
  f.engine_ok = false;
  f.run(1000);
  f.clear();
  f.from_central(request("D1-2"), 43);
  BOOST_TEST(f.bodies<protocol::authorize_request>("engine").empty());
  BOOST_TEST_REQUIRE(f.bodies<protocol::authorize_reply>("central").size() == 1u);
  BOOST_TEST(f.bodies<protocol::authorize_reply>("central")[0].reason ==
             "the Engine is not available: the Engine reports a fault");
}

BOOST_AUTO_TEST_CASE(no_verdict_yet_is_not_a_refusal) {
  rig r;
  r.connect_and_authenticate();
  r.from_central(request("D1-1"), 41);  // at start-up: the Engine answers for itself
  BOOST_TEST(r.bodies<protocol::authorize_request>("engine").size() == 1u);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").empty());
}

BOOST_AUTO_TEST_CASE(a_repeated_authorize_request_gets_the_same_answer_or_the_same_question) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_central(request("D1-1"), 44);  // not answered yet: asked again
  const auto asked = r.sends<protocol::authorize_request>("engine");
  BOOST_TEST_REQUIRE(asked.size() == 2u);
  BOOST_TEST(asked[0].correlation == asked[1].correlation);
  r.from_engine(yes("D1-1", "ALC1-1"), asked[0].correlation);
  r.from_central(request("D1-1"), 45);  // answered: the same answer, at once
  const auto replies = r.sends<protocol::authorize_reply>("central");
  BOOST_TEST_REQUIRE(replies.size() == 2u);
  BOOST_TEST(replies[1].correlation == 45u);
  BOOST_TEST(std::get<protocol::authorize_reply>(replies[1].body).charge_id == "ALC1-1");
  BOOST_TEST(r.bodies<protocol::authorize_request>("engine").size() == 2u);
}

BOOST_AUTO_TEST_CASE(replies_wait_for_authentication_and_go_at_once_after_it) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_engine(yes("D1-1", "ALC1-1"), 0);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 1u);
  r.m.on_central_disconnected(r.now);
  r.drain();
  r.run(4000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 1u);  // would be dropped
  r.m.on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 1u);  // not before the auth
  r.from_central(protocol::cp_auth_reply{true, "", config});
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 2u);
  r.run(1000);
  BOOST_TEST(r.bodies<protocol::authorize_reply>("central").size() == 3u);
}

BOOST_AUTO_TEST_CASE(an_engine_link_that_comes_back_gets_its_configuration_and_the_unanswered_requests) {
  ready r;
  r.from_central(request("D1-1"), 41);
  r.from_central(request("D2-1"), 42);
  r.from_engine(yes("D2-1", "ALC1-2"), 0);
  r.clear();
  r.m.on_engine_connected(r.now);
  r.drain();
  BOOST_TEST_REQUIRE(r.sent.size() == 3u);
  BOOST_TEST(std::holds_alternative<protocol::health_check>(r.sent[0].body));
  BOOST_TEST(std::holds_alternative<protocol::engine_configure>(r.sent[1].body));
  BOOST_TEST_REQUIRE(std::holds_alternative<protocol::authorize_request>(r.sent[2].body));
  BOOST_TEST(std::get<protocol::authorize_request>(r.sent[2].body).request_id == "D1-1");
  for (const auto& s : r.sent) {
    BOOST_TEST(s.to == "engine");
  }
}

BOOST_AUTO_TEST_CASE(a_decision_for_an_unknown_request_is_still_relayed) {
  ready r;
  r.from_central(protocol::authorize_decision{"ALC1", "D9-9", "ALC1-9", true}, 90);
  BOOST_TEST(r.bodies<protocol::authorize_decision>("engine").size() == 1u);
}

// ---- operator commands --------------------------------------------------------------------

// Central resends a command until acknowledged; a copy the Engine never got
// (its link was not up yet) is not reported as unanswered once the command
// itself was acknowledged.
BOOST_AUTO_TEST_CASE(a_resent_command_acknowledged_once_is_never_reported_unanswered) {
  ready r;
  r.from_central(protocol::cp_command{"ALC1", cp_order::resume, "operator"}, 61);  // lost on the way
  r.run(1000);
  r.from_central(protocol::cp_command{"ALC1", cp_order::resume, "operator"}, 61);  // Central's resend
  const auto relayed = r.sends<protocol::cp_command>("engine");
  BOOST_TEST_REQUIRE(relayed.size() == 2u);
  r.from_engine(protocol::ack{true, ""}, relayed[1].correlation);
  r.run(5000);
  const auto ev = r.events("command");
  BOOST_TEST_REQUIRE(ev.size() == 1u);
  BOOST_TEST(flag(ev[0], "ok"));
  BOOST_TEST(r.sends<protocol::ack>("central").size() == 1u);
  // The first copy's ack, late, changes nothing.
  r.from_engine(protocol::ack{true, ""}, relayed[0].correlation);
  BOOST_TEST(r.events("command").size() == 1u);
  BOOST_TEST(r.sends<protocol::ack>("central").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_command_is_relayed_and_its_ack_goes_back_with_an_event) {
  ready r;
  r.from_central(protocol::cp_command{"ALC1", cp_order::stop, "maintenance"}, 51);
  const auto relayed = r.sends<protocol::cp_command>("engine");
  BOOST_TEST_REQUIRE(relayed.size() == 1u);
  r.from_engine(protocol::ack{true, ""}, relayed[0].correlation);
  const auto acks = r.sends<protocol::ack>("central");
  BOOST_TEST_REQUIRE(acks.size() == 1u);
  BOOST_TEST(acks[0].correlation == 51u);
  BOOST_TEST(std::get<protocol::ack>(acks[0].body).ok);
  BOOST_TEST_REQUIRE(r.events("command").size() == 1u);
  BOOST_TEST(text(r.events("command")[0], "command") == "stop");
  BOOST_TEST(flag(r.events("command")[0], "ok"));
  // A second ack for the same command is not relayed twice.
  r.from_engine(protocol::ack{true, ""}, relayed[0].correlation);
  BOOST_TEST(r.sends<protocol::ack>("central").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_command_the_engine_does_not_ack_in_three_seconds_fails) {
  ready r;
  r.from_central(protocol::cp_command{"ALC1", cp_order::resume, ""}, 52);
  r.run(2000);
  BOOST_TEST(r.sends<protocol::ack>("central").empty());
  r.run(1000);
  const auto acks = r.sends<protocol::ack>("central");
  BOOST_TEST_REQUIRE(acks.size() == 1u);
  BOOST_TEST(acks[0].correlation == 52u);
  BOOST_TEST(!std::get<protocol::ack>(acks[0].body).ok);
  BOOST_TEST(std::get<protocol::ack>(acks[0].body).reason == "the Engine did not answer");
  BOOST_TEST_REQUIRE(r.events("command").size() == 1u);
  BOOST_TEST(text(r.events("command")[0], "command") == "resume");
  BOOST_TEST(!flag(r.events("command")[0], "ok"));
  BOOST_TEST(text(r.events("command")[0], "reason") == "the Engine did not answer");
  // The late ack is dropped: Central was answered already.
  r.from_engine(protocol::ack{true, ""}, r.sends<protocol::cp_command>("engine")[0].correlation);
  BOOST_TEST(r.sends<protocol::ack>("central").size() == 1u);
}

// ---- the local charge ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_local_charge_is_requested_as_the_cp_and_answered_once) {
  ready r;
  r.console("charge 5");
  const auto req = r.sends<protocol::charge_request>("central");
  BOOST_TEST_REQUIRE(req.size() == 1u);
  const auto& body = std::get<protocol::charge_request>(req[0].body);
  BOOST_TEST(body.driver_id == "@ALC1");
  BOOST_TEST(body.cp_id == "ALC1");
  BOOST_TEST(body.duration_s == 5);
  BOOST_TEST(body.request_id.rfind("ALC1-local-", 0) == 0u);
  BOOST_TEST(req[0].correlation != 0u);
  BOOST_TEST(r.m.local_charge_waiting());
  // One at a time.
  r.console("charge");
  BOOST_TEST(r.sends<protocol::charge_request>("central").size() == 1u);
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 1u);
  BOOST_TEST(text(r.events("local_charge")[0], "reason") == "a local charge request is already waiting for CENTRAL");
  // Someone else's reply changes nothing; ours is shown.
  r.from_central(protocol::charge_reply{true, "", "ALC1", "ALC1-3", "D1-1"});
  BOOST_TEST(r.events("local_charge").size() == 1u);
  r.from_central(protocol::charge_reply{true, "", "ALC1", "ALC1-3", body.request_id});
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 2u);
  const auto ok = r.events("local_charge")[1];
  BOOST_TEST(flag(ok, "ok"));
  BOOST_TEST(text(ok, "charge_id") == "ALC1-3");
  BOOST_TEST(!r.m.local_charge_waiting());
  // A repeated reply is not shown twice.
  r.from_central(protocol::charge_reply{true, "", "ALC1", "ALC1-3", body.request_id});
  BOOST_TEST(r.events("local_charge").size() == 2u);
  // And the next one has its own request id.
  r.console("charge");
  const auto again = r.bodies<protocol::charge_request>("central");
  BOOST_TEST_REQUIRE(again.size() == 2u);
  BOOST_TEST(again[1].request_id != body.request_id);
  BOOST_TEST(again[1].duration_s == 0);
}

BOOST_AUTO_TEST_CASE(a_local_charge_unanswered_for_eight_seconds_is_given_up) {
  ready r;
  r.console("charge 5");
  r.run(7000);
  BOOST_TEST(r.events("local_charge").empty());
  r.run(1000);
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 1u);
  BOOST_TEST(!flag(r.events("local_charge")[0], "ok"));
  BOOST_TEST(text(r.events("local_charge")[0], "reason") == "cannot reach CENTRAL at " + central_at + " (no answer)");
  BOOST_TEST(text(r.events("local_charge")[0], "charge_id").empty());
  BOOST_TEST(!r.m.local_charge_waiting());
}

BOOST_AUTO_TEST_CASE(a_local_charge_fails_when_the_link_to_central_goes_down) {
  ready r;
  r.console("charge 5");
  r.m.on_central_disconnected(r.now);
  r.drain();
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 1u);
  BOOST_TEST(text(r.events("local_charge")[0], "reason") == "cannot reach CENTRAL at " + central_at);
  // While the outage lasts, in the words a driver gets.
  r.console("charge 5");
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 2u);
  BOOST_TEST(text(r.events("local_charge")[1], "reason") == "cannot reach CENTRAL at " + central_at);
  BOOST_TEST(r.bodies<protocol::charge_request>("central").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_local_charge_before_authentication_is_refused_at_once) {
  rig r;
  r.console("charge 2");
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 1u);
  BOOST_TEST(!flag(r.events("local_charge")[0], "ok"));
  BOOST_TEST(text(r.events("local_charge")[0], "reason") == "not authenticated with CENTRAL at " + central_at);
  r.m.on_central_connected(r.now);
  r.from_central(protocol::cp_auth_reply{false, "ALC1 is already connected", {}});
  r.console("charge 2");
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 2u);
  BOOST_TEST(text(r.events("local_charge")[1], "reason") == "not authenticated with CENTRAL at " + central_at);
  BOOST_TEST(r.bodies<protocol::charge_request>("central").empty());
}

BOOST_AUTO_TEST_CASE(console_errors_and_quit) {
  ready r;
  r.console("charge abc");
  BOOST_TEST_REQUIRE(r.events("local_charge").size() == 1u);
  BOOST_TEST(!flag(r.events("local_charge")[0], "ok"));
  BOOST_TEST(text(r.events("local_charge")[0], "reason").find("seconds") != std::string::npos);
  r.console("dance");
  BOOST_TEST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "bad_command");
  BOOST_TEST(text(r.events("error")[0], "message") == "unknown command 'dance' (try: charge [SECONDS], quit)");
  r.console("");
  BOOST_TEST(r.events("error").size() == 1u);
  BOOST_TEST(r.bodies<protocol::charge_request>("central").empty());
  BOOST_TEST(!r.m.quit_requested());
  r.m.on_console(monitor_command{monitor_verb::quit, 0}, r.now);
  BOOST_TEST(r.m.quit_requested());
}

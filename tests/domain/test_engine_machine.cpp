#define BOOST_TEST_MODULE domain_engine_machine
#include <boost/test/unit_test.hpp>

#include "evnet/domain/engine_machine.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace evnet;
using domain::charger;
using domain::engine_command;
using domain::engine_machine;

namespace {

// An arbitrary realistic epoch: 2023-11-14T22:13:20Z.
constexpr std::int64_t t0 = 1'700'000'000'000;
const std::string central_at = "central.local:7000";
const std::string monitor = "monitor-peer-1";
const protocol::cp_config config{"ALC1", "C/ Italia 5, Alicante", 0.35};

std::string text(const domain::notice& n, const std::string& field) {
  const auto it = n.fields.find(field);
  return it != n.fields.end() && it->second.is_string() ? it->second.get<std::string>() : std::string("(none)");
}
double number(const domain::notice& n, const std::string& field) {
  const auto it = n.fields.find(field);
  return it != n.fields.end() && it->second.is_number() ? it->second.get<double>() : -1.0;
}

// The machine on a simulated clock, with everything it produced kept in order.
struct rig {
  std::int64_t now = t0;
  domain::memory_ledger ledger;
  std::unique_ptr<engine_machine> m;
  std::vector<domain::outgoing> sent;
  std::vector<domain::notice> notices;
  std::uint64_t corr = 100;
  bool monitor_checks = true;  // the Monitor checks health every second
  std::string expected_cp;     // --cp

  rig() { start(); }

  // (Re)starts the Engine process on the same ledger.
  void start() {
    m = std::make_unique<engine_machine>(domain::engine_setup{6000, central_at, expected_cp}, ledger, now);
    drain();
  }

  void drain() {
    for (auto& s : m->out().take_sends()) {
      sent.push_back(std::move(s));
    }
    for (auto& n : m->out().take_notices()) {
      notices.push_back(std::move(n));
    }
  }
  void clear() {
    drain();
    sent.clear();
    notices.clear();
  }

  template <class T>
  std::uint64_t from_monitor(T body, const std::string& peer = monitor) {
    const auto c = ++corr;
    m->on_monitor(peer, protocol::make("monitor:ALC1", std::move(body), c), now);
    drain();
    return c;
  }
  template <class T>
  void from_central(T body) {
    m->on_central(protocol::make("central", std::move(body), 0), now);
    drain();
  }
  void console(engine_command c) {
    m->on_console(c, now);
    drain();
  }

  // Moves time forward by `ms`, ticking every 250 ms; the Monitor checks
  // health every second while monitor_checks.
  void run(std::int64_t ms) {
    const auto end = now + ms;
    while (now + engine_machine::tick_ms <= end) {
      now += engine_machine::tick_ms;
      m->on_tick(now);
      drain();
      if (monitor_checks && (now - t0) % 1000 == 0) {
        from_monitor(protocol::health_check{});
      }
    }
    now = end;
  }

  void configure() {
    from_monitor(protocol::engine_configure{config});
    clear();
  }

  protocol::authorize_request request(const std::string& request_id, std::int64_t duration_s) const {
    return protocol::authorize_request{"ALC1", "D1", duration_s, request_id};
  }
  // Reserves and returns the charge id.
  std::string reserve(const std::string& request_id, std::int64_t duration_s) {
    const auto c = from_monitor(request(request_id, duration_s));
    const auto* r = last_to_monitor<protocol::authorize_reply>();
    BOOST_REQUIRE(r != nullptr);
    BOOST_REQUIRE(correlation_of_last_to_monitor<protocol::authorize_reply>() == c);
    BOOST_REQUIRE_MESSAGE(r->ok, r->reason);
    return r->charge_id;
  }
  const protocol::decision_ack* decide(const std::string& request_id, const std::string& charge_id, bool confirmed) {
    const auto c = from_monitor(protocol::authorize_decision{"ALC1", request_id, charge_id, confirmed});
    const auto* a = last_to_monitor<protocol::decision_ack>();
    BOOST_REQUIRE(a != nullptr);
    BOOST_TEST(correlation_of_last_to_monitor<protocol::decision_ack>() == c);
    return a;
  }
  std::string start_charge(const std::string& request_id, std::int64_t duration_s) {
    const auto id = reserve(request_id, duration_s);
    BOOST_REQUIRE(decide(request_id, id, true)->ok);
    return id;
  }

  // ---- what came out -----------------------------------------------------------

  template <class T>
  std::vector<T> to_central() const {
    std::vector<T> out;
    for (const auto& s : sent) {
      if (s.to == "central" && std::holds_alternative<T>(s.body)) {
        out.push_back(std::get<T>(s.body));
      }
    }
    return out;
  }
  template <class T>
  const T* last_to_monitor() const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->to == monitor && std::holds_alternative<T>(it->body)) {
        return &std::get<T>(it->body);
      }
    }
    return nullptr;
  }
  std::uint64_t last_correlation() const { return sent.empty() ? 0 : sent.back().correlation; }
  template <class T>
  std::uint64_t correlation_of_last_to_monitor() const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->to == monitor && std::holds_alternative<T>(it->body)) {
        return it->correlation;
      }
    }
    return 0;
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
  protocol::health_reply health() {
    const auto c = from_monitor(protocol::health_check{});
    const auto* h = last_to_monitor<protocol::health_reply>();
    BOOST_REQUIRE(h != nullptr);
    BOOST_TEST(correlation_of_last_to_monitor<protocol::health_reply>() == c);
    return *h;
  }
};

} // namespace

// ---- start, configuration, health -----------------------------------------------

BOOST_AUTO_TEST_SUITE(setup)

BOOST_AUTO_TEST_CASE(starts_unconfigured_and_says_so) {
  rig r;
  BOOST_REQUIRE(!r.notices.empty());
  BOOST_TEST(r.notices.front().name == "started");
  BOOST_TEST(number(r.notices.front(), "listen") == 6000.0);
  BOOST_TEST(r.m->sender() == "engine-6000");
  BOOST_TEST(r.sent.empty());
  const auto h = r.health();
  BOOST_TEST(!h.configured);
  BOOST_TEST(h.ok);
  BOOST_TEST(!h.charging);
  BOOST_TEST(!h.has_last);
  BOOST_TEST(r.m->monitor() == monitor);
}

BOOST_AUTO_TEST_CASE(configure_is_acked_announced_and_said_hello_once) {
  rig r;
  r.clear();
  const auto c = r.from_monitor(protocol::engine_configure{config});
  const auto* ack = r.last_to_monitor<protocol::ack>();
  BOOST_REQUIRE(ack != nullptr);
  BOOST_TEST(ack->ok);
  BOOST_TEST(r.correlation_of_last_to_monitor<protocol::ack>() == c);
  BOOST_REQUIRE(r.events("configured").size() == 1u);
  BOOST_TEST(text(r.events("configured")[0], "cp") == "ALC1");
  BOOST_TEST(text(r.events("configured")[0], "location") == config.location);
  BOOST_TEST(number(r.events("configured")[0], "price") == 0.35);
  BOOST_REQUIRE(r.to_central<protocol::engine_hello>().size() == 1u);
  BOOST_TEST(r.to_central<protocol::engine_hello>()[0].cp_id == "ALC1");
  BOOST_TEST(r.m->sender() == "engine:ALC1");
  BOOST_TEST(r.health().configured);

  // The Monitor configures again before every authorisation: nothing new.
  r.clear();
  r.from_monitor(protocol::engine_configure{config});
  BOOST_TEST(r.last_to_monitor<protocol::ack>()->ok);
  BOOST_TEST(r.events("configured").empty());
  BOOST_TEST(r.to_central<protocol::engine_hello>().empty());

  // A new price is news.
  r.from_monitor(protocol::engine_configure{protocol::cp_config{"ALC1", config.location, 0.40}});
  BOOST_TEST(r.events("configured").size() == 1u);
}

BOOST_AUTO_TEST_CASE(another_cp_is_refused_while_busy) {
  rig r;
  r.configure();
  r.reserve("q1", 5);
  r.from_monitor(protocol::engine_configure{protocol::cp_config{"MAD1", "Madrid", 0.5}});
  const auto* ack = r.last_to_monitor<protocol::ack>();
  BOOST_REQUIRE(ack != nullptr);
  BOOST_TEST(!ack->ok);
  BOOST_TEST(ack->reason == "busy serving ALC1");
  BOOST_TEST(r.m->sender() == "engine:ALC1");
}

BOOST_AUTO_TEST_CASE(an_engine_told_its_cp_refuses_to_be_any_other) {
  rig r;
  r.expected_cp = "ALC1";
  r.start();
  r.clear();
  r.from_monitor(protocol::engine_configure{protocol::cp_config{"MAD1", "Madrid", 0.5}});
  const auto* ack = r.last_to_monitor<protocol::ack>();
  BOOST_REQUIRE(ack != nullptr);
  BOOST_TEST(!ack->ok);
  BOOST_TEST(ack->reason.find("wrong_cp") == 0u);
  BOOST_TEST(!r.health().configured);
  BOOST_TEST(r.to_central<protocol::engine_hello>().empty());
  BOOST_TEST(text(r.events("error").at(0), "code") == "wrong_cp");
  // Nor will it reserve for another CP before it is configured.
  r.from_monitor(protocol::authorize_request{"MAD1", "D1", 5, "q1"});
  BOOST_TEST(!r.last_to_monitor<protocol::authorize_reply>()->ok);
  // Its own CP is welcome.
  r.from_monitor(protocol::engine_configure{config});
  BOOST_TEST(r.last_to_monitor<protocol::ack>()->ok);
  BOOST_TEST(r.m->sender() == "engine:ALC1");
  BOOST_TEST(r.reserve("q2", 5).size() > 0u);
}

BOOST_AUTO_TEST_CASE(health_replies_follow_the_charge) {
  rig r;
  r.configure();
  auto h = r.health();
  BOOST_TEST(h.ok);
  BOOST_TEST(h.configured);
  BOOST_TEST(h.state == cp_state::active);
  BOOST_TEST(!h.charging);

  const auto id = r.reserve("q1", 3);
  h = r.health();
  BOOST_TEST(h.state == cp_state::busy);  // reserved: a second driver is refused
  BOOST_TEST(!h.charging);                // but nothing is on

  BOOST_REQUIRE(r.decide("q1", id, true)->ok);
  r.run(2000);
  h = r.health();
  BOOST_TEST(h.charging);
  BOOST_TEST(h.charge.charge_id == id);
  BOOST_TEST(h.charge.driver_id == "D1");
  BOOST_TEST(h.charge.kwh == 2.0);
  BOOST_TEST(h.charge.duration_s == 3);
  BOOST_TEST(!h.has_last);

  r.run(1000);
  h = r.health();
  BOOST_TEST(!h.charging);
  BOOST_TEST(h.state == cp_state::active);
  BOOST_TEST(h.has_last);
  BOOST_TEST(h.last.charge_id == id);
  BOOST_TEST(h.last.kwh == 3.0);

  r.console(engine_command::fault);
  h = r.health();
  BOOST_TEST(!h.ok);
  BOOST_TEST(h.state == cp_state::broken);
}

BOOST_AUTO_TEST_CASE(anything_else_from_the_monitor_is_unexpected) {
  rig r;
  const auto c = r.from_monitor(protocol::telemetry{});
  const auto* e = r.last_to_monitor<protocol::error_reply>();
  BOOST_REQUIRE(e != nullptr);
  BOOST_TEST(e->code == errc::unexpected);
  BOOST_TEST(e->detail == "telemetry is not for the Engine");
  BOOST_TEST(r.last_correlation() == c);
  // Errors and acks are never answered.
  r.clear();
  r.from_monitor(protocol::error_reply{errc::malformed, "x"});
  r.from_monitor(protocol::ack{});
  BOOST_TEST(r.sent.empty());
}

BOOST_AUTO_TEST_CASE(a_stray_peer_does_not_become_the_monitor) {
  rig r;
  r.configure();
  r.start_charge("q1", 30);
  r.from_monitor(protocol::ticket{}, "stray");
  BOOST_TEST(r.last_to_monitor<protocol::error_reply>() == nullptr);  // answered to "stray", not to the Monitor
  BOOST_TEST(r.m->monitor() == monitor);
  r.m->on_monitor_gone("stray", r.now);
  r.run(5000);
  BOOST_TEST(r.events("finished").empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the fence: no energy without a yes -------------------------------------------

BOOST_AUTO_TEST_SUITE(fence)

BOOST_AUTO_TEST_CASE(a_reservation_is_answered_and_supplies_nothing) {
  rig r;
  r.configure();
  const auto c = r.from_monitor(r.request("q1", 5));
  const auto* reply = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_REQUIRE(reply != nullptr);
  BOOST_TEST(r.last_correlation() == c);
  BOOST_TEST(reply->ok);
  BOOST_TEST(reply->reason.empty());
  BOOST_TEST(reply->charge_id.rfind("ALC1-", 0) == 0u);
  BOOST_TEST(reply->cp_id == "ALC1");
  BOOST_TEST(reply->request_id == "q1");
  BOOST_REQUIRE(r.events("reserved").size() == 1u);
  BOOST_TEST(text(r.events("reserved")[0], "charge_id") == reply->charge_id);
  BOOST_TEST(text(r.events("reserved")[0], "driver") == "D1");
  BOOST_TEST(text(r.events("reserved")[0], "request_id") == "q1");
  BOOST_TEST(number(r.events("reserved")[0], "duration") == 5.0);
  BOOST_REQUIRE(!r.events("state").empty());
  BOOST_TEST(text(r.events("state").back(), "state") == "BUSY");

  r.run(10'000);
  BOOST_TEST(r.to_central<protocol::telemetry>().empty());
  BOOST_TEST(r.to_central<protocol::charge_finished>().empty());
  BOOST_TEST(r.events("authorized").empty());
  BOOST_TEST(r.events("progress").empty());
  BOOST_TEST(r.events("finished").empty());
  BOOST_TEST(!r.ledger.open().has_value());
  BOOST_TEST(r.ledger.records().empty());
}

BOOST_AUTO_TEST_CASE(a_confirmed_duration_charge_supplies_from_the_yes) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 3);
  r.run(2000);
  r.clear();
  const auto* ack = r.decide("q1", id, true);
  BOOST_TEST(ack->ok);
  BOOST_TEST(ack->cp_id == "ALC1");
  BOOST_TEST(ack->request_id == "q1");
  BOOST_TEST(ack->charge_id == id);
  BOOST_REQUIRE(r.events("authorized").size() == 1u);
  BOOST_TEST(text(r.events("authorized")[0], "charge_id") == id);
  BOOST_TEST(text(r.events("authorized")[0], "driver") == "D1");
  BOOST_TEST(number(r.events("authorized")[0], "duration") == 3.0);
  BOOST_TEST(r.events("plugged").size() == 1u);  // the plug is implicit
  BOOST_REQUIRE(r.ledger.open().has_value());
  BOOST_TEST(r.ledger.open()->view.charge_id == id);
  BOOST_TEST(r.ledger.open()->started_ms == r.now);

  const auto confirmed_at = r.now;
  r.run(5000);
  const auto t = r.to_central<protocol::telemetry>();
  BOOST_REQUIRE(t.size() == 3u);  // 0, 1, 2 kWh; the 3rd second ends the charge
  for (std::size_t i = 0; i < t.size(); ++i) {
    BOOST_TEST(t[i].charge_id == id);
    BOOST_TEST(t[i].kwh == double(i));
    BOOST_TEST(t[i].price == 0.35);
    BOOST_TEST(t[i].cp_id == "ALC1");
    BOOST_TEST(t[i].driver_id == "D1");
    if (i > 0) {
      BOOST_TEST(t[i].seq > t[i - 1].seq);
    }
  }
  BOOST_TEST(r.events("progress").size() == 3u);
  const auto f = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(!f.empty());
  BOOST_TEST(f[0].record.charge_id == id);
  BOOST_TEST(f[0].record.kwh == 3.0);
  BOOST_TEST(f[0].record.amount == 1.05);
  BOOST_TEST(f[0].record.start_ms == confirmed_at);
  BOOST_TEST(f[0].record.end_ms == confirmed_at + 3000);
  BOOST_TEST(f[0].record.reason == end_reason::completed);
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == "completed");
  BOOST_TEST(number(r.events("finished")[0], "amount") == 1.05);
  BOOST_TEST(!r.ledger.open().has_value());
  BOOST_TEST(r.ledger.unacknowledged().size() == 1u);
}

BOOST_AUTO_TEST_CASE(telemetry_once_a_second_only_when_the_kwh_changes) {
  rig r;
  r.configure();
  r.start_charge("q1", 0);
  r.run(5000);
  BOOST_TEST(r.to_central<protocol::telemetry>().empty());  // not plugged: nothing flows
  r.console(engine_command::plug);
  BOOST_TEST(r.events("plugged").size() == 1u);
  r.run(4000);  // 16 ticks
  const auto t = r.to_central<protocol::telemetry>();
  BOOST_REQUIRE(t.size() == 5u);  // 0, 1, 2, 3, 4 kWh
  BOOST_TEST(t.back().kwh == 4.0);
  BOOST_REQUIRE(r.ledger.open().has_value());
  BOOST_TEST(r.ledger.open()->view.kwh == 4.0);  // saved with every telemetry
}

BOOST_AUTO_TEST_CASE(cancel_means_nothing_ever) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 5);
  r.clear();
  const auto* ack = r.decide("q1", id, false);
  BOOST_TEST(ack->ok);
  BOOST_REQUIRE(r.events("cancelled").size() == 1u);
  BOOST_TEST(text(r.events("cancelled")[0], "charge_id") == id);
  BOOST_TEST(text(r.events("cancelled")[0], "reason") == "cancelled by CENTRAL");
  BOOST_TEST(text(r.events("state").back(), "state") == "ACTIVE");

  // A repeat is answered the same, once more.
  BOOST_TEST(r.decide("q1", id, false)->ok);
  BOOST_TEST(r.events("cancelled").size() == 1u);
  // A confirmation after the cancel cannot revive it.
  const auto* late = r.decide("q1", id, true);
  BOOST_TEST(!late->ok);
  BOOST_TEST(late->reason == "reservation_expired");

  r.run(120'000);
  BOOST_TEST(r.to_central<protocol::telemetry>().empty());
  BOOST_TEST(r.to_central<protocol::charge_finished>().empty());
  BOOST_TEST(r.events("authorized").empty());
  BOOST_TEST(r.events("finished").empty());
  BOOST_TEST(r.ledger.records().empty());
  BOOST_TEST(!r.ledger.open().has_value());
  // And the CP is free for the next driver.
  r.reserve("q2", 5);
}

BOOST_AUTO_TEST_CASE(an_undecided_reservation_expires_and_a_late_yes_is_refused) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 5);
  r.run(charger::reservation_timeout_ms);
  BOOST_TEST(r.events("cancelled").empty());
  r.run(250);
  BOOST_REQUIRE(r.events("cancelled").size() == 1u);
  BOOST_TEST(text(r.events("cancelled")[0], "reason") == "no decision from CENTRAL in time");
  BOOST_TEST(!r.health().charging);
  BOOST_TEST(r.health().state == cp_state::active);

  const auto* late = r.decide("q1", id, true);
  BOOST_TEST(!late->ok);
  BOOST_TEST(late->reason == "reservation_expired");
  BOOST_TEST(late->charge_id == id);
  BOOST_TEST(late->request_id == "q1");
  // Repeats get the same answer.
  BOOST_TEST(!r.decide("q1", id, true)->ok);

  r.run(10'000);
  BOOST_TEST(r.events("authorized").empty());
  BOOST_TEST(r.to_central<protocol::telemetry>().empty());
  BOOST_TEST(r.to_central<protocol::charge_finished>().empty());
  BOOST_TEST(r.ledger.records().empty());
}

BOOST_AUTO_TEST_CASE(a_late_yes_without_a_tick_is_refused_too) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 5);
  r.now += charger::reservation_timeout_ms + 1;  // no tick in between
  const auto* late = r.decide("q1", id, true);
  BOOST_TEST(!late->ok);
  BOOST_TEST(late->reason == "reservation_expired");
  BOOST_TEST(r.events("cancelled").size() == 1u);
  BOOST_TEST(r.events("authorized").empty());
}

BOOST_AUTO_TEST_CASE(repeated_requests_and_confirmations_change_nothing) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 0);
  BOOST_TEST(r.reserve("q1", 0) == id);
  BOOST_TEST(r.events("reserved").size() == 1u);
  BOOST_TEST(r.decide("q1", id, true)->ok);
  BOOST_TEST(r.decide("q1", id, true)->ok);
  BOOST_TEST(r.decide("q1", "", true)->ok);  // by request id alone
  BOOST_TEST(r.events("authorized").size() == 1u);
  BOOST_TEST(r.reserve("q1", 0) == id);  // still the same charge
  // A second driver is refused.
  r.from_monitor(protocol::authorize_request{"ALC1", "D2", 0, "q2"});
  const auto* busy = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_TEST(!busy->ok);
  BOOST_TEST(busy->reason == "CP ALC1 is busy");
  BOOST_TEST(busy->request_id == "q2");
  // A cancel of a confirmed charge takes nothing back.
  const auto* no = r.decide("q1", id, false);
  BOOST_TEST(!no->ok);
  BOOST_TEST(no->reason == "invalid_state");
  BOOST_TEST(r.health().charging);
}

BOOST_AUTO_TEST_CASE(refusals_reserve_nothing) {
  rig r;
  r.from_monitor(r.request("q1", 5));  // not configured yet
  auto* reply = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_TEST(!reply->ok);
  BOOST_TEST(reply->reason == "this CP has not been configured by CENTRAL yet");
  BOOST_TEST(reply->cp_id == "ALC1");
  BOOST_TEST(reply->request_id == "q1");
  r.configure();
  r.from_monitor(protocol::authorize_request{"MAD1", "D1", 5, "q2"});
  reply = r.last_to_monitor<protocol::authorize_reply>();
  BOOST_TEST(!reply->ok);
  BOOST_TEST(reply->reason == "this Engine serves ALC1");
  BOOST_TEST(reply->charge_id.empty());
  r.from_monitor(r.request("q3", max_duration_s + 1));
  BOOST_TEST(!r.last_to_monitor<protocol::authorize_reply>()->ok);
  BOOST_TEST(r.events("reserved").empty());
  BOOST_TEST(r.health().state == cp_state::active);
  // A decision for another CP is not applied.
  const auto id = r.reserve("q4", 5);
  r.from_monitor(protocol::authorize_decision{"MAD1", "q4", id, true});
  const auto* ack = r.last_to_monitor<protocol::decision_ack>();
  BOOST_TEST(!ack->ok);
  BOOST_TEST(ack->reason == "wrong_cp");
  BOOST_TEST(!r.health().charging);
}

BOOST_AUTO_TEST_CASE(a_confirmed_charge_never_plugged_ends_with_a_zero_record) {
  rig r;
  r.configure();
  const auto id = r.start_charge("q1", 0);
  r.run(charger::plug_timeout_ms + 250);
  const auto f = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(!f.empty());
  BOOST_TEST(f[0].record.charge_id == id);
  BOOST_TEST(f[0].record.kwh == 0.0);
  BOOST_TEST(f[0].record.amount == 0.0);
  BOOST_TEST(f[0].record.reason == end_reason::never_plugged);
  BOOST_TEST(r.to_central<protocol::telemetry>().empty());
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == to_string(end_reason::never_plugged));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- records: kept until acknowledged ---------------------------------------------

BOOST_AUTO_TEST_SUITE(records)

BOOST_AUTO_TEST_CASE(resent_every_two_seconds_and_on_connected_until_acked) {
  rig r;
  r.configure();
  r.m->on_central_connected(r.now);
  const auto id = r.start_charge("q1", 1);
  r.run(1000);
  BOOST_REQUIRE(r.to_central<protocol::charge_finished>().size() == 1u);
  r.clear();
  r.run(6000);
  BOOST_TEST(r.to_central<protocol::charge_finished>().size() == 3u);
  r.clear();
  r.m->on_central_disconnected(r.now);
  r.m->on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.to_central<protocol::charge_finished>().size() == 1u);
  BOOST_TEST(r.m->unacknowledged() == 1u);

  r.from_central(protocol::record_ack{"ALC1", id});
  BOOST_REQUIRE(r.events("acknowledged").size() == 1u);
  BOOST_TEST(text(r.events("acknowledged")[0], "charge_id") == id);
  BOOST_TEST(r.m->unacknowledged() == 0u);
  BOOST_TEST(r.ledger.unacknowledged().empty());
  r.clear();
  r.run(10'000);
  BOOST_TEST(r.to_central<protocol::charge_finished>().empty());
  // A repeated ack is harmless.
  r.from_central(protocol::record_ack{"ALC1", id});
  BOOST_TEST(r.events("acknowledged").empty());
}

BOOST_AUTO_TEST_CASE(a_failing_store_keeps_the_record_until_an_ack_is_stored) {
  rig r;
  r.configure();
  const auto id = r.start_charge("q1", 1);
  r.run(1000);
  r.ledger.failing = true;
  r.from_central(protocol::record_ack{"ALC1", id});
  BOOST_TEST(r.events("acknowledged").empty());
  BOOST_REQUIRE(!r.events("error").empty());
  BOOST_TEST(text(r.events("error").back(), "code") == "store");
  BOOST_TEST(r.m->unacknowledged() == 1u);
  r.clear();
  r.run(2000);
  BOOST_TEST(r.to_central<protocol::charge_finished>().size() == 1u);
  r.ledger.failing = false;
  r.from_central(protocol::record_ack{"ALC1", id});
  BOOST_TEST(r.events("acknowledged").size() == 1u);
  BOOST_TEST(r.m->unacknowledged() == 0u);
}

BOOST_AUTO_TEST_CASE(a_restart_settles_the_open_charge_and_resends_the_rest) {
  rig r;
  r.configure();
  const auto first = r.start_charge("q1", 1);
  r.run(1000);  // finished, never acknowledged
  const auto second = r.start_charge("q2", 10);
  r.run(4000);
  BOOST_REQUIRE(r.ledger.open().has_value());
  BOOST_TEST(r.ledger.open()->view.kwh == 4.0);

  // The process dies and comes back on the same ledger.
  r.now += 20'000;
  r.clear();
  r.start();
  BOOST_TEST(r.notices.front().name == "started");
  const auto finished = r.events("finished");
  BOOST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(text(finished[0], "charge_id") == second);
  BOOST_TEST(text(finished[0], "reason") == "engine restarted");
  BOOST_TEST(number(finished[0], "kwh") == 4.0);
  BOOST_TEST(number(finished[0], "amount") == 1.40);
  BOOST_TEST(!r.ledger.open().has_value());
  BOOST_TEST(r.m->unacknowledged() == 2u);
  BOOST_TEST(r.health().has_last);

  r.clear();
  r.m->on_central_connected(r.now);
  r.drain();
  const auto resent = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(resent.size() == 2u);
  BOOST_TEST((resent[0].record.charge_id == first || resent[1].record.charge_id == first));
  BOOST_TEST((resent[0].record.charge_id == second || resent[1].record.charge_id == second));
}

BOOST_AUTO_TEST_CASE(a_failing_store_at_start_is_reported) {
  rig r;
  r.ledger.failing = true;
  r.clear();
  r.start();
  BOOST_REQUIRE(!r.events("error").empty());
  BOOST_TEST(text(r.events("error")[0], "code") == "store");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the Monitor-silence watchdog --------------------------------------------------

BOOST_AUTO_TEST_SUITE(watchdog)

BOOST_AUTO_TEST_CASE(a_watched_charge_runs_on) {
  rig r;
  r.configure();
  r.start_charge("q1", 30);
  r.run(20'000);
  BOOST_TEST(r.events("finished").empty());
  BOOST_TEST(r.health().charging);
}

BOOST_AUTO_TEST_CASE(three_seconds_of_silence_end_the_charge) {
  rig r;
  r.configure();
  const auto id = r.start_charge("q1", 30);
  r.run(2000);
  r.monitor_checks = false;
  const auto silent_from = r.now;
  r.run(3000);
  BOOST_TEST(r.events("finished").empty());  // exactly 3 s: still trusted
  r.run(250);
  const auto f = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].record.charge_id == id);
  BOOST_TEST(f[0].record.reason == end_reason::monitor_lost);
  BOOST_TEST(f[0].record.end_ms == silent_from + 3250);
  BOOST_TEST(r.m->monitor().empty());
  BOOST_TEST(text(r.events("finished")[0], "reason") == "monitor lost");
}

BOOST_AUTO_TEST_CASE(a_reservation_is_not_watched) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 5);
  r.monitor_checks = false;
  r.run(5000);
  BOOST_TEST(r.events("cancelled").empty());
  BOOST_TEST(r.decide("q1", id, true)->ok);  // the Monitor is back with the yes
  BOOST_TEST(r.events("authorized").size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_monitor_link_gone_ends_the_charge_at_once) {
  rig r;
  r.configure();
  r.start_charge("q1", 30);
  r.run(2000);
  r.m->on_monitor_gone("someone-else", r.now);
  r.drain();
  BOOST_TEST(r.events("finished").empty());
  r.m->on_monitor_gone(monitor, r.now);
  r.drain();
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == "monitor lost");
  BOOST_TEST(number(r.events("finished")[0], "kwh") == 2.0);
}

// A second Monitor with the CP's key (Central refuses it) checks the
// Engine's health too, then is killed: its link going ends nothing while
// the real Monitor still watches; the real one going does.
BOOST_AUTO_TEST_CASE(a_twin_monitor_gone_ends_nothing_while_the_monitor_watches) {
  rig r;
  r.configure();
  r.start_charge("q1", 30);
  r.run(1000);
  r.from_monitor(protocol::health_check{}, "twin");  // heard last
  r.m->on_monitor_gone("twin", r.now);
  r.drain();
  BOOST_TEST(r.events("finished").empty());
  r.run(2000);
  BOOST_TEST(r.events("finished").empty());
  r.m->on_monitor_gone(monitor, r.now);
  r.drain();
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == "monitor lost");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Central: hello, link ----------------------------------------------------------

BOOST_AUTO_TEST_SUITE(central)

BOOST_AUTO_TEST_CASE(hello_on_configure_connected_every_five_seconds_and_when_asked) {
  rig r;
  r.m->on_central_connected(r.now);
  r.run(6000);
  BOOST_TEST(r.to_central<protocol::engine_hello>().empty());  // nobody to introduce yet
  r.from_monitor(protocol::engine_configure{config});
  BOOST_TEST(r.to_central<protocol::engine_hello>().size() == 1u);
  r.clear();
  r.run(4750);
  BOOST_TEST(r.to_central<protocol::engine_hello>().empty());
  r.run(5000);
  BOOST_TEST(r.to_central<protocol::engine_hello>().size() == 1u);  // the 5 s mark within that window
  r.clear();
  r.m->on_central_connected(r.now);
  r.drain();
  BOOST_TEST(r.to_central<protocol::engine_hello>().size() == 1u);
  r.clear();
  r.from_central(protocol::error_reply{errc::unauthenticated, "who are you?"});
  BOOST_TEST(r.to_central<protocol::engine_hello>().size() == 1u);
  r.clear();
  r.m->on_central_unauthenticated(r.now);
  r.drain();
  BOOST_TEST(r.to_central<protocol::engine_hello>().size() == 1u);
  for (const auto& s : r.sent) {
    BOOST_TEST(s.to == "central");
    BOOST_TEST(s.correlation == 0u);
  }
  // Other errors from Central need nothing.
  r.clear();
  r.from_central(protocol::error_reply{errc::unexpected, "no"});
  BOOST_TEST(r.sent.empty());
}

BOOST_AUTO_TEST_CASE(unauthenticated_resends_the_records_after_the_hello) {
  rig r;
  r.configure();
  r.start_charge("q1", 1);
  r.run(1000);
  r.clear();
  r.from_central(protocol::error_reply{errc::unauthenticated, ""});
  BOOST_REQUIRE(r.sent.size() == 2u);
  BOOST_TEST(std::holds_alternative<protocol::engine_hello>(r.sent[0].body));
  BOOST_TEST(std::holds_alternative<protocol::charge_finished>(r.sent[1].body));
}

BOOST_AUTO_TEST_CASE(an_outage_is_announced_once) {
  rig r;
  r.m->on_central_disconnected(r.now);
  r.m->on_central_disconnected(r.now + 1000);
  r.drain();
  BOOST_REQUIRE(r.events("central").size() == 1u);
  BOOST_TEST(text(r.events("central")[0], "status") == "unreachable");
  BOOST_TEST(text(r.events("central")[0], "text") == "cannot reach CENTRAL at " + central_at + ", retrying");
  r.m->on_central_connected(r.now);
  r.m->on_central_disconnected(r.now);
  r.m->on_central_disconnected(r.now);
  r.drain();
  BOOST_REQUIRE(r.events("central").size() == 3u);
  BOOST_TEST(text(r.events("central")[1], "status") == "connected");
  BOOST_TEST(text(r.events("central")[1], "text") == "connected to CENTRAL at " + central_at);
  BOOST_TEST(text(r.events("central")[2], "status") == "unreachable");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- operator orders and the console ---------------------------------------------------

BOOST_AUTO_TEST_SUITE(orders)

BOOST_AUTO_TEST_CASE(stop_ends_the_charge_and_resume_reopens) {
  rig r;
  r.configure();
  const auto id = r.start_charge("q1", 30);
  r.run(2000);
  const auto c = r.from_monitor(protocol::cp_command{"ALC1", cp_order::stop, ""});
  const auto* ack = r.last_to_monitor<protocol::ack>();
  BOOST_REQUIRE(ack != nullptr);
  BOOST_TEST(ack->ok);
  BOOST_TEST(r.last_correlation() == c);
  BOOST_TEST(r.events("stopped").size() == 1u);
  const auto f = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].record.charge_id == id);
  BOOST_TEST(f[0].record.reason == end_reason::stopped);
  BOOST_TEST(text(r.events("state").back(), "state") == "OUT_OF_ORDER");
  r.from_monitor(r.request("q2", 5));
  BOOST_TEST(r.last_to_monitor<protocol::authorize_reply>()->reason == "CP ALC1 is out of order");

  r.from_monitor(protocol::cp_command{"ALC1", cp_order::resume, ""});
  BOOST_TEST(r.last_to_monitor<protocol::ack>()->ok);
  BOOST_TEST(r.events("resumed").size() == 1u);
  BOOST_TEST(text(r.events("state").back(), "state") == "ACTIVE");
  r.reserve("q3", 5);
}

BOOST_AUTO_TEST_CASE(stop_drops_a_reservation_without_a_record) {
  rig r;
  r.configure();
  const auto id = r.reserve("q1", 5);
  r.from_monitor(protocol::cp_command{"ALC1", cp_order::stop, ""});
  BOOST_REQUIRE(r.events("cancelled").size() == 1u);
  BOOST_TEST(text(r.events("cancelled")[0], "reason") == "stopped by CENTRAL");
  BOOST_TEST(!r.decide("q1", id, true)->ok);
  BOOST_TEST(r.to_central<protocol::charge_finished>().empty());
}

BOOST_AUTO_TEST_CASE(plug_and_unplug_from_the_console) {
  rig r;
  r.configure();
  r.console(engine_command::plug);
  BOOST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "no_charge");
  const auto id = r.reserve("q1", 0);
  r.console(engine_command::plug);  // reserved, not confirmed: no plug yet
  BOOST_TEST(r.events("error").size() == 2u);
  BOOST_TEST(r.decide("q1", id, true)->ok);
  BOOST_TEST(r.events("plugged").empty());
  r.console(engine_command::plug);
  BOOST_REQUIRE(r.events("plugged").size() == 1u);
  BOOST_TEST(text(r.events("plugged")[0], "charge_id") == id);
  BOOST_TEST(r.ledger.open()->view.plugged);
  r.run(3000);
  r.console(engine_command::unplug);
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == "unplugged");
  BOOST_TEST(number(r.events("finished")[0], "kwh") == 3.0);
  r.console(engine_command::unplug);
  BOOST_TEST(text(r.events("error").back(), "code") == "no_charge");
}

BOOST_AUTO_TEST_CASE(fault_repair_toggle_and_quit) {
  rig r;
  r.configure();
  r.start_charge("q1", 30);
  r.run(2000);
  r.console(engine_command::toggle);
  BOOST_TEST(r.events("fault").size() == 1u);
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "reason") == "engine fault");
  BOOST_TEST(text(r.events("state").back(), "state") == "BROKEN");
  r.console(engine_command::toggle);
  BOOST_TEST(r.events("repaired").size() == 1u);
  BOOST_TEST(text(r.events("state").back(), "state") == "ACTIVE");
  // A fault drops a reservation silently.
  const auto id = r.reserve("q2", 5);
  r.console(engine_command::fault);
  BOOST_TEST(r.events("cancelled").size() == 1u);
  BOOST_TEST(r.events("finished").size() == 1u);
  BOOST_TEST(!r.decide("q2", id, true)->ok);
  r.console(engine_command::none);
  BOOST_TEST(!r.m->quit_requested());
  r.console(engine_command::quit);
  BOOST_TEST(r.m->quit_requested());
}

BOOST_AUTO_TEST_CASE(a_line_that_is_not_a_command_is_reported) {
  rig r;
  r.clear();
  r.m->on_console(domain::parse_engine_command("jump"), r.now);
  r.m->on_console(domain::parse_engine_command("plug in"), r.now);
  r.m->on_console(domain::parse_engine_command("   "), r.now);
  r.m->on_console(domain::parse_engine_command("repair"), r.now);
  r.drain();
  const auto errors = r.events("error");
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(text(errors[0], "code") == "bad_command");
  BOOST_TEST(text(errors[0], "message") == "unknown command 'jump' (try: plug, unplug, fault, repair, quit)");
  BOOST_TEST(text(errors[1], "message") == "'plug' takes no argument");
  BOOST_TEST(r.events("repaired").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_rejected_frame_is_reported) {
  rig r;
  r.clear();
  r.m->on_rejected("malformed: not MessagePack", r.now);
  r.drain();
  BOOST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "rejected");
  BOOST_TEST(text(r.events("error")[0], "message") == "malformed: not MessagePack");
  BOOST_TEST(r.sent.empty());
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE domain_record_keeper
#include <boost/test/unit_test.hpp>

// The record keeper alone on simulated time: finished charges in, saved to a
// ledger, charge_finished and engine_hello out to Central's link until each
// record_ack; its machines (engine_machine, ocpp_engine) only call it.

#include "evnet/domain/record_keeper.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace evnet;
using domain::record_keeper;

namespace {

// An arbitrary realistic epoch: 2023-11-14T22:13:20Z.
constexpr std::int64_t t0 = 1'700'000'000'000;
constexpr std::int64_t tick_ms = 250;

std::string text(const domain::notice& n, const std::string& field) {
  const auto it = n.fields.find(field);
  return it != n.fields.end() && it->second.is_string() ? it->second.get<std::string>() : std::string("(none)");
}

protocol::charge_record record(const std::string& charge_id, double kwh = 2.0) {
  protocol::charge_record r;
  r.cp_id = "ALC1";
  r.charge_id = charge_id;
  r.driver_id = "D1";
  r.kwh = kwh;
  r.price = 0.35;
  r.amount = kwh * 0.35;
  r.start_ms = t0 - 60'000;
  r.end_ms = t0;
  r.reason = end_reason::completed;
  return r;
}

// A memory_ledger that counts its calls and, at each save, takes what the
// outbox holds already: anything sent before the save shows there.
struct spy_ledger final : domain::engine_ledger {
  domain::memory_ledger real;
  domain::outbox* watched = nullptr;
  std::vector<domain::outgoing> sent_before_save;
  int saves = 0;
  int acks = 0;

  status save_open(const domain::open_charge& c) override { return real.save_open(c); }
  status save_finished(const protocol::charge_record& r) override {
    ++saves;
    if (watched != nullptr) {
      for (auto& s : watched->take_sends()) {
        sent_before_save.push_back(std::move(s));
      }
    }
    return real.save_finished(r);
  }
  status acknowledge(const std::string& cp_id, const std::string& charge_id) override {
    ++acks;
    return real.acknowledge(cp_id, charge_id);
  }
  result<domain::ledger_contents> load() override { return real.load(); }
};

// The keeper on a simulated clock, with everything it produced kept in order.
struct rig {
  std::int64_t now = t0;
  spy_ledger ledger;
  domain::outbox out;
  std::unique_ptr<record_keeper> k;
  std::vector<domain::outgoing> sent;
  std::vector<domain::notice> notices;

  rig() { start(); }

  // (Re)starts the keeper's process on the same ledger.
  void start() {
    k = std::make_unique<record_keeper>(ledger, out, now);
    ledger.watched = &out;
  }

  void drain() {
    for (auto& s : out.take_sends()) {
      sent.push_back(std::move(s));
    }
    for (auto& n : out.take_notices()) {
      notices.push_back(std::move(n));
    }
  }
  void clear() {
    drain();
    sent.clear();
    notices.clear();
  }

  void finish(const protocol::charge_record& r) {
    k->finish(r);
    drain();
  }
  void ack(const std::string& charge_id, const std::string& cp = "ALC1") {
    k->on_record_ack(protocol::record_ack{cp, charge_id});
    drain();
  }
  void connected() {
    k->on_connected(now);
    drain();
  }
  void disconnected() {
    k->on_disconnected();
    drain();
  }
  // Moves time forward by `ms`, ticking every 250 ms like the Engine.
  void run(std::int64_t ms) {
    const auto end = now + ms;
    while (now + tick_ms <= end) {
      now += tick_ms;
      k->on_tick(now);
      drain();
    }
    now = end;
  }

  // ---- what came out -----------------------------------------------------------

  template <class T>
  std::vector<T> to_central() const {
    std::vector<T> found;
    for (const auto& s : sent) {
      BOOST_TEST(s.to == "central");
      if (std::holds_alternative<T>(s.body)) {
        found.push_back(std::get<T>(s.body));
      }
    }
    return found;
  }
  std::size_t records_sent() const { return to_central<protocol::charge_finished>().size(); }
  std::size_t hellos_sent() const { return to_central<protocol::engine_hello>().size(); }
  std::vector<domain::notice> events(const std::string& name) const {
    std::vector<domain::notice> found;
    for (const auto& n : notices) {
      if (n.name == name) {
        found.push_back(n);
      }
    }
    return found;
  }
};

} // namespace

// ---- a finished charge ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(finishing)

BOOST_AUTO_TEST_CASE(a_record_is_saved_before_it_is_sent) {
  rig r;
  r.finish(record("c-1"));
  BOOST_TEST(r.ledger.saves == 1);
  BOOST_TEST(r.ledger.sent_before_save.empty());
  BOOST_REQUIRE(r.ledger.real.unacknowledged().size() == 1u);
  BOOST_TEST(r.ledger.real.unacknowledged()[0].charge_id == "c-1");

  const auto sent = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(sent.size() == 1u);
  BOOST_TEST(sent[0].record.charge_id == "c-1");
  BOOST_TEST(sent[0].record.kwh == 2.0);
  BOOST_REQUIRE(r.events("finished").size() == 1u);
  BOOST_TEST(text(r.events("finished")[0], "charge_id") == "c-1");
  BOOST_TEST(r.events("error").empty());
  BOOST_TEST(r.k->unacknowledged() == 1u);
  BOOST_REQUIRE(r.k->last_record().has_value());
  BOOST_TEST(r.k->last_record()->charge_id == "c-1");
}

BOOST_AUTO_TEST_CASE(a_failing_ledger_is_reported_as_the_machines_report_it) {
  // The machines' rule, unchanged by the keeper: the failure is an `error`
  // event with code `store`; the record is kept in memory and offered all
  // the same (Central can still bill it; only a crash before the ack loses it).
  rig r;
  r.ledger.real.failing = true;
  r.finish(record("c-1"));
  BOOST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "store");
  BOOST_TEST(text(r.events("error")[0], "message") == "the Engine's store is failing");
  BOOST_TEST(r.ledger.real.records().empty());
  BOOST_TEST(r.records_sent() == 1u);
  BOOST_TEST(r.k->unacknowledged() == 1u);
}

BOOST_AUTO_TEST_CASE(the_same_record_twice_is_kept_once) {
  rig r;
  r.finish(record("c-1"));
  r.finish(record("c-1"));
  BOOST_TEST(r.k->unacknowledged() == 1u);
  BOOST_TEST(r.ledger.real.records().size() == 1u);
  r.clear();
  r.run(2000);
  BOOST_TEST(r.records_sent() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- resending ----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(resending)

BOOST_AUTO_TEST_CASE(every_two_seconds_and_at_once_on_connect) {
  rig r;
  r.connected();
  BOOST_TEST(r.k->central_up());
  r.finish(record("c-1"));
  r.clear();
  r.run(1750);
  BOOST_TEST(r.records_sent() == 0u);  // the period runs from construction
  r.run(250);
  BOOST_TEST(r.records_sent() == 1u);
  r.clear();
  r.run(6000);
  BOOST_TEST(r.records_sent() == 3u);

  // A new session: at once, and the period starts again from there.
  r.clear();
  r.run(1000);
  r.disconnected();
  BOOST_TEST(!r.k->central_up());
  r.connected();
  BOOST_TEST(r.records_sent() == 1u);
  r.clear();
  r.run(1750);
  BOOST_TEST(r.records_sent() == 0u);
  r.run(250);
  BOOST_TEST(r.records_sent() == 1u);
}

BOOST_AUTO_TEST_CASE(while_the_link_is_down_the_transport_drops_what_is_offered) {
  // The keeper does not gate on the link (neither machine did): the offers
  // go on at the same period and the transport drops them, so a link that
  // comes back between two periods is served at once by on_connected.
  rig r;
  r.connected();
  r.finish(record("c-1"));
  r.disconnected();
  r.clear();
  r.run(4000);
  BOOST_TEST(r.records_sent() == 2u);
  r.clear();
  r.connected();
  BOOST_TEST(r.records_sent() == 1u);
}

BOOST_AUTO_TEST_CASE(nothing_to_resend_sends_nothing) {
  rig r;
  r.connected();
  r.run(10'000);
  BOOST_TEST(r.sent.empty());
  BOOST_TEST(r.notices.empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- acknowledgements ---------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(acknowledging)

BOOST_AUTO_TEST_CASE(an_ack_removes_the_record_exactly_once) {
  rig r;
  r.finish(record("c-1"));
  r.finish(record("c-2"));
  r.clear();
  r.ack("c-1");
  BOOST_REQUIRE(r.events("acknowledged").size() == 1u);
  BOOST_TEST(text(r.events("acknowledged")[0], "cp") == "ALC1");
  BOOST_TEST(text(r.events("acknowledged")[0], "charge_id") == "c-1");
  BOOST_TEST(r.ledger.acks == 1);
  BOOST_TEST(r.k->unacknowledged() == 1u);
  BOOST_REQUIRE(r.ledger.real.unacknowledged().size() == 1u);
  BOOST_TEST(r.ledger.real.unacknowledged()[0].charge_id == "c-2");

  // Only c-2 is offered again.
  r.clear();
  r.run(2000);
  const auto resent = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(resent.size() == 1u);
  BOOST_TEST(resent[0].record.charge_id == "c-2");

  // A repeated ack, an unknown charge, another CP's charge: nothing at all.
  r.clear();
  r.ack("c-1");
  r.ack("c-9");
  r.ack("c-2", "ALC2");
  BOOST_TEST(r.notices.empty());
  BOOST_TEST(r.sent.empty());
  BOOST_TEST(r.ledger.acks == 1);
  BOOST_TEST(r.k->unacknowledged() == 1u);

  r.ack("c-2");
  BOOST_TEST(r.events("acknowledged").size() == 1u);
  BOOST_TEST(r.k->unacknowledged() == 0u);
  BOOST_TEST(r.ledger.real.unacknowledged().empty());
  r.clear();
  r.run(10'000);
  BOOST_TEST(r.records_sent() == 0u);
}

BOOST_AUTO_TEST_CASE(an_ack_the_ledger_cannot_store_keeps_the_record) {
  rig r;
  r.finish(record("c-1"));
  r.clear();
  r.ledger.real.failing = true;
  r.ack("c-1");
  BOOST_TEST(r.events("acknowledged").empty());
  BOOST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "store");
  BOOST_TEST(r.k->unacknowledged() == 1u);
  r.clear();
  r.run(2000);
  BOOST_TEST(r.records_sent() == 1u);  // Central deduplicates and acks again

  r.ledger.real.failing = false;
  r.ack("c-1");
  BOOST_TEST(r.events("acknowledged").size() == 1u);
  BOOST_TEST(r.k->unacknowledged() == 0u);
  BOOST_TEST(r.ledger.real.unacknowledged().empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- recovery -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(recovery)

BOOST_AUTO_TEST_CASE(records_recovered_are_resent_on_the_first_connect) {
  rig r;
  r.finish(record("c-1"));
  r.finish(record("c-2"));
  r.finish(record("c-3"));
  r.ack("c-2");
  const domain::open_charge running{protocol::charge_view{}, "ALC1", 0.35, t0 - 5000};
  BOOST_REQUIRE(r.ledger.real.save_open(running).ok());

  // The process dies and comes back on the same ledger.
  r.now += 30'000;
  r.clear();
  r.start();
  const auto open = r.k->recover();
  r.drain();
  BOOST_TEST(r.sent.empty());  // nothing until the link or the period
  BOOST_TEST(r.notices.empty());
  BOOST_TEST(r.k->unacknowledged() == 2u);
  BOOST_TEST(!r.k->last_record().has_value());  // the last record is this process's
  BOOST_REQUIRE(open.has_value());               // for the machine to settle
  BOOST_TEST(open->cp_id == "ALC1");
  BOOST_TEST(open->started_ms == t0 - 5000);

  r.connected();
  const auto resent = r.to_central<protocol::charge_finished>();
  BOOST_REQUIRE(resent.size() == 2u);
  BOOST_TEST((resent[0].record.charge_id == "c-1" || resent[1].record.charge_id == "c-1"));
  BOOST_TEST((resent[0].record.charge_id == "c-3" || resent[1].record.charge_id == "c-3"));
  BOOST_TEST(r.hellos_sent() == 0u);  // not introduced yet

  r.ack("c-1");
  r.ack("c-3");
  BOOST_TEST(r.k->unacknowledged() == 0u);
  BOOST_TEST(r.ledger.real.unacknowledged().empty());
}

BOOST_AUTO_TEST_CASE(a_failing_ledger_at_start_is_reported) {
  rig r;
  r.finish(record("c-1"));
  r.ledger.real.failing = true;
  r.clear();
  r.start();
  const auto open = r.k->recover();
  r.drain();
  BOOST_TEST(!open.has_value());
  BOOST_REQUIRE(r.events("error").size() == 1u);
  BOOST_TEST(text(r.events("error")[0], "code") == "store");
  BOOST_TEST(r.k->unacknowledged() == 0u);
  r.connected();
  BOOST_TEST(r.records_sent() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- engine_hello ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(hello)

BOOST_AUTO_TEST_CASE(none_before_the_machine_knows_its_cp) {
  rig r;
  r.finish(record("c-1"));
  r.clear();
  r.connected();
  r.run(12'000);
  r.k->on_unauthenticated(r.now);
  r.drain();
  BOOST_TEST(!r.k->introduced());
  BOOST_TEST(r.hellos_sent() == 0u);
  // Records still go on connect and every period; `unauthenticated` waits
  // for an introduction (the records would only be refused again).
  BOOST_TEST(r.records_sent() == 1u + 6u);
}

BOOST_AUTO_TEST_CASE(at_once_every_five_seconds_and_on_connect) {
  rig r;
  r.k->introduce("ALC1", r.now);
  r.drain();
  BOOST_TEST(r.k->introduced());
  auto hellos = r.to_central<protocol::engine_hello>();
  BOOST_REQUIRE(hellos.size() == 1u);
  BOOST_TEST(hellos[0].cp_id == "ALC1");

  r.clear();
  r.run(4750);
  BOOST_TEST(r.hellos_sent() == 0u);
  r.run(250);
  BOOST_TEST(r.hellos_sent() == 1u);
  r.clear();
  r.run(15'000);
  BOOST_TEST(r.hellos_sent() == 3u);

  // On connect, and the period starts again from there.
  r.clear();
  r.run(2000);
  r.connected();
  BOOST_TEST(r.hellos_sent() == 1u);
  r.clear();
  r.run(4750);
  BOOST_TEST(r.hellos_sent() == 0u);
  r.run(250);
  BOOST_TEST(r.hellos_sent() == 1u);

  // Introduced again under another CP: that name from then on.
  r.clear();
  r.k->introduce("ALC2", r.now);
  r.run(5000);
  hellos = r.to_central<protocol::engine_hello>();
  BOOST_REQUIRE(hellos.size() == 2u);
  BOOST_TEST(hellos[0].cp_id == "ALC2");
  BOOST_TEST(hellos[1].cp_id == "ALC2");
}

BOOST_AUTO_TEST_CASE(hello_then_records_on_connect_and_when_central_forgot_us) {
  rig r;
  r.k->introduce("ALC1", r.now);
  r.finish(record("c-1"));
  r.finish(record("c-2"));
  for (const bool forgot : {false, true}) {
    r.clear();
    if (forgot) {
      r.k->on_unauthenticated(r.now);
      r.drain();
    } else {
      r.connected();
    }
    BOOST_REQUIRE(r.sent.size() == 3u);
    BOOST_TEST(std::holds_alternative<protocol::engine_hello>(r.sent[0].body));
    BOOST_TEST(std::holds_alternative<protocol::charge_finished>(r.sent[1].body));
    BOOST_TEST(std::holds_alternative<protocol::charge_finished>(r.sent[2].body));
  }
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE store_engine
#include <boost/test/unit_test.hpp>

#include "evnet/domain/engine_machine.hpp"
#include "evnet/store/engine_store.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <string>
#include <vector>

using evnet::protocol::charge_record;
using evnet::store::engine_store;
using evnet::store::open_charge;

namespace {

struct fixture {
  evnet::test::temp_dir dir;
  std::string path = dir.file("engine.db");

  std::unique_ptr<engine_store> open() {
    auto s = engine_store::open(path);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.err().message));
    return std::move(s).value();
  }
};

open_charge running(const std::string& charge_id, double kwh) {
  open_charge c;
  c.cp_id = "ALC1";
  c.price = 0.35;
  c.started_ms = 1'700'000'000'000;
  c.view.charge_id = charge_id;
  c.view.driver_id = "D1";
  c.view.plugged = true;
  c.view.kwh = kwh;
  c.view.amount = 0.35 * kwh;
  c.view.elapsed_s = static_cast<std::int64_t>(kwh);
  c.view.duration_s = 8;
  return c;
}

charge_record finished(const std::string& charge_id, double kwh, double amount) {
  charge_record r;
  r.cp_id = "ALC1";
  r.charge_id = charge_id;
  r.driver_id = "D1";
  r.kwh = kwh;
  r.price = 0.35;
  r.amount = amount;
  r.start_ms = 1'700'000'000'000;
  r.end_ms = 1'700'000'008'000;
  r.reason = evnet::end_reason::completed;
  return r;
}

std::vector<std::string> ids_of(const std::vector<charge_record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    out.push_back(r.charge_id);
  }
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(open_charges, fixture)

BOOST_AUTO_TEST_CASE(nothing_open_in_a_new_store) {
  const auto loaded = open()->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(!loaded->has_value());
}

BOOST_AUTO_TEST_CASE(the_open_charge_survives_a_restart) {
  BOOST_REQUIRE(open()->save_open(running("c-1", 3.0)).ok());
  const auto loaded = open()->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->has_value());
  const open_charge& c = **loaded;
  BOOST_TEST(c.cp_id == "ALC1");
  BOOST_TEST(c.price == 0.35);
  BOOST_TEST(c.started_ms == 1'700'000'000'000);
  BOOST_TEST(c.view.charge_id == "c-1");
  BOOST_TEST(c.view.driver_id == "D1");
  BOOST_TEST(c.view.plugged);
  BOOST_TEST(c.view.kwh == 3.0);
  BOOST_TEST(c.view.amount == 0.35 * 3.0);
  BOOST_TEST(c.view.elapsed_s == 3);
  BOOST_TEST(c.view.duration_s == 8);
}

BOOST_AUTO_TEST_CASE(save_open_replaces_and_clear_removes) {
  auto s = open();
  BOOST_REQUIRE(s->save_open(running("c-1", 1.0)).ok());
  BOOST_REQUIRE(s->save_open(running("c-1", 2.0)).ok());
  auto unplugged = running("c-2", 0.0);
  unplugged.view.plugged = false;
  BOOST_REQUIRE(s->save_open(unplugged).ok());
  s.reset();

  s = open();
  auto loaded = s->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST((*loaded)->view.charge_id == "c-2");
  BOOST_TEST(!(*loaded)->view.plugged);
  BOOST_REQUIRE(s->clear_open().ok());
  BOOST_REQUIRE(s->clear_open().ok());
  s.reset();

  loaded = open()->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(!loaded->has_value());
}

BOOST_AUTO_TEST_CASE(an_unusable_path_is_a_store_error) {
  const auto s = engine_store::open(dir.file("missing/engine.db"));
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.err().code == evnet::errc::store);
  BOOST_TEST(s.err().message.find("missing/engine.db") != std::string::npos);

  std::ofstream(path, std::ios::binary) << std::string(2048, '\x7f');
  const auto garbage = engine_store::open(path);
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST(garbage.err().code == evnet::errc::store);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(finished_charges, fixture)

BOOST_AUTO_TEST_CASE(finishing_clears_the_open_charge_and_keeps_the_record) {
  {
    auto s = open();
    BOOST_REQUIRE(s->save_open(running("c-1", 5.0)).ok());
    BOOST_REQUIRE(s->save_finished(finished("c-1", 5.0, 1.75)).ok());
  }
  auto s = open();
  const auto loaded = s->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(!loaded->has_value());
  const auto owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_REQUIRE(owed->size() == 1u);
  const auto& r = (*owed)[0];
  BOOST_TEST(r.cp_id == "ALC1");
  BOOST_TEST(r.charge_id == "c-1");
  BOOST_TEST(r.driver_id == "D1");
  BOOST_TEST(r.kwh == 5.0);
  BOOST_TEST(r.price == 0.35);
  BOOST_TEST(r.amount == 1.75);
  BOOST_TEST(r.start_ms == 1'700'000'000'000);
  BOOST_TEST(r.end_ms == 1'700'000'008'000);
  BOOST_TEST(r.reason == evnet::end_reason::completed);
}

BOOST_AUTO_TEST_CASE(a_late_record_does_not_clear_a_newer_open_charge) {
  auto s = open();
  BOOST_REQUIRE(s->save_open(running("c-2", 1.0)).ok());
  BOOST_REQUIRE(s->save_finished(finished("c-1", 5.0, 1.75)).ok());
  const auto loaded = s->load_open();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->has_value());
  BOOST_TEST((*loaded)->view.charge_id == "c-2");
}

BOOST_AUTO_TEST_CASE(saving_twice_keeps_one_record_with_the_first_figures) {
  auto s = open();
  BOOST_REQUIRE(s->save_finished(finished("c-1", 5.0, 1.75)).ok());
  BOOST_REQUIRE(s->save_finished(finished("c-1", 6.0, 2.10)).ok());
  const auto owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_REQUIRE(owed->size() == 1u);
  BOOST_TEST((*owed)[0].kwh == 5.0);
}

BOOST_AUTO_TEST_CASE(acknowledged_records_are_not_resent_even_if_saved_again) {
  {
    auto s = open();
    BOOST_REQUIRE(s->save_finished(finished("c-1", 1.0, 0.35)).ok());
    BOOST_REQUIRE(s->save_finished(finished("c-2", 2.0, 0.70)).ok());
    BOOST_REQUIRE(s->save_finished(finished("c-3", 3.0, 1.05)).ok());
    BOOST_REQUIRE(s->acknowledge("ALC1", "c-2").ok());
    BOOST_REQUIRE(s->acknowledge("ALC1", "c-2").ok());   // idempotent
    BOOST_REQUIRE(s->acknowledge("MAD1", "c-1").ok());   // another CP's id: not ours
    BOOST_REQUIRE(s->acknowledge("ALC1", "c-9").ok());   // unknown: harmless
  }
  auto s = open();
  auto owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST((ids_of(*owed) == std::vector<std::string>{"c-1", "c-3"}));

  BOOST_REQUIRE(s->save_finished(finished("c-2", 2.0, 0.70)).ok());
  owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST((ids_of(*owed) == std::vector<std::string>{"c-1", "c-3"}));

  BOOST_REQUIRE(s->acknowledge("ALC1", "c-1").ok());
  BOOST_REQUIRE(s->acknowledge("ALC1", "c-3").ok());
  owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST(owed->empty());
}

BOOST_AUTO_TEST_CASE(unacknowledged_come_back_in_the_order_they_finished) {
  auto s = open();
  for (const char* id : {"ALC1-z-1", "ALC1-a-2", "ALC1-m-3"}) {
    BOOST_REQUIRE(s->save_finished(finished(id, 1.0, 0.35)).ok());
  }
  const auto owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST((ids_of(*owed) == std::vector<std::string>{"ALC1-z-1", "ALC1-a-2", "ALC1-m-3"}));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the store as the Engine machine's ledger -------------------------------------

BOOST_FIXTURE_TEST_SUITE(as_a_ledger, fixture)

BOOST_AUTO_TEST_CASE(load_gives_the_open_charge_and_the_unacknowledged_records) {
  {
    auto s = open();
    BOOST_REQUIRE(s->save_finished(finished("c-1", 1.0, 0.35)).ok());
    BOOST_REQUIRE(s->save_finished(finished("c-2", 2.0, 0.70)).ok());
    BOOST_REQUIRE(s->acknowledge("ALC1", "c-1").ok());
    BOOST_REQUIRE(s->save_open(running("c-3", 3.0)).ok());
  }
  auto s = open();
  evnet::domain::engine_ledger& ledger = *s;
  const auto loaded = ledger.load();
  BOOST_REQUIRE(loaded.ok());
  BOOST_REQUIRE(loaded->open.has_value());
  BOOST_TEST(loaded->open->view.charge_id == "c-3");
  BOOST_TEST((ids_of(loaded->unacknowledged) == std::vector<std::string>{"c-2"}));

  const auto empty = engine_store::open(dir.file("new.db"));
  BOOST_REQUIRE(empty.ok());
  const auto nothing = (*empty)->load();
  BOOST_REQUIRE(nothing.ok());
  BOOST_TEST(!nothing->open.has_value());
  BOOST_TEST(nothing->unacknowledged.empty());
}

BOOST_AUTO_TEST_CASE(an_engine_restarted_on_the_store_settles_its_charge) {
  constexpr std::int64_t t0 = 1'700'000'000'000;
  std::string charge_id;
  {
    auto s = open();
    evnet::domain::engine_machine m{evnet::domain::engine_setup{6000, "c:1"}, *s, t0};
    m.on_monitor("mon", evnet::protocol::make("m", evnet::protocol::engine_configure{{"ALC1", "x", 0.35}}), t0);
    m.on_monitor("mon", evnet::protocol::make("m", evnet::protocol::authorize_request{"ALC1", "D1", 30, "q1"}), t0);
    for (const auto& out : m.out().take_sends()) {
      if (const auto* r = std::get_if<evnet::protocol::authorize_reply>(&out.body)) {
        charge_id = r->charge_id;
      }
    }
    BOOST_REQUIRE(!charge_id.empty());
    m.on_monitor("mon", evnet::protocol::make("m", evnet::protocol::authorize_decision{"ALC1", "q1", charge_id, true}),
                 t0);
    for (std::int64_t t = t0 + 250; t <= t0 + 2000; t += 250) {
      m.on_tick(t);
    }
  }  // the process dies
  auto s = open();
  evnet::domain::engine_machine m{evnet::domain::engine_setup{6000, "c:1"}, *s, t0 + 10'000};
  bool settled = false;
  for (const auto& out : m.out().take_sends()) {
    if (const auto* f = std::get_if<evnet::protocol::charge_finished>(&out.body)) {
      settled = f->record.charge_id == charge_id && f->record.kwh == 2.0 &&
                f->record.reason == evnet::end_reason::engine_restarted && f->record.end_ms == t0 + 10'000;
    }
  }
  BOOST_TEST(settled);
  BOOST_TEST(m.unacknowledged() == 1u);
  const auto open_now = s->load_open();
  BOOST_REQUIRE(open_now.ok());
  BOOST_TEST(!open_now->has_value());
  const auto owed = s->unacknowledged();
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST((ids_of(*owed) == std::vector<std::string>{charge_id}));
}

BOOST_AUTO_TEST_SUITE_END()

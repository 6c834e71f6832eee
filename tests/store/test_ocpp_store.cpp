#define BOOST_TEST_MODULE store_ocpp
#include <boost/test/unit_test.hpp>

// The OCPP gateway's store: one file for every charge point, a ledger per
// charge point that sees only its own rows, transactionIds unique across
// charge points and stable across restarts, errors as values; and the same
// behaviour as domain::memory_ocpp_ledger, call for call and under a real
// ocpp_engine.

#include "evnet/domain/ocpp_engine.hpp"
#include "evnet/json.hpp"
#include "evnet/store/ocpp_store.hpp"
#include "temp_dir.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace evnet;
using domain::ocpp_ledger;
using domain::ocpp_transaction;
using protocol::charge_record;
using store::ocpp_store;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

struct fixture {
  test::temp_dir dir;
  std::string path = dir.file("gateway.db");

  std::unique_ptr<ocpp_store> open() {
    auto s = ocpp_store::open(path);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.err().message));
    return std::move(s).value();
  }

  // SQL run on the file behind the store's back (another connection).
  void behind_its_back(const std::string& sql) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    BOOST_CHECK_MESSAGE(rc == SQLITE_OK, (message != nullptr ? message : ""));
    sqlite3_free(message);
    sqlite3_close(db);
  }
};

ocpp_transaction tx_of(const std::string& cp, const std::string& charge_id, const std::string& driver = "D1",
                       double price = 0.30) {
  ocpp_transaction t;
  t.cp_id = cp;
  t.charge_id = charge_id;
  t.driver_id = driver;
  t.price = price;
  t.meter_start_wh = 12'345'000;
  t.started_ms = t0;
  t.duration_s = 60;
  return t;
}

std::int64_t opened(ocpp_ledger& l, const ocpp_transaction& t) {
  auto made = l.open_transaction(t);
  BOOST_REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.err().message));
  return made->id;
}

std::optional<ocpp_transaction> open_of(ocpp_ledger& l, const std::string& cp) {
  auto found = l.open_transaction_of(cp);
  BOOST_REQUIRE_MESSAGE(found.ok(), (found.ok() ? "" : found.err().message));
  return *found;
}

std::optional<ocpp_transaction> find(ocpp_ledger& l, std::int64_t id) {
  auto found = l.transaction(id);
  BOOST_REQUIRE_MESSAGE(found.ok(), (found.ok() ? "" : found.err().message));
  return *found;
}

domain::open_charge running(const std::string& cp, const std::string& charge_id, double kwh) {
  domain::open_charge c;
  c.cp_id = cp;
  c.price = 0.30;
  c.started_ms = t0;
  c.view.charge_id = charge_id;
  c.view.driver_id = "D1";
  c.view.plugged = true;
  c.view.kwh = kwh;
  c.view.amount = 0.30 * kwh;
  c.view.elapsed_s = 7;
  c.view.duration_s = 60;
  return c;
}

charge_record finished(const std::string& cp, const std::string& charge_id, double kwh) {
  charge_record r;
  r.cp_id = cp;
  r.charge_id = charge_id;
  r.driver_id = "D1";
  r.kwh = kwh;
  r.price = 0.30;
  r.amount = 0.30 * kwh;
  r.start_ms = t0;
  r.end_ms = t0 + 8000;
  r.reason = end_reason::unplugged;
  return r;
}

std::vector<std::string> ids_of(const std::vector<charge_record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    out.push_back(r.cp_id + "/" + r.charge_id);
  }
  return out;
}

domain::ledger_contents loaded(ocpp_ledger& l) {
  auto c = l.load();
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.err().message));
  return std::move(c).value();
}

} // namespace

// ---- transactions -------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(transactions, fixture)

BOOST_AUTO_TEST_CASE(ids_are_positive_unique_across_charge_points_and_stable_after_reopen) {
  std::int64_t a1 = 0;
  std::int64_t b1 = 0;
  std::int64_t a2 = 0;
  {
    auto s = open();
    auto oc1 = s->ledger_for("OC1");
    auto oc2 = s->ledger_for("OC2");
    a1 = opened(*oc1, tx_of("OC1", "c-1"));
    b1 = opened(*oc2, tx_of("OC2", "c-1"));  // the same charge id string, another charge point
    a2 = opened(*oc1, tx_of("OC1", "c-2"));
  }
  BOOST_TEST(a1 > 0);
  BOOST_TEST(b1 > 0);
  BOOST_TEST(a2 > 0);
  BOOST_TEST((std::set<std::int64_t>{a1, b1, a2}.size() == 3u));

  auto s = open();  // the gateway restarts
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  BOOST_TEST(opened(*oc1, tx_of("OC1", "c-1")) == a1);
  BOOST_TEST(opened(*oc2, tx_of("OC2", "c-1")) == b1);
  BOOST_TEST(opened(*oc1, tx_of("OC1", "c-2")) == a2);
  const auto b2 = opened(*oc2, tx_of("OC2", "c-2"));
  BOOST_TEST((std::set<std::int64_t>{a1, b1, a2, b2}.size() == 4u));
  BOOST_TEST(b2 > std::max({a1, b1, a2}));

  const auto t = find(*oc1, a1);
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->id == a1);
  BOOST_TEST(t->cp_id == "OC1");
  BOOST_TEST(t->charge_id == "c-1");
  BOOST_TEST(t->driver_id == "D1");
  BOOST_TEST(t->price == 0.30);
  BOOST_TEST(t->meter_start_wh == 12'345'000);
  BOOST_TEST(t->started_ms == t0);
  BOOST_TEST(t->duration_s == 60);
  BOOST_TEST(!t->closed);
}

BOOST_AUTO_TEST_CASE(ids_are_never_reused_even_when_a_row_is_gone) {
  std::int64_t last = 0;
  {
    auto s = open();
    auto oc1 = s->ledger_for("OC1");
    opened(*oc1, tx_of("OC1", "c-1"));
    last = opened(*oc1, tx_of("OC1", "c-2"));
  }
  behind_its_back("DELETE FROM ocpp_transactions");
  auto s = open();
  auto oc2 = s->ledger_for("OC2");
  BOOST_TEST(opened(*oc2, tx_of("OC2", "c-9")) > last);
}

BOOST_AUTO_TEST_CASE(open_transaction_is_idempotent_and_keeps_the_first_figures) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  const auto id = opened(*oc1, tx_of("OC1", "c-1", "D1", 0.30));
  auto again = oc1->open_transaction(tx_of("OC1", "c-1", "D7", 0.99));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->id == id);
  BOOST_TEST(again->driver_id == "D1");
  BOOST_TEST(again->price == 0.30);

  // Closed, it stays the same transaction, and closed.
  BOOST_REQUIRE(oc1->close_transaction(id).ok());
  again = oc1->open_transaction(tx_of("OC1", "c-1"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->id == id);
  BOOST_TEST(again->closed);
  // A transaction asked for as closed is stored open (the ledger decides).
  auto fresh = tx_of("OC1", "c-2");
  fresh.closed = true;
  fresh.id = 777;
  auto made = oc1->open_transaction(fresh);
  BOOST_REQUIRE(made.ok());
  BOOST_TEST(!made->closed);
  BOOST_TEST(made->id != 777);
  BOOST_TEST(!find(*oc1, made->id)->closed);
}

BOOST_AUTO_TEST_CASE(open_transaction_of_sees_its_own_charge_point_only) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  const auto a = opened(*oc1, tx_of("OC1", "c-1"));
  BOOST_TEST(!open_of(*oc2, "OC2").has_value());
  BOOST_TEST(!open_of(*oc2, "OC1").has_value());  // OC2's view does not see OC1's rows
  BOOST_TEST(!open_of(*oc1, "OC2").has_value());
  auto mine = open_of(*oc1, "OC1");
  BOOST_REQUIRE(mine.has_value());
  BOOST_TEST(mine->id == a);

  const auto b = opened(*oc2, tx_of("OC2", "c-1"));
  BOOST_TEST(open_of(*oc2, "OC2")->id == b);
  BOOST_TEST(open_of(*oc1, "OC1")->id == a);

  // Closed transactions are not open any more; closing is idempotent.
  BOOST_REQUIRE(oc1->close_transaction(a).ok());
  BOOST_REQUIRE(oc1->close_transaction(a).ok());
  BOOST_REQUIRE(oc1->close_transaction(999'999).ok());  // unknown: harmless
  BOOST_TEST(!open_of(*oc1, "OC1").has_value());
  BOOST_TEST(find(*oc1, a)->closed);
  BOOST_TEST(open_of(*oc2, "OC2")->id == b);

  s.reset();  // views keep the connection: they may outlive the store object
  BOOST_TEST(open_of(*oc2, "OC2")->id == b);
  oc1.reset();
  oc2.reset();

  s = open();
  BOOST_TEST(!open_of(*s->ledger_for("OC1"), "OC1").has_value());
  BOOST_TEST(open_of(*s->ledger_for("OC2"), "OC2")->id == b);
}

BOOST_AUTO_TEST_CASE(a_charge_point_cannot_reach_another_ones_transactions) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  const auto b = opened(*oc2, tx_of("OC2", "c-1"));
  BOOST_TEST(!find(*oc1, b).has_value());
  BOOST_REQUIRE(oc1->close_transaction(b).ok());  // not its own: nothing happens
  BOOST_TEST(!find(*oc2, b)->closed);
  BOOST_TEST(!find(*oc1, 424242).has_value());

  // Writing a row for another charge point is refused, and writes nothing.
  const auto wrong = oc1->open_transaction(tx_of("OC2", "c-2"));
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST((wrong.err().code == errc::wrong_cp));
  BOOST_TEST(wrong.err().message.find("OC1") != std::string::npos);
  BOOST_TEST(wrong.err().message.find("OC2") != std::string::npos);
  BOOST_TEST((oc1->save_open(running("OC2", "c-2", 1.0)).err().code == errc::wrong_cp));
  BOOST_TEST((oc1->save_finished(finished("OC2", "c-2", 1.0)).err().code == errc::wrong_cp));
  const auto c2 = loaded(*oc2);
  BOOST_TEST(!c2.open.has_value());
  BOOST_TEST(c2.unacknowledged.empty());
  BOOST_TEST(open_of(*oc2, "OC2")->id == b);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the Engine's part, per charge point -------------------------------------------

BOOST_FIXTURE_TEST_SUITE(records, fixture)

BOOST_AUTO_TEST_CASE(records_are_saved_acknowledged_and_reloaded_per_charge_point) {
  {
    auto s = open();
    auto oc1 = s->ledger_for("OC1");
    auto oc2 = s->ledger_for("OC2");
    BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-1", 1.0)).ok());
    BOOST_REQUIRE(oc2->save_finished(finished("OC2", "c-1", 2.0)).ok());
    BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-2", 3.0)).ok());
    BOOST_REQUIRE(oc2->save_finished(finished("OC2", "c-2", 4.0)).ok());
    BOOST_REQUIRE(oc1->acknowledge("OC1", "c-1").ok());
    BOOST_REQUIRE(oc1->acknowledge("OC1", "c-1").ok());  // idempotent
    BOOST_REQUIRE(oc1->acknowledge("OC2", "c-2").ok());  // another CP's: not ours, nothing changes
    BOOST_REQUIRE(oc1->acknowledge("OC1", "c-9").ok());  // unknown: harmless
    BOOST_REQUIRE(oc1->save_open(running("OC1", "c-3", 1.5)).ok());
    BOOST_REQUIRE(oc2->save_open(running("OC2", "c-3", 0.5)).ok());
    BOOST_REQUIRE(oc2->save_open(running("OC2", "c-3", 2.5)).ok());  // replaces OC2's only
  }
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  const auto c1 = loaded(*oc1);
  BOOST_TEST((ids_of(c1.unacknowledged) == std::vector<std::string>{"OC1/c-2"}));
  BOOST_REQUIRE(c1.open.has_value());
  BOOST_TEST(c1.open->cp_id == "OC1");
  BOOST_TEST(c1.open->view.charge_id == "c-3");
  BOOST_TEST(c1.open->view.kwh == 1.5);
  BOOST_TEST(c1.open->view.amount == 0.30 * 1.5);
  BOOST_TEST(c1.open->view.plugged);
  BOOST_TEST(c1.open->view.driver_id == "D1");
  BOOST_TEST(c1.open->view.elapsed_s == 7);
  BOOST_TEST(c1.open->view.duration_s == 60);
  BOOST_TEST(c1.open->price == 0.30);
  BOOST_TEST(c1.open->started_ms == t0);
  const auto c2 = loaded(*oc2);
  BOOST_TEST((ids_of(c2.unacknowledged) == std::vector<std::string>{"OC2/c-1", "OC2/c-2"}));
  BOOST_REQUIRE(c2.open.has_value());
  BOOST_TEST(c2.open->view.kwh == 2.5);
  const auto& r = c2.unacknowledged[1];
  BOOST_TEST(r.driver_id == "D1");
  BOOST_TEST(r.kwh == 4.0);
  BOOST_TEST(r.price == 0.30);
  BOOST_TEST(r.amount == 0.30 * 4.0);
  BOOST_TEST(r.start_ms == t0);
  BOOST_TEST(r.end_ms == t0 + 8000);
  BOOST_TEST((r.reason == end_reason::unplugged));

  // A charge point nobody wrote for has nothing.
  const auto c3 = loaded(*s->ledger_for("OC3"));
  BOOST_TEST(!c3.open.has_value());
  BOOST_TEST(c3.unacknowledged.empty());
}

BOOST_AUTO_TEST_CASE(finishing_clears_that_open_charge_only_and_acknowledged_records_stay_so) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  BOOST_REQUIRE(oc1->save_open(running("OC1", "c-2", 1.0)).ok());
  BOOST_REQUIRE(oc2->save_open(running("OC2", "c-1", 1.0)).ok());
  BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-1", 5.0)).ok());  // late record of an older charge
  BOOST_TEST(loaded(*oc1).open->view.charge_id == "c-2");
  BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-2", 6.0)).ok());
  BOOST_TEST(!loaded(*oc1).open.has_value());
  BOOST_TEST(loaded(*oc2).open->view.charge_id == "c-1");  // OC2's charge "c-1" untouched

  BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-2", 9.0)).ok());  // saved again: first figures kept
  auto owed = loaded(*oc1).unacknowledged;
  BOOST_REQUIRE(owed.size() == 2u);
  BOOST_TEST(owed[1].kwh == 6.0);

  BOOST_REQUIRE(oc1->acknowledge("OC1", "c-1").ok());
  BOOST_REQUIRE(oc1->save_finished(finished("OC1", "c-1", 5.0)).ok());  // after its ack: not resent
  BOOST_TEST((ids_of(loaded(*oc1).unacknowledged) == std::vector<std::string>{"OC1/c-2"}));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- failures are values ------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(failures, fixture)

BOOST_AUTO_TEST_CASE(an_unusable_or_corrupt_file_is_a_store_error) {
  const auto missing = ocpp_store::open(dir.file("missing/gateway.db"));
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST((missing.err().code == errc::store));
  BOOST_TEST(missing.err().message.find("missing/gateway.db") != std::string::npos);

  std::filesystem::create_directory(dir.file("a-directory"));
  const auto directory = ocpp_store::open(dir.file("a-directory"));
  BOOST_REQUIRE(!directory.ok());
  BOOST_TEST((directory.err().code == errc::store));

  std::ofstream(path, std::ios::binary) << std::string(4096, '\x7f');
  const auto garbage = ocpp_store::open(path);
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST((garbage.err().code == errc::store));
  BOOST_TEST(!garbage.err().message.empty());
}

BOOST_AUTO_TEST_CASE(a_store_broken_under_a_running_gateway_answers_errors) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  const auto id = opened(*oc1, tx_of("OC1", "c-1"));
  behind_its_back("DROP TABLE ocpp_transactions; DROP TABLE ocpp_finished; DROP TABLE ocpp_open;");

  const auto expect_store_error = [](const error& e) {
    BOOST_TEST((e.code == errc::store));
    BOOST_TEST(!e.message.empty());
  };
  const auto o = oc1->open_transaction(tx_of("OC1", "c-2"));
  BOOST_REQUIRE(!o.ok());
  expect_store_error(o.err());
  const auto t = oc1->transaction(id);
  BOOST_REQUIRE(!t.ok());
  expect_store_error(t.err());
  const auto of = oc1->open_transaction_of("OC1");
  BOOST_REQUIRE(!of.ok());
  expect_store_error(of.err());
  const auto c = oc1->close_transaction(id);
  BOOST_REQUIRE(!c.ok());
  expect_store_error(c.err());
  const auto so = oc1->save_open(running("OC1", "c-1", 1.0));
  BOOST_REQUIRE(!so.ok());
  expect_store_error(so.err());
  const auto sf = oc1->save_finished(finished("OC1", "c-1", 1.0));
  BOOST_REQUIRE(!sf.ok());
  expect_store_error(sf.err());
  const auto a = oc1->acknowledge("OC1", "c-1");
  BOOST_REQUIRE(!a.ok());
  expect_store_error(a.err());
  const auto l = oc1->load();
  BOOST_REQUIRE(!l.ok());
  expect_store_error(l.err());

  // An engine on a broken ledger reports it and refuses to supply unrecorded.
  domain::ocpp_engine m{"OC1", *oc1, t0};
  bool reported = false;
  for (const auto& n : m.out().take_notices()) {
    reported = reported || n.name == "error";
  }
  BOOST_TEST(reported);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the same behaviour as memory_ocpp_ledger ---------------------------------------

namespace {

// Everything a ledger answers, as text, to compare two ledgers.
struct transcript {
  std::vector<std::string> lines;

  void note(const std::string& line) { lines.push_back(line); }
  void tx(const std::string& what, const result<ocpp_transaction>& t) {
    note(what + (t ? " " + show(*t) : " error " + std::string(to_string(t.err().code))));
  }
  void maybe(const std::string& what, const result<std::optional<ocpp_transaction>>& t) {
    note(what + (!t ? " error " + std::string(to_string(t.err().code)) : *t ? " " + show(**t) : " none"));
  }
  void st(const std::string& what, const status& s) {
    note(what + (s ? " ok" : " error " + std::string(to_string(s.err().code))));
  }
  void contents(const std::string& what, const result<domain::ledger_contents>& c) {
    if (!c) {
      note(what + " error " + std::string(to_string(c.err().code)));
      return;
    }
    note(what + " open " + (c->open ? c->open->cp_id + "/" + c->open->view.charge_id : std::string("none")));
    for (const auto& r : c->unacknowledged) {
      note(what + " owed " + r.cp_id + "/" + r.charge_id + " " + std::to_string(r.kwh));
    }
  }
  static std::string show(const ocpp_transaction& t) {
    return std::to_string(t.id) + " " + t.cp_id + "/" + t.charge_id + " " + t.driver_id + " " +
           std::to_string(t.price) + " " + std::to_string(t.meter_start_wh) + " " + std::to_string(t.started_ms) +
           " " + std::to_string(t.duration_s) + (t.closed ? " closed" : " open");
  }
};

// The calls an ocpp_engine makes of its ledger over a gateway's life, with
// `restart` between two lives (the memory ledger survives as an object, the
// store as a file).
transcript ledger_scenario(const std::function<ocpp_ledger&(bool restart)>& ledger) {
  transcript out;
  ocpp_ledger* l = &ledger(false);
  out.contents("load", l->load());
  out.maybe("none open", l->open_transaction_of("OC1"));
  out.tx("open c-1", l->open_transaction(tx_of("OC1", "c-1", "D1", 0.30)));
  out.tx("open c-1 again", l->open_transaction(tx_of("OC1", "c-1", "D9", 0.50)));
  out.maybe("open of", l->open_transaction_of("OC1"));
  out.maybe("find 1", l->transaction(1));
  out.maybe("find 2", l->transaction(2));
  out.st("save open", l->save_open(running("OC1", "c-1", 1.0)));
  out.contents("load", l->load());
  out.st("finish c-1", l->save_finished(finished("OC1", "c-1", 4.2)));
  out.st("close 1", l->close_transaction(1));
  out.st("close 1 again", l->close_transaction(1));
  out.st("close unknown", l->close_transaction(99));
  out.maybe("open of", l->open_transaction_of("OC1"));
  out.maybe("find 1", l->transaction(1));
  out.tx("refused", l->open_transaction(tx_of("OC1", "refused:x:1", "D5")));
  out.st("close refused", l->close_transaction(2));
  out.tx("open c-2", l->open_transaction(tx_of("OC1", "c-2", "D2", 0.40)));
  out.st("save open c-2", l->save_open(running("OC1", "c-2", 0.5)));
  l = &ledger(true);
  out.contents("load after restart", l->load());
  out.maybe("open of after restart", l->open_transaction_of("OC1"));
  out.tx("open c-1 after restart", l->open_transaction(tx_of("OC1", "c-1")));
  out.st("ack c-1", l->acknowledge("OC1", "c-1"));
  out.st("ack unknown", l->acknowledge("OC1", "c-7"));
  out.st("finish c-2", l->save_finished(finished("OC1", "c-2", 1.0)));
  out.st("finish c-2 again", l->save_finished(finished("OC1", "c-2", 2.0)));
  out.st("finish c-1 again", l->save_finished(finished("OC1", "c-1", 4.2)));
  out.contents("load", l->load());
  out.st("close 3", l->close_transaction(3));
  out.maybe("open of", l->open_transaction_of("OC1"));
  out.tx("open c-3", l->open_transaction(tx_of("OC1", "c-3")));
  out.maybe("open of", l->open_transaction_of("OC1"));
  return out;
}

// A gateway's ocpp_engine for OC1 over two lives, driven as the gateway
// would (test_ocpp_engine's rig, cut short): a charge billed, a replayed
// StopTransaction, a charge running across a restart, an unauthorised
// start. Everything it says is the transcript.
transcript engine_scenario(const std::string& cp, const std::function<ocpp_ledger&(bool restart)>& ledger) {
  transcript out;
  std::int64_t now = t0;
  std::uint64_t corr = 100;
  int calls = 0;
  std::unique_ptr<domain::ocpp_engine> m;
  std::vector<std::string> charge_ids;
  const auto drain = [&] {
    for (const auto& s : m->out().take_sends()) {
      if (const auto* f = std::get_if<protocol::charge_finished>(&s.body)) {
        out.note("to " + s.to + " finished " + f->record.cp_id + "/" + f->record.charge_id + " " +
                 std::to_string(f->record.kwh) + " " + std::to_string(f->record.amount) + " " +
                 std::string(to_string(f->record.reason)));
      } else if (const auto* r = std::get_if<protocol::authorize_reply>(&s.body)) {
        charge_ids.push_back(r->charge_id);
        out.note("to " + s.to + " authorize_reply " + r->charge_id + (r->ok ? " ok" : " refused"));
      } else if (const auto* e = std::get_if<protocol::error_reply>(&s.body)) {
        out.note("to " + s.to + " error " + std::string(to_string(e->code)));
      }
    }
    for (const auto& n : m->out().take_notices()) {
      if (n.name == "error") {
        out.note("notice error");
      }
    }
    for (const auto& r : m->take_requests()) {
      out.note("request " + r.action + " " + json::dump(json::value(r.payload)));
    }
    for (const auto& a : m->take_answers()) {
      out.note("answer " + a.call_id + " " + json::dump(json::value(a.payload)));
    }
  };
  const auto start = [&](bool restart) {
    m = std::make_unique<domain::ocpp_engine>(cp, ledger(restart), now);
    drain();
    m->on_central_connected(now);
    m->on_monitor(protocol::make("monitor:" + cp, protocol::engine_configure{{cp, "Parking", 0.30}}, ++corr), now);
    m->on_connected(now);
    m->on_status(1, domain::ocpp_status::available, now);
    drain();
    out.note(std::string("charging ") + (m->charging() ? "yes" : "no"));
  };
  const auto authorize = [&](const std::string& driver, const std::string& request_id) {
    m->on_monitor(protocol::make("monitor:" + cp, protocol::authorize_request{cp, driver, 0, request_id}, ++corr), now);
    drain();
    m->on_monitor(
        protocol::make("monitor:" + cp, protocol::authorize_decision{cp, request_id, charge_ids.back(), true}, ++corr),
        now);
    m->on_request_answered("RemoteStartTransaction", true, now);
    drain();
  };
  const auto start_tx = [&](const std::string& tag, std::int64_t meter_wh) {
    m->on_start_transaction("call-" + std::to_string(++calls), tag, meter_wh, now, now);
    drain();
  };
  const auto stop_tx = [&](std::int64_t id, std::int64_t meter_wh) {
    m->on_stop_transaction("call-" + std::to_string(++calls), id, meter_wh, now, now);
    drain();
  };

  start(false);
  authorize("D1", "r1");
  start_tx("D1", 1000);  // transaction 1
  now += 5000;
  stop_tx(1, 5200);
  stop_tx(1, 5200);  // replayed: answered, billed once
  m->on_central(protocol::make("central", protocol::record_ack{cp, charge_ids.back()}, 0), now);
  drain();
  authorize("D2", "r2");
  start_tx("D2", 5200);  // transaction 2, runs across the restart
  start_tx("D9", 0);     // not Central's: refused, a transaction closed at once
  now += 1000;
  start(true);  // the gateway restarts
  now += 3000;
  stop_tx(2, 7700);
  stop_tx(3, 0);    // the refused one: bills nothing
  stop_tx(42, 0);   // unknown
  return out;
}

void require_equal(const transcript& memory, const transcript& stored) {
  BOOST_TEST(memory.lines.size() == stored.lines.size());
  const auto n = std::min(memory.lines.size(), stored.lines.size());
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_TEST_MESSAGE(stored.lines[i]);  // shown with --log_level=message
    BOOST_TEST(memory.lines[i] == stored.lines[i]);
  }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(like_memory, fixture)

BOOST_AUTO_TEST_CASE(the_same_calls_get_the_same_answers) {
  domain::memory_ocpp_ledger memory;
  const auto in_memory = ledger_scenario([&](bool) -> ocpp_ledger& { return memory; });

  std::unique_ptr<ocpp_store> s;
  std::unique_ptr<ocpp_ledger> view;
  const auto stored = ledger_scenario([&](bool) -> ocpp_ledger& {
    view.reset();
    s = open();  // a restart reopens the file
    view = s->ledger_for("OC1");
    return *view;
  });
  BOOST_TEST(in_memory.lines.size() > 30u);
  require_equal(in_memory, stored);
}

BOOST_AUTO_TEST_CASE(an_ocpp_engine_behaves_the_same_on_either_ledger) {
  domain::memory_ocpp_ledger memory;
  const auto in_memory = engine_scenario("OC1", [&](bool) -> ocpp_ledger& { return memory; });

  std::unique_ptr<ocpp_store> s;
  std::unique_ptr<ocpp_ledger> view;
  const auto stored = engine_scenario("OC1", [&](bool) -> ocpp_ledger& {
    view.reset();
    s = open();
    view = s->ledger_for("OC1");
    return *view;
  });
  // The scenario did what it says: two records, the replay and the refused
  // transaction billed nothing, the charge survived the restart.
  std::size_t records = 0;
  bool survived = false;
  for (const auto& line : in_memory.lines) {
    records += line.find(" finished ") != std::string::npos ? 1u : 0u;
    survived = survived || line == "charging yes";
  }
  BOOST_TEST(records == 2u);
  BOOST_TEST(survived);
  require_equal(in_memory, stored);
}

BOOST_AUTO_TEST_CASE(two_charge_points_on_one_file_keep_apart) {
  auto s = open();
  auto oc1 = s->ledger_for("OC1");
  auto oc2 = s->ledger_for("OC2");
  // OC2 first takes ids (settled since), so OC1's differ from what a
  // ledger of its own would give.
  BOOST_REQUIRE(oc2->close_transaction(opened(*oc2, tx_of("OC2", "x-1"))).ok());
  BOOST_REQUIRE(oc2->close_transaction(opened(*oc2, tx_of("OC2", "x-2"))).ok());

  domain::ocpp_engine e1{"OC1", *oc1, t0};
  domain::ocpp_engine e2{"OC2", *oc2, t0};
  for (auto* e : {&e1, &e2}) {
    const std::string cp = e->cp_id();
    e->on_monitor(protocol::make("monitor:" + cp, protocol::engine_configure{{cp, "P", 0.30}}, 1), t0);
    e->on_connected(t0);
    e->on_monitor(protocol::make("monitor:" + cp, protocol::authorize_request{cp, "D1", 0, "r1"}, 2), t0);
    std::string charge_id;
    for (const auto& out : e->out().take_sends()) {
      if (const auto* r = std::get_if<protocol::authorize_reply>(&out.body)) {
        charge_id = r->charge_id;
      }
    }
    BOOST_REQUIRE(!charge_id.empty());
    e->on_monitor(protocol::make("monitor:" + cp, protocol::authorize_decision{cp, "r1", charge_id, true}, 3), t0);
    e->on_start_transaction("s1", "D1", 0, t0, t0);
    BOOST_REQUIRE(e->charging());
  }
  const auto tx_id = [](domain::ocpp_engine& e) {
    const auto answers = e.take_answers();
    BOOST_REQUIRE(!answers.empty());
    return answers.back().payload.at("transactionId").get<std::int64_t>();
  };
  const auto id1 = tx_id(e1);
  const auto id2 = tx_id(e2);
  BOOST_TEST(id1 == 3);
  BOOST_TEST(id2 == 4);

  // OC1 names OC2's transaction: unknown to it, OC2's charge goes on.
  e1.on_stop_transaction("s2", id2, 1000, t0 + 1000, t0 + 1000);
  BOOST_TEST(e1.take_answers().back().payload.at("idTagInfo").at("status").get<std::string>() == "Invalid");
  BOOST_TEST(e1.charging());
  BOOST_TEST(!find(*oc2, id2)->closed);

  e1.on_stop_transaction("s3", id1, 2000, t0 + 2000, t0 + 2000);
  BOOST_TEST(!e1.charging());
  oc1.reset();
  oc2.reset();
  s.reset();

  // After a restart each engine finds its own charge point's state only.
  s = open();
  oc1 = s->ledger_for("OC1");
  oc2 = s->ledger_for("OC2");
  domain::ocpp_engine r1{"OC1", *oc1, t0 + 5000};
  domain::ocpp_engine r2{"OC2", *oc2, t0 + 5000};
  BOOST_TEST(!r1.charging());
  BOOST_TEST(r2.charging());
  BOOST_TEST(r1.unacknowledged() == 1u);
  BOOST_TEST(r2.unacknowledged() == 0u);
  BOOST_TEST(open_of(*oc2, "OC2")->id == id2);
  BOOST_TEST(!open_of(*oc1, "OC1").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the audit of refused upgrades --------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(refusals, fixture)

BOOST_AUTO_TEST_CASE(refused_upgrades_are_kept_in_order_across_a_reopen_and_capped) {
  {
    auto s = open();
    BOOST_TEST(s->audit_refusal({t0 + 2, "NOSUCHCP", "10.0.0.7", "/ocpp/NOSUCHCP", 401,
                                 "the gateway holds no key for CP NOSUCHCP", 0})
                   .ok());
    BOOST_TEST(s->audit_refusal({t0 + 1, "", "10.0.0.8", "/nowhere", 404, "not /ocpp/<id>", 3}).ok());
    BOOST_TEST(s->audit_refusal({t0 + 3, "OC1", "10.0.0.9", "/ocpp/OC1", 400, "no ocpp1.6 subprotocol", 0}).ok());
    BOOST_TEST(s->audit_refusal({t0 + 4, "OC1", "10.0.0.9", std::string(1000, 'x'), 401, "wrong", 0}).ok());
  }
  auto s = open();  // durable: another connection, after a reopen
  auto all = s->refusals();
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 4u);
  BOOST_TEST((*all)[0].http_status == 404);  // oldest first
  BOOST_TEST((*all)[0].suppressed == 3u);
  BOOST_TEST((*all)[1].cp_id == "NOSUCHCP");
  BOOST_TEST((*all)[1].remote == "10.0.0.7");
  BOOST_TEST((*all)[1].reason == "the gateway holds no key for CP NOSUCHCP");
  BOOST_TEST((*all)[3].path.size() == 256u);  // peer bytes, but not without bound
  auto later = s->refusals(t0 + 3);
  BOOST_REQUIRE(later.ok());
  BOOST_TEST(later->size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_broken_file_is_an_error_value) {
  auto s = open();
  behind_its_back("DROP TABLE ocpp_refusals;");
  const auto st = s->audit_refusal({t0, "OC1", "10.0.0.9", "/ocpp/OC1", 401, "wrong", 0});
  BOOST_TEST(!st.ok());
  BOOST_TEST((st.err().code == evnet::errc::store));
  BOOST_TEST(!s->refusals().ok());
}

BOOST_AUTO_TEST_SUITE_END()

#define BOOST_TEST_MODULE store_central
#include <boost/test/unit_test.hpp>

#include "evnet/store/central_store.hpp"
#include "temp_dir.hpp"

#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

using evnet::domain::cp_record;
using evnet::domain::driver_record;
using evnet::protocol::charge_record;
using evnet::store::central_store;

namespace {

struct fixture {
  evnet::test::temp_dir dir;
  std::string path = dir.file("central.db");

  std::unique_ptr<central_store> open() {
    auto s = central_store::open(path);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.err().message));
    return std::move(s).value();
  }
};

charge_record make_charge(const std::string& cp, const std::string& id, const std::string& driver, double kwh,
                          double price, double amount) {
  charge_record r;
  r.cp_id = cp;
  r.charge_id = id;
  r.driver_id = driver;
  r.kwh = kwh;
  r.price = price;
  r.amount = amount;
  r.start_ms = 1'700'000'000'000;
  r.end_ms = 1'700'000'007'000;
  r.reason = evnet::end_reason::completed;
  return r;
}

void check_same(const charge_record& got, const charge_record& want) {
  BOOST_TEST(got.cp_id == want.cp_id);
  BOOST_TEST(got.charge_id == want.charge_id);
  BOOST_TEST(got.driver_id == want.driver_id);
  BOOST_TEST(got.kwh == want.kwh);
  BOOST_TEST(got.price == want.price);
  BOOST_TEST(got.amount == want.amount);
  BOOST_TEST(got.start_ms == want.start_ms);
  BOOST_TEST(got.end_ms == want.end_ms);
  BOOST_TEST(got.reason == want.reason);
}

std::vector<std::string> ids_of(const std::vector<charge_record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    out.push_back(r.cp_id + "/" + r.charge_id);
  }
  return out;
}

// Reads one integer with a raw connection, independent of the store's code.
std::int64_t scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

std::string text_scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// The audit row the operator's STOP/RESUME comes with.
evnet::domain::audit_entry operator_entry(const std::string& action, const std::string& cp) {
  return evnet::domain::audit_entry{0, "operator", action, evnet::json::object{{"cp", cp}}, "ok"};
}

const evnet::domain::seed shipped{
    {{"ALC1", "C/ Italia 5, Alicante", 0.35}, {"MAD1", "Gran Via 31, Madrid", 0.45}},
    {{"D1", "Ana"}, {"D2", "Luis"}},
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(opening, fixture)

BOOST_AUTO_TEST_CASE(creates_the_file_in_wal_mode) {
  {
    auto s = open();
  }
  BOOST_TEST(std::filesystem::exists(path));
  BOOST_TEST(text_scalar(path, "PRAGMA journal_mode") == "wal");
  for (const char* table : {"cps", "drivers", "charges", "tickets", "answers", "stopped_cps", "events"}) {
    BOOST_TEST_CONTEXT(table) {
      BOOST_TEST(scalar(path, std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") + table +
                                  "'") == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_unwritable_location_is_a_store_error) {
  const auto s = central_store::open(dir.file("no/such/dir/central.db"));
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.err().code == evnet::errc::store);
  BOOST_TEST(s.err().message.find("no/such/dir") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_a_store_error) {
  std::ofstream(path, std::ios::binary) << std::string(4096, 'x');
  const auto s = central_store::open(path);
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.err().code == evnet::errc::store);
  BOOST_TEST(!s.err().message.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(registry, fixture)

BOOST_AUTO_TEST_CASE(seed_inserts_only_unknown_entries) {
  {
    auto s = open();
    const auto added = s->seed(shipped);
    BOOST_REQUIRE(added.ok());
    BOOST_TEST(*added == 4);
  }
  auto s = open();
  // Same ids, new price and name: stored values win, nothing is new.
  const evnet::domain::seed changed{{{"ALC1", "Somewhere else", 0.99}}, {{"D1", "Someone else"}}};
  const auto again = s->seed(changed);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(*again == 0);
  // A new CP and a new driver are added next to the old ones.
  const evnet::domain::seed more{{{"VLC1", "C/ de Colon 20, Valencia", 0.38}}, {{"D3", "Carmen"}}};
  const auto added = s->seed(more);
  BOOST_REQUIRE(added.ok());
  BOOST_TEST(*added == 2);

  const auto reg = s->load_registry();
  BOOST_REQUIRE(reg.ok());
  BOOST_REQUIRE(reg->cps.size() == 3u);
  BOOST_TEST((reg->cps[0] == cp_record{"ALC1", "C/ Italia 5, Alicante", 0.35}));
  BOOST_TEST((reg->cps[1] == cp_record{"MAD1", "Gran Via 31, Madrid", 0.45}));
  BOOST_TEST((reg->cps[2] == cp_record{"VLC1", "C/ de Colon 20, Valencia", 0.38}));
  BOOST_REQUIRE(reg->drivers.size() == 3u);
  BOOST_TEST((reg->drivers[0] == driver_record{"D1", "Ana"}));
  BOOST_TEST((reg->drivers[1] == driver_record{"D2", "Luis"}));
  BOOST_TEST((reg->drivers[2] == driver_record{"D3", "Carmen"}));
}

BOOST_AUTO_TEST_CASE(add_cp_inserts_or_updates) {
  auto s = open();
  BOOST_REQUIRE(s->seed(shipped).ok());
  const auto updated = s->add_cp({"ALC1", "C/ Nueva 1, Alicante", 0.50});
  BOOST_REQUIRE(updated.ok());
  BOOST_TEST(!*updated);
  const auto inserted = s->add_cp({"SVQ1", "Av. de la Constitucion 16, Sevilla", 0.48});
  BOOST_REQUIRE(inserted.ok());
  BOOST_TEST(*inserted);
  s.reset();

  const auto reg = open()->load_registry();
  BOOST_REQUIRE(reg.ok());
  BOOST_REQUIRE(reg->cps.size() == 3u);
  BOOST_TEST((reg->cps[0] == cp_record{"ALC1", "C/ Nueva 1, Alicante", 0.50}));
  BOOST_TEST((reg->cps[2] == cp_record{"SVQ1", "Av. de la Constitucion 16, Sevilla", 0.48}));
}

BOOST_AUTO_TEST_CASE(empty_registry) {
  const auto reg = open()->load_registry();
  BOOST_REQUIRE(reg.ok());
  BOOST_TEST(reg->cps.empty());
  BOOST_TEST(reg->drivers.empty());
}

BOOST_AUTO_TEST_CASE(text_survives_unchanged) {
  auto s = open();
  const cp_record odd{"X'1", "C/ O'Donnell 3; DROP TABLE cps; -- \xC3\xB1", 0.33};
  BOOST_REQUIRE(s->add_cp(odd).ok());
  const auto reg = s->load_registry();
  BOOST_REQUIRE(reg.ok());
  BOOST_REQUIRE(reg->cps.size() == 1u);
  BOOST_TEST((reg->cps[0] == odd));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(charges_and_tickets, fixture)

BOOST_AUTO_TEST_CASE(a_charge_is_recorded_once_and_survives_reopen) {
  const auto first = make_charge("ALC1", "ALC1-x-1", "D1", 7.0, 0.35, 2.45);
  {
    auto s = open();
    const auto recorded = s->record_charge(first);
    BOOST_REQUIRE(recorded.ok());
    BOOST_TEST(*recorded);
  }
  auto s = open();
  // A retried report, even with other figures, bills nothing again.
  const auto retry = s->record_charge(make_charge("ALC1", "ALC1-x-1", "D1", 9.0, 0.35, 3.15));
  BOOST_REQUIRE(retry.ok());
  BOOST_TEST(!*retry);
  // The same charge id at another CP is another charge.
  const auto other = make_charge("MAD1", "ALC1-x-1", "D2", 3.0, 0.45, 1.35);
  const auto recorded = s->record_charge(other);
  BOOST_REQUIRE(recorded.ok());
  BOOST_TEST(*recorded);

  const auto all = s->charges();
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 2u);
  check_same((*all)[0], first);
  check_same((*all)[1], other);
  BOOST_TEST(scalar(path, "SELECT count(*) FROM tickets") == 2);
}

BOOST_AUTO_TEST_CASE(tickets_are_owed_per_driver_until_delivered) {
  auto s = open();
  const auto a = make_charge("ALC1", "a", "D1", 1, 0.35, 0.35);
  const auto b = make_charge("MAD1", "b", "D2", 2, 0.45, 0.90);
  const auto c = make_charge("ALC1", "c", "D1", 3, 0.35, 1.05);
  for (const auto& r : {a, b, c}) {
    BOOST_REQUIRE(s->record_charge(r).ok());
  }
  const auto d1 = s->undelivered_tickets("D1");
  BOOST_REQUIRE(d1.ok());
  BOOST_TEST((ids_of(*d1) == std::vector<std::string>{"ALC1/a", "ALC1/c"}));
  check_same((*d1)[1], c);
  const auto d2 = s->undelivered_tickets("D2");
  BOOST_REQUIRE(d2.ok());
  BOOST_TEST((ids_of(*d2) == std::vector<std::string>{"MAD1/b"}));
  const auto none = s->undelivered_tickets("D9");
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(none->empty());

  BOOST_TEST(s->mark_delivered("ALC1", "a").ok());
  BOOST_TEST(s->mark_delivered("ALC1", "a").ok());     // idempotent
  BOOST_TEST(s->mark_delivered("ALC9", "zzz").ok());   // unknown: nothing to do
  BOOST_TEST(s->mark_delivered("MAD1", "a").ok());     // wrong CP: must not touch ALC1/a's neighbours
  s.reset();

  s = open();
  const auto after = s->undelivered_tickets("D1");
  BOOST_REQUIRE(after.ok());
  BOOST_TEST((ids_of(*after) == std::vector<std::string>{"ALC1/c"}));
  const auto d2_after = s->undelivered_tickets("D2");
  BOOST_REQUIRE(d2_after.ok());
  BOOST_TEST(d2_after->size() == 1u);
  // Delivered tickets stay billed.
  const auto all = s->charges();
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->size() == 3u);
}

BOOST_AUTO_TEST_CASE(charges_started_at_the_cp_owe_no_ticket) {
  auto s = open();
  BOOST_REQUIRE(s->record_charge(make_charge("ALC1", "local", "@ALC1", 4, 0.35, 1.40)).ok());
  const auto owed = s->undelivered_tickets("@ALC1");
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST(owed->empty());
  BOOST_TEST(scalar(path, "SELECT delivered FROM tickets WHERE charge_id = 'local'") == 1);
  const auto all = s->charges();
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_duplicate_does_not_resurrect_a_delivered_ticket) {
  auto s = open();
  const auto r = make_charge("ALC1", "a", "D1", 1, 0.35, 0.35);
  BOOST_REQUIRE(s->record_charge(r).ok());
  BOOST_REQUIRE(s->mark_delivered("ALC1", "a").ok());
  const auto retry = s->record_charge(r);
  BOOST_REQUIRE(retry.ok());
  BOOST_TEST(!*retry);
  const auto owed = s->undelivered_tickets("D1");
  BOOST_REQUIRE(owed.ok());
  BOOST_TEST(owed->empty());
}

BOOST_AUTO_TEST_CASE(the_reason_is_stored_as_its_spelling_and_read_back_as_the_enum) {
  auto s = open();
  auto r = make_charge("ALC1", "stopped", "D1", 3, 0.35, 1.05);
  r.reason = evnet::end_reason::stopped;
  BOOST_REQUIRE(s->record_charge(r).ok());
  BOOST_TEST(text_scalar(path, "SELECT reason FROM charges WHERE charge_id = 'stopped'") == "stopped by CENTRAL");
  const auto all = s->charges();
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 1u);
  BOOST_TEST((*all)[0].reason == evnet::end_reason::stopped);
}

BOOST_AUTO_TEST_CASE(a_row_with_an_unknown_reason_is_a_store_error_not_another_reason) {
  auto s = open();
  BOOST_REQUIRE(s->record_charge(make_charge("ALC1", "odd", "D1", 3, 0.35, 1.05)).ok());
  {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "UPDATE charges SET reason = 'gremlins'", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  const auto all = s->charges();
  BOOST_REQUIRE(!all.ok());
  BOOST_TEST(all.err().code == evnet::errc::store);
  BOOST_TEST(all.err().message.find("gremlins") != std::string::npos, all.err().message);
  const auto owed = s->undelivered_tickets("D1");
  BOOST_TEST(!owed.ok());
}

BOOST_AUTO_TEST_CASE(a_yes_survives_reopen_and_a_charge_is_found_by_its_key) {
  {
    auto s = open();
    const evnet::protocol::charge_request req{"D1", "ALC1", 5, "D1-1"};
    BOOST_REQUIRE(s->record_yes(req, "c-7").ok());
    BOOST_REQUIRE(s->record_yes(req, "c-8").ok());  // the first yes stands
  }
  BOOST_TEST(!*open()->knows_charge("ALC1", "c-8"));
  {
    auto s = open();
    BOOST_REQUIRE(s->record_charge(make_charge("ALC1", "c-7", "D1", 1, 0.35, 0.35)).ok());
  }
  auto s = open();
  const auto yes = s->yes_for("D1", "D1-1");
  BOOST_REQUIRE(yes.ok());
  BOOST_REQUIRE(yes->has_value());
  BOOST_TEST((*yes)->ok);
  BOOST_TEST((*yes)->cp_id == "ALC1");
  BOOST_TEST((*yes)->charge_id == "c-7");
  BOOST_TEST((*yes)->request_id == "D1-1");
  const auto none = s->yes_for("D2", "D1-1");
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(!none->has_value());
  BOOST_TEST(*s->knows_charge("ALC1", "c-7"));
  BOOST_TEST(!*s->knows_charge("MAD1", "c-7"));
  BOOST_TEST(!*s->knows_charge("ALC1", "c-8"));
  BOOST_REQUIRE(s->record_yes({"D2", "MAD1", 0, "D2-1"}, "m-1").ok());
  BOOST_TEST(*s->knows_charge("MAD1", "m-1"));  // confirmed, not finished yet
}

BOOST_AUTO_TEST_CASE(the_store_is_a_charge_book) {
  auto s = open();
  evnet::domain::charge_book& book = *s;
  BOOST_REQUIRE(book.add_cp({"ALC1", "C/ Italia 5, Alicante", 0.35}).ok());
  BOOST_REQUIRE(book.set_stopped("ALC1", true, operator_entry("stop", "ALC1")).ok());
  const auto stopped = book.stopped_cps();
  BOOST_REQUIRE(stopped.ok());
  BOOST_TEST((*stopped == std::vector<std::string>{"ALC1"}));
  const auto recorded = book.record_charge(make_charge("ALC1", "a", "D1", 1, 0.35, 0.35));
  BOOST_REQUIRE(recorded.ok());
  BOOST_TEST(*recorded);
  BOOST_TEST(book.log_event("message", "hello").ok());
}

BOOST_AUTO_TEST_CASE(committed_writes_are_visible_to_another_connection_at_once) {
  auto s = open();
  BOOST_REQUIRE(s->record_charge(make_charge("ALC1", "a", "D1", 1, 0.35, 0.35)).ok());
  // The store is still open: the row must already be committed.
  BOOST_TEST(scalar(path, "SELECT count(*) FROM charges") == 1);
  BOOST_TEST(scalar(path, "SELECT count(*) FROM tickets WHERE delivered = 0") == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(operator_state, fixture)

BOOST_AUTO_TEST_CASE(stops_survive_a_restart) {
  {
    auto s = open();
    BOOST_TEST(s->set_stopped("MAD1", true, operator_entry("stop", "MAD1")).ok());
    BOOST_TEST(s->set_stopped("ALC1", true, operator_entry("stop", "ALC1")).ok());
    BOOST_TEST(s->set_stopped("ALC1", true, operator_entry("stop", "ALC1")).ok());  // idempotent
    BOOST_TEST(s->set_stopped("VLC1", false, operator_entry("resume", "VLC1")).ok()); // resuming a running CP
  }
  {
    auto s = open();
    const auto stopped = s->stopped_cps();
    BOOST_REQUIRE(stopped.ok());
    BOOST_TEST((*stopped == std::vector<std::string>{"ALC1", "MAD1"}));
    BOOST_TEST(s->set_stopped("ALC1", false, operator_entry("resume", "ALC1")).ok());
  }
  const auto stopped = open()->stopped_cps();
  BOOST_REQUIRE(stopped.ok());
  BOOST_TEST((*stopped == std::vector<std::string>{"MAD1"}));
  // Every order is audited, the idempotent ones too.
  BOOST_TEST(scalar(path, "SELECT count(*) FROM audit") == 5);
  BOOST_TEST(scalar(path, "SELECT count(*) FROM audit WHERE action = 'stop' AND source = 'operator'") == 3);
  BOOST_TEST(text_scalar(path, "SELECT params FROM audit ORDER BY seq LIMIT 1") == R"({"cp":"MAD1"})");
}

BOOST_AUTO_TEST_CASE(events_are_logged) {
  {
    auto s = open();
    BOOST_TEST(s->log_event("auth", "CP ALC1 authenticated").ok());
    BOOST_TEST(s->log_event("stop", "CP MAD1 stopped by the operator").ok());
  }
  BOOST_TEST(scalar(path, "SELECT count(*) FROM events") == 2);
  BOOST_TEST(text_scalar(path, "SELECT text FROM events WHERE kind = 'stop'") == "CP MAD1 stopped by the operator");
  BOOST_TEST(scalar(path, "SELECT min(ts) FROM events") > 1'600'000'000'000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(ocpp_passwords, fixture)

// The store keeps a salted hash per OCPP charge point, never a password; the
// last one set wins, and every change is audited.
BOOST_AUTO_TEST_CASE(a_hash_is_kept_per_registered_cp_and_replaced) {
  const std::string first = "$argon2id$v=19$m=8192,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  const std::string second = "$argon2id$v=19$m=8192,t=2,p=1$b3RoZXJzYWx0$b3RoZXJoYXNo";
  {
    auto s = open();
    BOOST_REQUIRE(s->add_cp(cp_record{"OC1", "Parking 1", 0.30, ""}).ok());
    const auto none = s->ocpp_password_hash("OC1");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(!none->has_value());
    BOOST_TEST(s->set_ocpp_password("OC1", first, operator_entry("ocpp_password", "OC1")).ok());
  }
  {
    auto s = open();
    const auto got = s->ocpp_password_hash("OC1");
    BOOST_REQUIRE(got.ok());
    BOOST_REQUIRE(got->has_value());
    BOOST_TEST(**got == first);
    BOOST_TEST(s->set_ocpp_password("OC1", second, operator_entry("ocpp_password", "OC1")).ok());
    BOOST_TEST(**s->ocpp_password_hash("OC1") == second);
  }
  BOOST_TEST(scalar(path, "SELECT count(*) FROM ocpp_passwords") == 1);
  BOOST_TEST(scalar(path, "SELECT count(*) FROM audit WHERE action = 'ocpp_password'") == 2);
}

BOOST_AUTO_TEST_CASE(a_password_an_unknown_cp_or_a_bad_id_is_refused) {
  auto s = open();
  BOOST_REQUIRE(s->add_cp(cp_record{"OC1", "Parking 1", 0.30, ""}).ok());
  const std::string hash = "$argon2id$v=19$m=8192,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  const auto clear = s->set_ocpp_password("OC1", "a-password-in-clear", operator_entry("ocpp_password", "OC1"));
  BOOST_TEST((clear.err().code == evnet::errc::invalid_field));
  const auto unknown = s->set_ocpp_password("NOPE", hash, operator_entry("ocpp_password", "NOPE"));
  BOOST_TEST((unknown.err().code == evnet::errc::unknown_cp));
  const auto bad = s->set_ocpp_password("bad id", hash, operator_entry("ocpp_password", "bad id"));
  BOOST_TEST((bad.err().code == evnet::errc::invalid_field));
  BOOST_TEST(scalar(path, "SELECT count(*) FROM ocpp_passwords") == 0);
  BOOST_TEST(scalar(path, "SELECT count(*) FROM audit") == 0);  // nothing happened, nothing audited
}

BOOST_AUTO_TEST_SUITE_END()

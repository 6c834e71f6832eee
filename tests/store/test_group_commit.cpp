// Group commit in central_store: between begin_batch() and commit_batch()
// every write joins one transaction, durable (and visible to any other
// connection) only at commit_batch(); a failed commit loses the whole batch
// and says so; inside a batch each write still fails alone.
#define BOOST_TEST_MODULE store_group_commit
#include <boost/test/unit_test.hpp>

#include "evnet/store/central_store.hpp"
#include "temp_dir.hpp"

#include <sqlite3.h>

#include <string>

using evnet::domain::audit_entry;
using evnet::domain::cp_record;
using evnet::protocol::charge_record;
using evnet::store::central_store;

namespace {

constexpr const char* key_a = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
constexpr const char* key_b = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

struct fixture {
  evnet::test::temp_dir dir;
  std::string path = dir.file("central.db");
  std::unique_ptr<central_store> db = open();
  // Another connection to the same file: what anyone else (a restarted
  // Central, the key tool) would see.
  std::unique_ptr<central_store> other = open();

  std::unique_ptr<central_store> open() {
    auto s = central_store::open(path);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.err().message));
    return std::move(s).value();
  }

  std::size_t charges_seen() {
    auto rows = other->charges();
    BOOST_REQUIRE(rows.ok());
    return rows->size();
  }
  std::size_t audits_seen() {
    auto rows = other->audit_since(0);
    BOOST_REQUIRE(rows.ok());
    return rows->size();
  }
  std::size_t stopped_seen() {
    auto rows = other->stopped_cps();
    BOOST_REQUIRE(rows.ok());
    return rows->size();
  }

  // Runs SQL on a connection of its own (the test's, not the store's).
  void raw(const std::string& sql) {
    sqlite3* h = nullptr;
    BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(h, 2000);
    char* message = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &message);
    BOOST_TEST(rc == SQLITE_OK, (message != nullptr ? message : ""));
    sqlite3_free(message);
    sqlite3_close(h);
  }
};

charge_record charge(const std::string& cp, const std::string& id) {
  charge_record r;
  r.cp_id = cp;
  r.charge_id = id;
  r.driver_id = "D1";
  r.kwh = 2.0;
  r.price = 0.40;
  r.amount = 0.80;
  r.start_ms = 1'700'000'000'000;
  r.end_ms = 1'700'000'007'000;
  r.reason = evnet::end_reason::completed;
  return r;
}

audit_entry entry(const std::string& action) { return audit_entry{1'700'000'000'000, "test", action, {}, "ok"}; }

} // namespace

BOOST_FIXTURE_TEST_CASE(outside_a_batch_every_write_commits_on_its_own, fixture) {
  const auto before = db->commits();
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).ok());
  BOOST_TEST(db->log_event("message", "one").ok());
  BOOST_TEST(db->audit(entry("auth")).ok());
  BOOST_TEST(db->commits() == before + 3);
  BOOST_TEST(charges_seen() == 1u);
  BOOST_TEST(!db->in_batch());
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_one_transaction_invisible_until_commit, fixture) {
  BOOST_REQUIRE(db->add_cp(cp_record{"ALC1", "C/ Italia 5", 0.35}).ok());
  const auto before = db->commits();
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->in_batch());
  BOOST_TEST(!db->batch_has_writes());

  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(db->record_yes(evnet::protocol::charge_request{"D1", "ALC1", 60, "r1"}, "c2").ok());
  BOOST_TEST(db->audit(entry("auth")).ok());
  BOOST_TEST(db->log_and_audit("fault", "ALC1 reported a fault", entry("fault")).ok());
  BOOST_TEST(db->set_stopped("ALC1", true, entry("stop")).ok());
  BOOST_TEST(db->mark_delivered("ALC1", "c1").ok());
  BOOST_TEST(db->batch_has_writes());
  BOOST_TEST(db->batch_writes() == 6u);

  // The writer reads its own writes; nobody else does, and nothing is durable.
  BOOST_TEST(db->charges()->size() == 1u);
  BOOST_TEST(db->yes_for("D1", "r1")->has_value());
  BOOST_TEST(charges_seen() == 0u);
  BOOST_TEST(audits_seen() == 0u);
  BOOST_TEST(stopped_seen() == 0u);
  BOOST_TEST(!other->yes_for("D1", "r1")->has_value());
  BOOST_TEST(db->commits() == before);

  auto committed = db->commit_batch();
  BOOST_TEST_REQUIRE(committed.ok(), (committed.ok() ? "" : committed.err().message));
  BOOST_TEST(db->commits() == before + 1);  // one transaction, one fsync
  BOOST_TEST(!db->in_batch());
  BOOST_TEST(charges_seen() == 1u);
  BOOST_TEST(audits_seen() == 3u);
  BOOST_TEST(stopped_seen() == 1u);
  BOOST_TEST(other->yes_for("D1", "r1")->has_value());
  BOOST_TEST(other->undelivered_tickets("D1")->empty());
}

BOOST_FIXTURE_TEST_CASE(a_batch_without_writes_costs_nothing, fixture) {
  BOOST_REQUIRE(db->record_charge(charge("ALC1", "c1")).ok());
  const auto before = db->commits();
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->charges()->size() == 1u);
  BOOST_TEST(db->knows_charge("ALC1", "c1").value());
  BOOST_TEST(!db->batch_has_writes());
  BOOST_TEST(db->commit_batch().ok());
  BOOST_TEST(db->commits() == before);
}

BOOST_FIXTURE_TEST_CASE(a_failed_commit_rolls_back_the_whole_batch_and_says_so, fixture) {
  // A deferred foreign key is checked at COMMIT: an audit row with action
  // "poison" makes the whole batch's COMMIT fail, as a full disk would.
  raw("CREATE TABLE parents (id TEXT PRIMARY KEY);"
      "CREATE TABLE orphans (parent TEXT REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);"
      "CREATE TRIGGER poison AFTER INSERT ON audit WHEN NEW.action = 'poison'"
      " BEGIN INSERT INTO orphans (parent) VALUES ('nobody'); END;");
  const auto before = db->commits();
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(db->log_event("message", "ticket ALC1 D1").ok());
  BOOST_TEST(db->audit(entry("poison")).ok());  // each write succeeds on its own...
  BOOST_TEST(db->record_charge(charge("ALC2", "c2")).value());

  auto committed = db->commit_batch();  // ...the batch does not
  BOOST_REQUIRE(!committed.ok());
  BOOST_TEST((committed.err().code == evnet::errc::store));
  BOOST_TEST(committed.err().message.find("FOREIGN KEY") != std::string::npos, committed.err().message);
  BOOST_TEST(committed.err().message.find("4 writes") != std::string::npos, committed.err().message);
  BOOST_TEST(!db->in_batch());
  BOOST_TEST(db->commits() == before);

  // Nothing of it stays, for anyone, the writer included.
  BOOST_TEST(charges_seen() == 0u);
  BOOST_TEST(audits_seen() == 0u);
  BOOST_TEST(db->charges()->empty());
  BOOST_TEST(!db->knows_charge("ALC1", "c1").value());

  // The retry (the Engine sends its record again) is written anew.
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(db->commit_batch().ok());
  BOOST_TEST(charges_seen() == 1u);
  BOOST_TEST(db->commits() == before + 1);
}

BOOST_FIXTURE_TEST_CASE(a_failing_write_inside_a_batch_fails_alone, fixture) {
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->register_key("cp", "ALC1", key_a, entry("register")).ok());
  // Another identity with the same key: UNIQUE refuses it, with its own
  // error, and its audit row goes with it (its savepoint is rolled back).
  auto refused = db->register_key("cp", "ALC2", key_a, entry("register"));
  BOOST_TEST(!refused.ok());
  BOOST_TEST((refused.err().code == evnet::errc::store));
  BOOST_TEST(refused.err().message.find("UNIQUE") != std::string::npos, refused.err().message);
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(!db->record_charge(charge("ALC1", "c1")).value());  // a retry within the batch bills once
  BOOST_TEST(db->register_key("cp", "ALC2", key_b, entry("register")).ok());
  BOOST_TEST(db->commit_batch().ok());

  auto keys = other->admitted_keys();
  BOOST_REQUIRE(keys.ok());
  BOOST_TEST(keys->size() == 2u);
  BOOST_TEST(keys->at(key_a) == "cp:ALC1");
  BOOST_TEST(keys->at(key_b) == "cp:ALC2");
  BOOST_TEST(charges_seen() == 1u);
  BOOST_TEST(audits_seen() == 2u);  // the two registrations that held
}

BOOST_FIXTURE_TEST_CASE(the_batch_guard_rolls_back_unless_committed, fixture) {
  {
    central_store::batch b{*db};
    BOOST_REQUIRE(b.started().ok());
    BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
    // A batch does not nest.
    BOOST_TEST(!db->begin_batch().ok());
    central_store::batch inner{*db};
    BOOST_TEST(!inner.started().ok());
    BOOST_TEST(!inner.commit().ok());
  }  // dropped: the outer guard rolls back, the inner one leaves it alone
  BOOST_TEST(!db->in_batch());
  BOOST_TEST(db->charges()->empty());
  BOOST_TEST(charges_seen() == 0u);

  {
    central_store::batch b{*db};
    BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
    BOOST_TEST(b.commit().ok());
    BOOST_TEST(!b.commit().ok());  // once
  }
  BOOST_TEST(charges_seen() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_locked_database_fails_the_write_not_the_batch, fixture) {
  // Someone else (the key tool) holds the write lock for longer than the
  // busy timeout: the first write of the batch fails, as any write would;
  // once the lock is free, the next write opens the batch and all is well.
  BOOST_REQUIRE(other->begin_batch().ok());
  BOOST_REQUIRE(other->log_event("message", "the other writer").ok());
  BOOST_REQUIRE(db->begin_batch().ok());
  auto locked = db->record_charge(charge("ALC1", "c1"));
  BOOST_REQUIRE(!locked.ok());
  BOOST_TEST(locked.err().message.find("locked") != std::string::npos, locked.err().message);
  BOOST_TEST(!db->batch_has_writes());
  BOOST_REQUIRE(other->commit_batch().ok());

  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(db->commit_batch().ok());
  BOOST_TEST(charges_seen() == 1u);
}

BOOST_FIXTURE_TEST_CASE(dropping_a_batch_drops_its_writes, fixture) {
  BOOST_REQUIRE(db->begin_batch().ok());
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  db->rollback_batch();
  BOOST_TEST(!db->in_batch());
  BOOST_TEST(db->charges()->empty());
  // Outside a batch again: writes commit at once.
  BOOST_TEST(db->record_charge(charge("ALC1", "c1")).value());
  BOOST_TEST(charges_seen() == 1u);
}

#define BOOST_TEST_MODULE store_central_trust
#include <boost/test/unit_test.hpp>

// Central's store, issue 8: the keys table, the audit trail, revocation,
// the same-transaction guarantee and data_version.

#include "evnet/store/central_store.hpp"
#include "temp_dir.hpp"

#include <sqlite3.h>

#include <string>
#include <vector>

using evnet::domain::audit_entry;
using evnet::store::central_store;
using evnet::store::key_row;
namespace json = evnet::json;

namespace {

// Two valid Z85 keys (any 40 characters of the alphabet will do here).
const std::string key_a = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const std::string key_b = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const std::string key_c = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

struct fixture {
  evnet::test::temp_dir dir;
  std::string path = dir.file("central.db");

  std::unique_ptr<central_store> open() {
    auto s = central_store::open(path);
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.err().message));
    return std::move(s).value();
  }
};

audit_entry entry(const std::string& source, const std::string& action, json::object params,
                  std::int64_t time_ms = 0) {
  return audit_entry{time_ms, source, action, std::move(params), "ok"};
}

audit_entry tool_register(const std::string& kind, const std::string& id, const std::string& key,
                          std::int64_t time_ms = 0) {
  return entry("tool", "register", json::object{{"kind", kind}, {"id", id}, {"key", key}}, time_ms);
}

// A second, raw connection: what another process (the key tool, a reader)
// sees, independent of the store's code.
struct raw_db {
  sqlite3* db = nullptr;
  explicit raw_db(const std::string& path) {
    BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
  }
  ~raw_db() { sqlite3_close(db); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, (message != nullptr ? message : "?"));
  }
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const auto v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
};

std::vector<std::string> identities(const std::vector<key_row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    out.push_back(r.identity + " " + r.status);
  }
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(keys, fixture)

BOOST_AUTO_TEST_CASE(registered_keys_are_listed_and_admitted) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("driver", "D1", key_b, tool_register("driver", "D1", key_b, 1000)).ok());
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a, 2000)).ok());
  const auto rows = s->keys();
  BOOST_REQUIRE(rows.ok());
  BOOST_REQUIRE(rows->size() == 2u);
  const auto& cp = (*rows)[0];  // ordered by identity: "cp:ALC1" < "driver:D1"
  BOOST_TEST(cp.identity == "cp:ALC1");
  BOOST_TEST(cp.kind == "cp");
  BOOST_TEST(cp.id == "ALC1");
  BOOST_TEST(cp.public_key == key_a);
  BOOST_TEST(cp.status == "active");
  BOOST_TEST(cp.registered_ms == 2000);
  BOOST_TEST(cp.revoked_ms == 0);
  BOOST_TEST((*rows)[1].identity == "driver:D1");

  const auto admitted = s->admitted_keys();
  BOOST_REQUIRE(admitted.ok());
  BOOST_TEST(admitted->size() == 2u);
  BOOST_TEST(admitted->at(key_a) == "cp:ALC1");
  BOOST_TEST(admitted->at(key_b) == "driver:D1");

  // Each registration wrote its audit row.
  const auto trail = s->audit_since(0);
  BOOST_REQUIRE(trail.ok());
  BOOST_REQUIRE(trail->size() == 2u);
  BOOST_TEST((*trail)[0].action == "register");
  BOOST_TEST((*trail)[0].source == "tool");
  BOOST_TEST((*trail)[0].time_ms == 1000);
  BOOST_TEST(json::dump(json::value((*trail)[1].params)) == R"({"kind":"cp","id":"ALC1","key":")" + key_a + R"("})");
}

BOOST_AUTO_TEST_CASE(keys_survive_reopen) {
  {
    auto s = open();
    BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  }
  const auto admitted = open()->admitted_keys();
  BOOST_REQUIRE(admitted.ok());
  BOOST_TEST(admitted->at(key_a) == "cp:ALC1");
}

BOOST_AUTO_TEST_CASE(a_new_key_replaces_the_old_one) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_b, tool_register("cp", "ALC1", key_b)).ok());
  const auto admitted = s->admitted_keys();
  BOOST_REQUIRE(admitted.ok());
  BOOST_TEST(admitted->size() == 1u);
  BOOST_TEST(admitted->count(key_a) == 0u);
  BOOST_TEST(admitted->at(key_b) == "cp:ALC1");
  // The freed key may now serve someone else.
  BOOST_TEST(s->register_key("driver", "D1", key_a, tool_register("driver", "D1", key_a)).ok());
}

BOOST_AUTO_TEST_CASE(one_key_never_stands_for_two_identities) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  const auto twice = s->register_key("cp", "ALC2", key_a, tool_register("cp", "ALC2", key_a));
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST((twice.err().code == evnet::errc::store));
  // Nothing changed: ALC1 keeps its key, no row for ALC2, no audit row for the refusal.
  const auto rows = s->keys();
  BOOST_REQUIRE(rows.ok());
  BOOST_TEST((identities(*rows) == std::vector<std::string>{"cp:ALC1 active"}));
  BOOST_TEST(s->audit_since(0)->size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_registrations_are_refused) {
  auto s = open();
  const auto central = s->register_key("central", "x", key_a, tool_register("central", "x", key_a));
  BOOST_REQUIRE(!central.ok());
  BOOST_TEST((central.err().code == evnet::errc::invalid_field));
  const auto bad_id = s->register_key("cp", "AL C1", key_a, tool_register("cp", "AL C1", key_a));
  BOOST_REQUIRE(!bad_id.ok());
  BOOST_TEST((bad_id.err().code == evnet::errc::invalid_field));
  BOOST_TEST(!s->register_key("cp", "", key_a, tool_register("cp", "", key_a)).ok());
  const auto bad_key = s->register_key("cp", "ALC1", "not a key", tool_register("cp", "ALC1", "not a key"));
  BOOST_REQUIRE(!bad_key.ok());
  BOOST_TEST((bad_key.err().code == evnet::errc::invalid_field));
  BOOST_TEST(s->keys()->empty());
  BOOST_TEST(s->audit_since(0)->empty());
}

BOOST_AUTO_TEST_CASE(many_keys_at_once_with_one_audit_row) {
  auto s = open();
  BOOST_REQUIRE(s->register_keys({{"cp", "B0", key_a}, {"cp", "B1", key_b}, {"driver", "B1", key_c}},
                                 entry("bench", "register", json::object{{"count", 3}}))
                    .ok());
  BOOST_TEST(s->admitted_keys()->size() == 3u);
  BOOST_TEST(s->audit_since(0)->size() == 1u);

  // One bad entry: nothing of the batch is written.
  auto t = central_store::open(dir.file("other.db"));
  BOOST_REQUIRE(t.ok());
  const auto bad = (*t)->register_keys({{"cp", "B0", key_a}, {"cp", "B1", "nope"}}, entry("bench", "register", {}));
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.err().code == evnet::errc::invalid_field));
  BOOST_TEST((*t)->keys()->empty());
  BOOST_TEST((*t)->audit_since(0)->empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(revocation, fixture)

BOOST_AUTO_TEST_CASE(revoke_a_cp_and_a_driver) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a, 1000)).ok());
  BOOST_REQUIRE(s->register_key("driver", "D1", key_b, tool_register("driver", "D1", key_b, 1000)).ok());
  BOOST_REQUIRE(s->register_key("cp", "ALC2", key_c, tool_register("cp", "ALC2", key_c, 1000)).ok());

  evnet::domain::charge_book& book = *s;
  const auto cp = book.revoke("ALC1", entry("operator", "revoke", json::object{{"id", "ALC1"}}, 5000));
  BOOST_REQUIRE(cp.ok());
  BOOST_TEST(*cp == "cp");
  const auto driver = book.revoke("D1", entry("tool", "revoke", json::object{{"id", "D1"}}, 6000));
  BOOST_REQUIRE(driver.ok());
  BOOST_TEST(*driver == "driver");

  const auto rows = s->keys();
  BOOST_REQUIRE(rows.ok());
  BOOST_TEST((identities(*rows) ==
              std::vector<std::string>{"cp:ALC1 revoked", "cp:ALC2 active", "driver:D1 revoked"}));
  BOOST_TEST((*rows)[0].revoked_ms == 5000);
  BOOST_TEST((*rows)[2].revoked_ms == 6000);
  BOOST_TEST((*rows)[0].public_key == key_a);  // kept, so that it is never registered again

  const auto admitted = s->admitted_keys();
  BOOST_REQUIRE(admitted.ok());
  BOOST_TEST(admitted->size() == 1u);
  BOOST_TEST(admitted->at(key_c) == "cp:ALC2");

  const auto trail = s->audit_since(5000);
  BOOST_REQUIRE(trail.ok());
  BOOST_REQUIRE(trail->size() == 2u);
  BOOST_TEST((*trail)[0].action == "revoke");
  BOOST_TEST((*trail)[0].source == "operator");
  BOOST_TEST((*trail)[1].source == "tool");
}

BOOST_AUTO_TEST_CASE(revoking_twice_keeps_the_first_time) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  BOOST_REQUIRE(s->revoke("ALC1", entry("operator", "revoke", {}, 5000)).ok());
  const auto again = s->revoke("ALC1", entry("operator", "revoke", {}, 9000));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(*again == "cp");
  BOOST_TEST(s->keys()->front().revoked_ms == 5000);
  BOOST_TEST(s->audit_since(0)->size() == 3u);
}

BOOST_AUTO_TEST_CASE(an_id_without_a_key_is_unknown) {
  auto s = open();
  BOOST_REQUIRE(s->add_cp({"ALC1", "C/ Italia 5", 0.35}).ok());  // registered, but no key
  const auto none = s->revoke("ALC1", entry("operator", "revoke", {}));
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST((none.err().code == evnet::errc::unknown_cp));
  BOOST_TEST(none.err().message.find("ALC1") != std::string::npos);
  BOOST_TEST(!s->revoke("nobody", entry("operator", "revoke", {})).ok());
  BOOST_TEST(s->audit_since(0)->empty());
}

BOOST_AUTO_TEST_CASE(a_cp_comes_first_when_a_driver_has_the_same_id) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("driver", "X1", key_b, tool_register("driver", "X1", key_b)).ok());
  BOOST_REQUIRE(s->register_key("cp", "X1", key_a, tool_register("cp", "X1", key_a)).ok());
  BOOST_TEST(*s->revoke("X1", entry("operator", "revoke", {})) == "cp");
  BOOST_TEST(s->admitted_keys()->count(key_b) == 1u);
}

BOOST_AUTO_TEST_CASE(a_revoked_key_never_comes_back_but_a_new_one_does) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  BOOST_REQUIRE(s->revoke("ALC1", entry("operator", "revoke", {})).ok());
  const auto same = s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a));
  BOOST_REQUIRE(!same.ok());
  BOOST_TEST((same.err().code == evnet::errc::revoked));
  BOOST_TEST(s->admitted_keys()->empty());

  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_b, tool_register("cp", "ALC1", key_b, 7000)).ok());
  const auto rows = s->keys();
  BOOST_REQUIRE(rows.ok());
  BOOST_TEST((identities(*rows) == std::vector<std::string>{"cp:ALC1 active"}));
  BOOST_TEST(rows->front().public_key == key_b);
  BOOST_TEST(rows->front().registered_ms == 7000);
  BOOST_TEST(rows->front().revoked_ms == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(audit_trail, fixture)

BOOST_AUTO_TEST_CASE(entries_read_back_in_order_and_by_time) {
  auto s = open();
  evnet::domain::charge_book& book = *s;
  BOOST_REQUIRE(book.audit(audit_entry{3000, "key cp:ALC1 from 127.0.0.1", "auth",
                                       json::object{{"key", key_a}, {"address", "127.0.0.1"}}, "admitted"})
                    .ok());
  BOOST_REQUIRE(book.audit(audit_entry{1000, "peer 0x00ff", "malformed", json::object{{"detail", "bad frame"}},
                                       "refused: malformed"})
                    .ok());
  BOOST_REQUIRE(book.audit(audit_entry{5000, "operator", "stop", json::object{{"cp", "ALC1"}}, "ok"}).ok());

  const auto all = s->audit_since(0);
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 3u);
  // In the order written (seq), not sorted by time.
  BOOST_TEST((*all)[0].action == "auth");
  BOOST_TEST((*all)[0].source == "key cp:ALC1 from 127.0.0.1");
  BOOST_TEST((*all)[0].outcome == "admitted");
  BOOST_TEST((*all)[0].params.at("address") == "127.0.0.1");
  BOOST_TEST((*all)[1].action == "malformed");

  const auto later = s->audit_since(3000);
  BOOST_REQUIRE(later.ok());
  BOOST_REQUIRE(later->size() == 2u);
  BOOST_TEST((*later)[0].action == "auth");
  BOOST_TEST((*later)[1].action == "stop");
  BOOST_TEST(s->audit_since(5001)->empty());
}

BOOST_AUTO_TEST_CASE(time_zero_means_now) {
  auto s = open();
  BOOST_REQUIRE(s->audit(entry("operator", "stop", {})).ok());
  BOOST_TEST(s->audit_since(0)->front().time_ms > 1'600'000'000'000);
}

BOOST_AUTO_TEST_CASE(hostile_text_is_stored_and_read_back_unchanged) {
  auto s = open();
  const std::string nasty = std::string("a\"b\\c\nd\x01", 8) + "\xff\xfe" + "'); DROP TABLE audit; --";
  BOOST_REQUIRE(s->audit(audit_entry{1, "peer " + nasty, "refused", json::object{{"type", nasty}}, nasty}).ok());
  const auto all = s->audit_since(0);
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 1u);
  BOOST_TEST(all->front().source == "peer " + nasty);
  BOOST_TEST(all->front().outcome == nasty);
  BOOST_TEST(all->front().params.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_row_written_by_hand_does_not_hide_the_trail) {
  auto s = open();
  raw_db raw(path);
  raw.exec("INSERT INTO audit (time_ms, source, action, params, outcome) VALUES (1, NULL, 'x', 'not json', NULL)");
  raw.exec("INSERT INTO audit (time_ms, source, action, params, outcome) VALUES (2, 's', 'y', '[1,2]', 'ok')");
  const auto all = s->audit_since(0);
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == 2u);
  BOOST_TEST(all->front().source.empty());
  BOOST_TEST(all->front().params.at("unparsed") == "not json");
  BOOST_TEST((*all)[1].params.at("unparsed") == "[1,2]");
}

BOOST_AUTO_TEST_CASE(log_and_audit_writes_both) {
  auto s = open();
  evnet::domain::charge_book& book = *s;
  BOOST_REQUIRE(book.log_and_audit("fault", "CP ALC1 BROKEN", entry("peer m", "fault", json::object{{"cp", "ALC1"}}))
                    .ok());
  raw_db raw(path);
  BOOST_TEST(raw.scalar("SELECT count(*) FROM events WHERE kind = 'fault'") == 1);
  BOOST_TEST(raw.scalar("SELECT count(*) FROM audit WHERE action = 'fault'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()

// Each change and its audit row commit together: when either fails, neither
// is written. A trigger makes one side fail on purpose.
BOOST_FIXTURE_TEST_SUITE(same_transaction, fixture)

BOOST_AUTO_TEST_CASE(no_change_without_its_audit_row) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  raw_db raw(path);
  raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END;");

  const auto stop = s->set_stopped("ALC1", true, entry("operator", "stop", json::object{{"cp", "ALC1"}}));
  BOOST_REQUIRE(!stop.ok());
  BOOST_TEST((stop.err().code == evnet::errc::store));
  BOOST_TEST(s->stopped_cps()->empty());

  BOOST_TEST(!s->log_and_audit("fault", "CP ALC1 BROKEN", entry("peer m", "fault", {})).ok());
  BOOST_TEST(raw.scalar("SELECT count(*) FROM events") == 0);

  BOOST_TEST(!s->revoke("ALC1", entry("operator", "revoke", {})).ok());
  BOOST_TEST(s->admitted_keys()->size() == 1u);

  BOOST_TEST(!s->register_key("driver", "D1", key_b, tool_register("driver", "D1", key_b)).ok());
  BOOST_TEST(s->keys()->size() == 1u);

  BOOST_TEST(!s->audit(entry("operator", "x", {})).ok());
  BOOST_TEST(raw.scalar("SELECT count(*) FROM audit") == 1);  // the first registration only

  // And the store still works once the trigger is gone: no transaction was left open.
  raw.exec("DROP TRIGGER refuse_audit");
  BOOST_TEST(s->set_stopped("ALC1", true, entry("operator", "stop", {})).ok());
  BOOST_TEST(s->stopped_cps()->size() == 1u);
}

BOOST_AUTO_TEST_CASE(no_audit_row_without_its_change) {
  auto s = open();
  BOOST_REQUIRE(s->register_key("cp", "ALC1", key_a, tool_register("cp", "ALC1", key_a)).ok());
  raw_db raw(path);
  raw.exec("CREATE TRIGGER refuse_stop BEFORE INSERT ON stopped_cps BEGIN SELECT RAISE(ABORT, 'no'); END;"
           "CREATE TRIGGER refuse_event BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'no'); END;"
           "CREATE TRIGGER refuse_revoke BEFORE UPDATE ON keys BEGIN SELECT RAISE(ABORT, 'no'); END;");
  BOOST_TEST(!s->set_stopped("ALC1", true, entry("operator", "stop", {})).ok());
  BOOST_TEST(!s->log_and_audit("fault", "x", entry("peer m", "fault", {})).ok());
  BOOST_TEST(!s->revoke("ALC1", entry("operator", "revoke", {})).ok());
  BOOST_TEST(!s->register_key("cp", "ALC1", key_b, tool_register("cp", "ALC1", key_b)).ok());  // an upsert
  BOOST_TEST(raw.scalar("SELECT count(*) FROM audit") == 1);
  BOOST_TEST(s->admitted_keys()->at(key_a) == "cp:ALC1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(change_detection, fixture)

BOOST_AUTO_TEST_CASE(data_version_moves_only_for_another_connections_commit) {
  auto central = open();
  const auto v0 = central->data_version();
  BOOST_REQUIRE(v0.ok());
  // Central's own writes do not move it (it knows what it wrote).
  BOOST_REQUIRE(central->audit(entry("operator", "stop", {})).ok());
  BOOST_TEST(*central->data_version() == *v0);

  // The key tool, another connection, registers a key while Central runs.
  {
    auto tool = open();
    BOOST_REQUIRE(tool->register_key("cp", "ALC9", key_c, tool_register("cp", "ALC9", key_c)).ok());
  }
  const auto v1 = central->data_version();
  BOOST_REQUIRE(v1.ok());
  BOOST_TEST(*v1 != *v0);
  BOOST_TEST(central->admitted_keys()->at(key_c) == "cp:ALC9");
  BOOST_TEST(*central->data_version() == *v1);  // reading does not move it

  {
    auto tool = open();
    BOOST_REQUIRE(tool->revoke("ALC9", entry("tool", "revoke", {})).ok());
  }
  BOOST_TEST(*central->data_version() != *v1);
  BOOST_TEST(central->admitted_keys()->empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(registry, fixture)

BOOST_AUTO_TEST_CASE(add_driver_inserts_or_renames_with_its_audit_row) {
  auto s = open();
  const auto reg = [](const std::string& id) {
    return entry("tool", "register", json::object{{"kind", "driver"}, {"id", id}});
  };
  BOOST_TEST(*s->add_driver({"D7", "Eva"}, reg("D7")));
  BOOST_TEST(!*s->add_driver({"D7", ""}, reg("D7")));  // known; an empty name keeps the stored one
  BOOST_TEST(s->load_registry()->drivers.front().name == "Eva");
  BOOST_TEST(!*s->add_driver({"D7", "Eva Ruiz"}, reg("D7")));
  BOOST_TEST(s->load_registry()->drivers.front().name == "Eva Ruiz");
  BOOST_TEST(s->audit_since(0)->size() == 3u);
}

BOOST_AUTO_TEST_CASE(add_cp_with_its_audit_row) {
  auto s = open();
  const auto reg = entry("tool", "register", json::object{{"kind", "cp"}, {"id", "ALC9"}});
  BOOST_TEST(*s->add_cp({"ALC9", "Plaza Mayor 1", 0.4}, reg));
  BOOST_TEST(!*s->add_cp({"ALC9", "Plaza Mayor 2", 0.5}, reg));
  BOOST_TEST(s->load_registry()->cps.front().location == "Plaza Mayor 2");
  BOOST_TEST(s->audit_since(0)->size() == 2u);
  // The charge_book one writes no audit row (the machine audits for itself).
  BOOST_TEST(!*s->add_cp({"ALC9", "Plaza Mayor 3", 0.5}));
  BOOST_TEST(s->audit_since(0)->size() == 2u);

  raw_db raw(path);
  raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END;");
  BOOST_TEST(!s->add_cp({"ALC8", "x", 0.4}, reg).ok());
  BOOST_TEST(!s->add_driver({"D8", "x"}, reg).ok());
  BOOST_TEST(s->load_registry()->cps.size() == 1u);
  BOOST_TEST(s->load_registry()->drivers.empty());
}

BOOST_AUTO_TEST_CASE(an_old_store_gains_the_new_tables) {
  {
    raw_db raw(path);  // a store written before issue 8: no keys, no audit
    raw.exec("CREATE TABLE cps (id TEXT PRIMARY KEY, location TEXT NOT NULL, price REAL NOT NULL);"
             "INSERT INTO cps VALUES ('ALC1', 'x', 0.3);");
  }
  auto s = open();
  BOOST_TEST(s->keys()->empty());
  BOOST_TEST(s->audit_since(0)->empty());
  BOOST_TEST(s->load_registry()->cps.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

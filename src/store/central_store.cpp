#include "evnet/store/central_store.hpp"

#include "charge_rows.hpp"
#include "sqlite.hpp"

#include "evnet/text.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

namespace evnet::store {

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS cps (
  id       TEXT PRIMARY KEY,
  location TEXT NOT NULL,
  price    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS drivers (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS charges (
  cp_id     TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  driver_id TEXT NOT NULL,
  kwh       REAL NOT NULL,
  price     REAL NOT NULL,
  amount    REAL NOT NULL,
  start_ms  INTEGER NOT NULL,
  end_ms    INTEGER NOT NULL,
  reason    TEXT NOT NULL,
  PRIMARY KEY (cp_id, charge_id)
);
CREATE TABLE IF NOT EXISTS tickets (
  cp_id     TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  driver_id TEXT NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (cp_id, charge_id),
  FOREIGN KEY (cp_id, charge_id) REFERENCES charges (cp_id, charge_id)
);
CREATE INDEX IF NOT EXISTS tickets_owed ON tickets (driver_id, delivered);
CREATE TABLE IF NOT EXISTS answers (
  driver_id  TEXT NOT NULL,
  request_id TEXT NOT NULL,
  cp_id      TEXT NOT NULL,
  charge_id  TEXT NOT NULL,
  PRIMARY KEY (driver_id, request_id)
);
CREATE INDEX IF NOT EXISTS answers_by_charge ON answers (cp_id, charge_id);
CREATE TABLE IF NOT EXISTS stopped_cps (
  cp_id TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS events (
  id   INTEGER PRIMARY KEY AUTOINCREMENT,
  ts   INTEGER NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
  identity      TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  id            TEXT NOT NULL,
  public_key    TEXT NOT NULL UNIQUE,
  status        TEXT NOT NULL,
  registered_ms INTEGER,
  revoked_ms    INTEGER
);
CREATE TABLE IF NOT EXISTS ocpp_passwords (
  cp_id  TEXT PRIMARY KEY,
  hash   TEXT NOT NULL,
  set_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  source  TEXT,
  action  TEXT,
  params  TEXT,
  outcome TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time_ms);
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Charges started at the CP have no driver to deliver a ticket to.
bool is_local_driver(const std::string& id) { return !id.empty() && id.front() == '@'; }

std::int64_t time_of(const domain::audit_entry& e) { return e.time_ms != 0 ? e.time_ms : now_ms(); }

// The ZAP user id of a key (security::cp_identity and driver_identity spell
// it the same; the store does not link the security library).
std::string identity_of(const std::string& kind, const std::string& id) { return kind + ":" + id; }

// The Z85 alphabet (RFC 32), to refuse a malformed key before it is stored.
bool is_z85_key(const std::string& s) {
  static constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (s.size() != 40) {
    return false;
  }
  for (const char c : s) {
    if (alphabet.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

key_row read_key_row(const sql::statement& s) {
  return key_row{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6)};
}

constexpr const char* key_columns =
    "identity, kind, id, public_key, status, COALESCE(registered_ms, 0), COALESCE(revoked_ms, 0)";

} // namespace

struct central_store::impl {
  explicit impl(sql::connection c) : db(std::move(c)) {}

  sql::connection db;

  // ---- group commit (see the header) ----
  bool batch_open = false;       // between begin_batch() and its end
  bool batch_begun = false;      // its transaction is open in SQLite
  std::size_t batch_writes = 0;  // writes joined to it
  std::optional<error> batch_lost;  // SQLite ended it early (after an error)
  std::uint64_t commits = 0;     // write transactions committed (commit hook)

  // Every write calls this first. Inside a batch, the first write opens the
  // batch's transaction; a failure to open it (the database is locked by
  // another writer for longer than busy_timeout) is this write's error, as
  // it would be outside a batch, and the next write tries again.
  status join_batch(const std::string& what) {
    if (!batch_open) {
      return ok_value;
    }
    if (!batch_begun) {
      if (auto started = db.exec("BEGIN IMMEDIATE", what + " (begin the batch)"); !started) {
        return started;
      }
      batch_begun = true;
    } else if (!batch_lost && !db.in_transaction()) {
      // An earlier write's error (disk full, I/O error) made SQLite roll
      // the whole transaction back: what the batch wrote before is gone,
      // and this write and the next ones run on their own (autocommit).
      batch_lost = error{errc::store, "SQLite rolled the batch back after an error in one of its writes"};
    }
    ++batch_writes;
    return ok_value;
  }

  void end_batch() {
    batch_open = false;
    batch_begun = false;
    batch_writes = 0;
    batch_lost.reset();
  }

  // Inserts one CP unless known; true when it was new.
  result<bool> insert_cp(const domain::cp_record& r) {
    auto s = db.prepare("INSERT OR IGNORE INTO cps (id, location, price) VALUES (?1, ?2, ?3)", "insert CP " + r.id);
    if (!s) {
      return s.err();
    }
    if (auto done = s->bind(1, r.id).bind(2, r.location).bind(3, r.price).run(); !done) {
      return done.err();
    }
    return db.changes() > 0;
  }

  result<bool> insert_driver(const domain::driver_record& r) {
    auto s = db.prepare("INSERT OR IGNORE INTO drivers (id, name) VALUES (?1, ?2)", "insert driver " + r.id);
    if (!s) {
      return s.err();
    }
    if (auto done = s->bind(1, r.id).bind(2, r.name).run(); !done) {
      return done.err();
    }
    return db.changes() > 0;
  }

  // The audit row, inside whatever transaction the caller holds.
  status insert_audit(const domain::audit_entry& e) {
    auto s = db.prepare("INSERT INTO audit (time_ms, source, action, params, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
                        "audit " + e.action);
    if (!s) {
      return s.err();
    }
    return s->bind(1, time_of(e))
        .bind(2, e.source)
        .bind(3, e.action)
        .bind(4, json::dump(json::value(e.params)))
        .bind(5, e.outcome)
        .run();
  }

  status insert_event(const std::string& kind, const std::string& text) {
    auto s = db.prepare("INSERT INTO events (ts, kind, text) VALUES (?1, ?2, ?3)", "log event " + kind);
    if (!s) {
      return s.err();
    }
    return s->bind(1, now_ms()).bind(2, kind).bind(3, text).run();
  }

  result<std::optional<key_row>> key_of(const std::string& identity) {
    auto s = db.prepare(std::string("SELECT ") + key_columns + " FROM keys WHERE identity = ?1",
                        "look up the key of " + identity);
    if (!s) {
      return s.err();
    }
    s->bind(1, identity);
    auto row = s->step();
    if (!row) {
      return row.err();
    }
    if (!*row) {
      return std::optional<key_row>{};
    }
    return std::optional<key_row>(read_key_row(*s));
  }

  // Registers one key, inside the caller's transaction (see register_key).
  status upsert_key(const std::string& kind, const std::string& id, const std::string& public_key,
                    std::int64_t at) {
    if (kind != "cp" && kind != "driver") {
      return error{errc::invalid_field, "a key belongs to a cp or a driver, not to '" + printable_id(kind) + "'"};
    }
    if (!is_safe_id(id)) {
      return error{errc::invalid_field, "invalid " + kind + " id '" + printable_id(id) + "'"};
    }
    if (!is_z85_key(public_key)) {
      return error{errc::invalid_field, "the key of " + kind + " " + id + " is not a Z85 CURVE public key"};
    }
    const auto identity = identity_of(kind, id);
    auto current = key_of(identity);
    if (!current) {
      return current.err();
    }
    if (*current && (*current)->status == "revoked" && (*current)->public_key == public_key) {
      return error{errc::revoked, "the key of " + identity + " was revoked; make a new pair for it"};
    }
    // Not INSERT OR REPLACE: that would silently delete another identity's
    // row holding the same key; the UNIQUE constraint must refuse it instead.
    auto s = db.prepare(
        "INSERT INTO keys (identity, kind, id, public_key, status, registered_ms, revoked_ms)"
        " VALUES (?1, ?2, ?3, ?4, 'active', ?5, NULL)"
        " ON CONFLICT (identity) DO UPDATE SET public_key = excluded.public_key, status = 'active',"
        " registered_ms = excluded.registered_ms, revoked_ms = NULL",
        "register the key of " + identity);
    if (!s) {
      return s.err();
    }
    return s->bind(1, identity).bind(2, kind).bind(3, id).bind(4, public_key).bind(5, at).run();
  }
};

central_store::central_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

central_store::~central_store() = default;

result<std::unique_ptr<central_store>> central_store::open(const std::string& path) {
  auto db = sql::connection::open(path, schema);
  if (!db) {
    return db.err();
  }
  auto p = std::make_unique<impl>(std::move(db).value());
  // Counts the write transactions SQLite commits (each one an fsync of the
  // WAL); `p` is heap-allocated and owns the connection, so the pointer
  // outlives every call.
  sqlite3_commit_hook(
      p->db.handle(),
      [](void* commits) {
        ++*static_cast<std::uint64_t*>(commits);
        return 0;  // 0: let the commit go on
      },
      &p->commits);
  return std::unique_ptr<central_store>(new central_store(std::move(p)));
}

// ---- group commit -----------------------------------------------------------

status central_store::begin_batch() {
  if (impl_->batch_open) {
    return error{errc::store, "a batch is open already (batches do not nest)"};
  }
  impl_->end_batch();
  impl_->batch_open = true;
  return ok_value;
}

status central_store::commit_batch() {
  auto& b = *impl_;
  if (!b.batch_open) {
    return error{errc::store, "commit_batch: no batch is open"};
  }
  const bool begun = b.batch_begun;
  const auto writes = b.batch_writes;
  auto lost = b.batch_lost;
  b.end_batch();
  if (!begun) {
    return ok_value;  // nothing was written: nothing to make durable
  }
  const std::string what = "commit a batch of " + std::to_string(writes) + (writes == 1 ? " write" : " writes");
  if (!lost && !b.db.in_transaction()) {
    lost = error{errc::store, "SQLite rolled the batch back after an error in one of its writes"};
  }
  if (lost) {
    if (b.db.in_transaction()) {
      static_cast<void>(b.db.exec("ROLLBACK", what + " (rollback)"));
    }
    return error{errc::store, what + ": " + lost->message};
  }
  auto done = b.db.exec("COMMIT", what);
  if (!done) {
    // SQLite keeps the transaction open after some failed COMMITs (a
    // deferred constraint, SQLITE_BUSY): none of the batch may stay.
    if (b.db.in_transaction()) {
      static_cast<void>(b.db.exec("ROLLBACK", what + " (rollback)"));
    }
    return error{errc::store, done.err().message + " (the whole batch is rolled back)"};
  }
  return ok_value;
}

void central_store::rollback_batch() {
  if (impl_->batch_begun && impl_->db.in_transaction()) {
    static_cast<void>(impl_->db.exec("ROLLBACK", "roll back a batch"));
  }
  impl_->end_batch();
}

bool central_store::in_batch() const { return impl_->batch_open; }

bool central_store::batch_has_writes() const { return impl_->batch_open && impl_->batch_begun; }

std::size_t central_store::batch_writes() const { return impl_->batch_writes; }

std::uint64_t central_store::commits() const { return impl_->commits; }

central_store::batch::batch(central_store& store) : store_(&store), started_(store.begin_batch()) {}

central_store::batch::~batch() {
  if (store_ != nullptr && started_) {
    store_->rollback_batch();
  }
}

status central_store::batch::commit() {
  if (!started_) {
    return started_;
  }
  if (store_ == nullptr) {
    return error{errc::store, "the batch is over already"};
  }
  return std::exchange(store_, nullptr)->commit_batch();
}

result<int> central_store::seed(const domain::seed& s) {
  if (auto joined = impl_->join_batch("seed the registry"); !joined) {
    return joined.err();
  }
  auto tx = sql::transaction::begin(impl_->db, "seed the registry");
  if (!tx) {
    return tx.err();
  }
  int added = 0;
  for (const auto& cp : s.cps) {
    auto inserted = impl_->insert_cp(cp);
    if (!inserted) {
      return inserted.err();
    }
    added += *inserted ? 1 : 0;
  }
  for (const auto& driver : s.drivers) {
    auto inserted = impl_->insert_driver(driver);
    if (!inserted) {
      return inserted.err();
    }
    added += *inserted ? 1 : 0;
  }
  if (auto done = tx->commit(); !done) {
    return done.err();
  }
  return added;
}

result<bool> central_store::add_cp(const domain::cp_record& r) { return add_cp(r, nullptr); }

result<bool> central_store::add_cp(const domain::cp_record& r, const domain::audit_entry& e) { return add_cp(r, &e); }

result<bool> central_store::add_cp(const domain::cp_record& r, const domain::audit_entry* e) {
  if (auto joined = impl_->join_batch("register CP " + r.id); !joined) {
    return joined.err();
  }
  auto tx = sql::transaction::begin(impl_->db, "register CP " + r.id);
  if (!tx) {
    return tx.err();
  }
  auto inserted = impl_->insert_cp(r);
  if (!inserted) {
    return inserted.err();
  }
  if (!*inserted) {
    auto s = impl_->db.prepare("UPDATE cps SET location = ?2, price = ?3 WHERE id = ?1", "update CP " + r.id);
    if (!s) {
      return s.err();
    }
    if (auto done = s->bind(1, r.id).bind(2, r.location).bind(3, r.price).run(); !done) {
      return done.err();
    }
  }
  if (e != nullptr) {
    if (auto done = impl_->insert_audit(*e); !done) {
      return done.err();
    }
  }
  if (auto done = tx->commit(); !done) {
    return done.err();
  }
  return *inserted;
}

result<bool> central_store::add_driver(const domain::driver_record& r, const domain::audit_entry& e) {
  if (auto joined = impl_->join_batch("register driver " + r.id); !joined) {
    return joined.err();
  }
  auto tx = sql::transaction::begin(impl_->db, "register driver " + r.id);
  if (!tx) {
    return tx.err();
  }
  auto inserted = impl_->insert_driver(r);
  if (!inserted) {
    return inserted.err();
  }
  if (!*inserted && !r.name.empty()) {
    auto s = impl_->db.prepare("UPDATE drivers SET name = ?2 WHERE id = ?1", "update driver " + r.id);
    if (!s) {
      return s.err();
    }
    if (auto done = s->bind(1, r.id).bind(2, r.name).run(); !done) {
      return done.err();
    }
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done.err();
  }
  if (auto done = tx->commit(); !done) {
    return done.err();
  }
  return *inserted;
}

result<domain::seed> central_store::load_registry() {
  domain::seed out;
  auto cps = impl_->db.prepare("SELECT id, location, price FROM cps ORDER BY id", "load CPs");
  if (!cps) {
    return cps.err();
  }
  auto cp_rows = sql::collect<domain::cp_record>(*cps, [](const sql::statement& s) {
    return domain::cp_record{s.text(0), s.text(1), s.real(2)};
  });
  if (!cp_rows) {
    return cp_rows.err();
  }
  out.cps = std::move(cp_rows).value();

  auto drivers = impl_->db.prepare("SELECT id, name FROM drivers ORDER BY id", "load drivers");
  if (!drivers) {
    return drivers.err();
  }
  auto driver_rows = sql::collect<domain::driver_record>(*drivers, [](const sql::statement& s) {
    return domain::driver_record{s.text(0), s.text(1)};
  });
  if (!driver_rows) {
    return driver_rows.err();
  }
  out.drivers = std::move(driver_rows).value();
  return out;
}

result<bool> central_store::record_charge(const protocol::charge_record& r) {
  const std::string what = "record charge " + r.cp_id + "/" + r.charge_id;
  if (auto joined = impl_->join_batch(what); !joined) {
    return joined.err();
  }
  auto tx = sql::transaction::begin(impl_->db, what);
  if (!tx) {
    return tx.err();
  }
  if (auto inserted = charge_rows::insert(impl_->db, "charges", r, what); !inserted) {
    return inserted.err();
  }
  if (impl_->db.changes() == 0) {
    // Already billed: a retried report. The guard rolls back (a no-op).
    return false;
  }
  auto ticket = impl_->db.prepare("INSERT INTO tickets (cp_id, charge_id, driver_id, delivered) VALUES (?1, ?2, ?3, ?4)",
                                  what + " (ticket)");
  if (!ticket) {
    return ticket.err();
  }
  if (auto done = ticket->bind(1, r.cp_id).bind(2, r.charge_id).bind(3, r.driver_id).bind(4, is_local_driver(r.driver_id)).run();
      !done) {
    return done.err();
  }
  if (auto done = tx->commit(); !done) {
    return done.err();
  }
  return true;
}

result<std::vector<protocol::charge_record>> central_store::charges() {
  auto s = impl_->db.prepare("SELECT " + charge_rows::columns("c.") + " FROM charges c ORDER BY c.rowid",
                             "list charges");
  if (!s) {
    return s.err();
  }
  return sql::collect<protocol::charge_record>(*s, charge_rows::read);
}

result<bool> central_store::knows_charge(const std::string& cp_id, const std::string& charge_id) {
  auto s = impl_->db.prepare("SELECT 1 FROM charges WHERE cp_id = ?1 AND charge_id = ?2 UNION ALL "
                             "SELECT 1 FROM answers WHERE cp_id = ?1 AND charge_id = ?2",
                             "look up charge " + cp_id + "/" + charge_id);
  if (!s) {
    return s.err();
  }
  s->bind(1, cp_id).bind(2, charge_id);
  return s->step();
}

status central_store::record_yes(const protocol::charge_request& req, const std::string& charge_id) {
  if (auto joined = impl_->join_batch("record the yes to " + req.driver_id + "/" + req.request_id); !joined) {
    return joined;
  }
  auto s = impl_->db.prepare(
      "INSERT OR IGNORE INTO answers (driver_id, request_id, cp_id, charge_id) VALUES (?1, ?2, ?3, ?4)",
      "record the yes to " + req.driver_id + "/" + req.request_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, req.driver_id).bind(2, req.request_id).bind(3, req.cp_id).bind(4, charge_id).run();
}

result<std::optional<protocol::charge_reply>> central_store::yes_for(const std::string& driver_id,
                                                                     const std::string& request_id) {
  auto s = impl_->db.prepare("SELECT cp_id, charge_id FROM answers WHERE driver_id = ?1 AND request_id = ?2",
                             "look up the answer to " + driver_id + "/" + request_id);
  if (!s) {
    return s.err();
  }
  s->bind(1, driver_id).bind(2, request_id);
  auto row = s->step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return std::optional<protocol::charge_reply>{};
  }
  return std::optional<protocol::charge_reply>(protocol::charge_reply{true, "", s->text(0), s->text(1), request_id});
}

result<std::vector<protocol::charge_record>> central_store::undelivered_tickets(const std::string& driver_id) {
  auto s = impl_->db.prepare("SELECT " + charge_rows::columns("c.") +
                                 " FROM tickets t JOIN charges c ON c.cp_id = t.cp_id AND c.charge_id = t.charge_id"
                                 " WHERE t.driver_id = ?1 AND t.delivered = 0 ORDER BY c.rowid",
                             "list tickets owed to " + driver_id);
  if (!s) {
    return s.err();
  }
  s->bind(1, driver_id);
  return sql::collect<protocol::charge_record>(*s, charge_rows::read);
}

status central_store::mark_delivered(const std::string& cp_id, const std::string& charge_id) {
  if (auto joined = impl_->join_batch("mark ticket " + cp_id + "/" + charge_id + " delivered"); !joined) {
    return joined;
  }
  auto s = impl_->db.prepare("UPDATE tickets SET delivered = 1 WHERE cp_id = ?1 AND charge_id = ?2",
                             "mark ticket " + cp_id + "/" + charge_id + " delivered");
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_id).bind(2, charge_id).run();
}

status central_store::set_stopped(const std::string& cp_id, bool stopped, const domain::audit_entry& e) {
  const std::string what = std::string(stopped ? "stop" : "resume") + " CP " + cp_id;
  if (auto joined = impl_->join_batch(what); !joined) {
    return joined;
  }
  auto tx = sql::transaction::begin(impl_->db, what);
  if (!tx) {
    return tx.err();
  }
  const char* sql = stopped ? "INSERT OR IGNORE INTO stopped_cps (cp_id) VALUES (?1)" : "DELETE FROM stopped_cps WHERE cp_id = ?1";
  auto s = impl_->db.prepare(sql, what);
  if (!s) {
    return s.err();
  }
  if (auto done = s->bind(1, cp_id).run(); !done) {
    return done;
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done;
  }
  return tx->commit();
}

result<std::vector<std::string>> central_store::stopped_cps() {
  auto s = impl_->db.prepare("SELECT cp_id FROM stopped_cps ORDER BY cp_id", "list stopped CPs");
  if (!s) {
    return s.err();
  }
  return sql::collect<std::string>(*s, [](const sql::statement& row) { return row.text(0); });
}

status central_store::log_event(const std::string& kind, const std::string& text) {
  if (auto joined = impl_->join_batch("log event " + kind); !joined) {
    return joined;
  }
  return impl_->insert_event(kind, text);
}

status central_store::audit(const domain::audit_entry& e) {
  if (auto joined = impl_->join_batch("audit " + e.action); !joined) {
    return joined;
  }
  return impl_->insert_audit(e);
}

status central_store::log_and_audit(const std::string& kind, const std::string& text, const domain::audit_entry& e) {
  if (auto joined = impl_->join_batch("log and audit " + kind); !joined) {
    return joined;
  }
  auto tx = sql::transaction::begin(impl_->db, "log and audit " + kind);
  if (!tx) {
    return tx.err();
  }
  if (auto done = impl_->insert_event(kind, text); !done) {
    return done;
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done;
  }
  return tx->commit();
}

result<std::vector<domain::audit_entry>> central_store::audit_since(std::int64_t since_ms) {
  auto s = impl_->db.prepare("SELECT time_ms, COALESCE(source, ''), COALESCE(action, ''), COALESCE(params, ''),"
                             " COALESCE(outcome, '') FROM audit WHERE time_ms >= ?1 ORDER BY seq",
                             "read the audit trail");
  if (!s) {
    return s.err();
  }
  s->bind(1, since_ms);
  return sql::collect<domain::audit_entry>(*s, [](const sql::statement& row) {
    domain::audit_entry e;
    e.time_ms = row.integer(0);
    e.source = row.text(1);
    e.action = row.text(2);
    const auto params = row.text(3);
    if (!params.empty()) {
      // Written by insert_audit as an object; anything else (a row written
      // by hand) is shown as it is rather than hiding the whole trail.
      auto parsed = json::parse(params);
      if (parsed && parsed->is_object()) {
        e.params = json::object(parsed->get_ref<const json::object&>());
      } else {
        e.params = json::object{{"unparsed", params}};
      }
    }
    e.outcome = row.text(4);
    return e;
  });
}

result<std::vector<key_row>> central_store::keys() {
  auto s = impl_->db.prepare(std::string("SELECT ") + key_columns + " FROM keys ORDER BY identity", "list keys");
  if (!s) {
    return s.err();
  }
  return sql::collect<key_row>(*s, read_key_row);
}

result<std::map<std::string, std::string>> central_store::admitted_keys() {
  auto s = impl_->db.prepare("SELECT public_key, identity FROM keys WHERE status = 'active' ORDER BY identity",
                             "list admitted keys");
  if (!s) {
    return s.err();
  }
  auto rows = sql::collect<std::pair<std::string, std::string>>(
      *s, [](const sql::statement& row) { return std::make_pair(row.text(0), row.text(1)); });
  if (!rows) {
    return rows.err();
  }
  std::map<std::string, std::string> out;
  for (auto& [key, identity] : *rows) {
    out.emplace(std::move(key), std::move(identity));
  }
  return out;
}

status central_store::register_key(const std::string& kind, const std::string& id, const std::string& public_key,
                                   const domain::audit_entry& e) {
  if (auto joined = impl_->join_batch("register a key"); !joined) {
    return joined;
  }
  auto tx = sql::transaction::begin(impl_->db, "register the key of " + kind + " " + printable_id(id));
  if (!tx) {
    return tx.err();
  }
  if (auto done = impl_->upsert_key(kind, id, public_key, time_of(e)); !done) {
    return done;
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done;
  }
  return tx->commit();
}

status central_store::register_keys(const std::vector<std::tuple<std::string, std::string, std::string>>& keys,
                                    const domain::audit_entry& e) {
  if (auto joined = impl_->join_batch("register keys"); !joined) {
    return joined;
  }
  auto tx = sql::transaction::begin(impl_->db, "register " + std::to_string(keys.size()) + " keys");
  if (!tx) {
    return tx.err();
  }
  const auto at = time_of(e);
  for (const auto& [kind, id, public_key] : keys) {
    if (auto done = impl_->upsert_key(kind, id, public_key, at); !done) {
      return done;
    }
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done;
  }
  return tx->commit();
}

status central_store::set_ocpp_password(const std::string& cp_id, const std::string& hash,
                                        const domain::audit_entry& e) {
  if (!is_safe_id(cp_id)) {
    return error{errc::invalid_field, "invalid cp id '" + printable_id(cp_id) + "'"};
  }
  if (hash.rfind("$argon2", 0) != 0) {
    return error{errc::invalid_field, "not a password hash (the store never keeps a password)"};
  }
  const std::string what = "set the OCPP password of " + cp_id;
  if (auto joined = impl_->join_batch(what); !joined) {
    return joined;
  }
  auto tx = sql::transaction::begin(impl_->db, what);
  if (!tx) {
    return tx.err();
  }
  auto known = impl_->db.prepare("SELECT 1 FROM cps WHERE id = ?1", "look up CP " + cp_id);
  if (!known) {
    return known.err();
  }
  auto row = known->bind(1, cp_id).step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return error{errc::unknown_cp, "CP " + cp_id + " is not registered"};
  }
  auto s = impl_->db.prepare(
      "INSERT INTO ocpp_passwords (cp_id, hash, set_ms) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (cp_id) DO UPDATE SET hash = excluded.hash, set_ms = excluded.set_ms",
      what);
  if (!s) {
    return s.err();
  }
  if (auto done = s->bind(1, cp_id).bind(2, hash).bind(3, time_of(e)).run(); !done) {
    return done;
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done;
  }
  return tx->commit();
}

result<std::optional<std::string>> central_store::ocpp_password_hash(const std::string& cp_id) {
  auto s = impl_->db.prepare("SELECT hash FROM ocpp_passwords WHERE cp_id = ?1",
                             "look up the OCPP password of " + printable_id(cp_id));
  if (!s) {
    return s.err();
  }
  auto row = s->bind(1, cp_id).step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>(s->text(0));
}

result<std::string> central_store::revoke(const std::string& id, const domain::audit_entry& e) {
  const std::string what = "revoke the key of " + printable_id(id);
  if (auto joined = impl_->join_batch(what); !joined) {
    return joined.err();
  }
  auto tx = sql::transaction::begin(impl_->db, what);
  if (!tx) {
    return tx.err();
  }
  std::string kind;
  for (const char* k : {"cp", "driver"}) {
    auto row = impl_->key_of(identity_of(k, id));
    if (!row) {
      return row.err();
    }
    if (*row) {
      kind = k;
      break;
    }
  }
  if (kind.empty()) {
    return error{errc::unknown_cp, "no key is registered for " + printable_id(id) + " (neither a CP nor a driver)"};
  }
  // A second revocation keeps the time of the first.
  auto s = impl_->db.prepare(
      "UPDATE keys SET status = 'revoked', revoked_ms = COALESCE(revoked_ms, ?2) WHERE identity = ?1", what);
  if (!s) {
    return s.err();
  }
  if (auto done = s->bind(1, identity_of(kind, id)).bind(2, time_of(e)).run(); !done) {
    return done.err();
  }
  if (auto done = impl_->insert_audit(e); !done) {
    return done.err();
  }
  if (auto done = tx->commit(); !done) {
    return done.err();
  }
  return kind;
}

result<std::int64_t> central_store::data_version() {
  auto s = impl_->db.prepare("PRAGMA data_version", "read the data version");
  if (!s) {
    return s.err();
  }
  auto row = s->step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return error{errc::store, "read the data version: no row"};
  }
  return s->integer(0);
}

} // namespace evnet::store

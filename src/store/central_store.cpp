#include "evnet/store/central_store.hpp"

#include "charge_rows.hpp"
#include "sqlite.hpp"

#include <chrono>

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
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Charges started at the CP have no driver to deliver a ticket to.
bool is_local_driver(const std::string& id) { return !id.empty() && id.front() == '@'; }

} // namespace

struct central_store::impl {
  sql::connection db;

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
};

central_store::central_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

central_store::~central_store() = default;

result<std::unique_ptr<central_store>> central_store::open(const std::string& path) {
  auto db = sql::connection::open(path, schema);
  if (!db) {
    return db.err();
  }
  auto p = std::make_unique<impl>(impl{std::move(db).value()});
  return std::unique_ptr<central_store>(new central_store(std::move(p)));
}

result<int> central_store::seed(const domain::seed& s) {
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

result<bool> central_store::add_cp(const domain::cp_record& r) {
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
  auto s = impl_->db.prepare("UPDATE tickets SET delivered = 1 WHERE cp_id = ?1 AND charge_id = ?2",
                             "mark ticket " + cp_id + "/" + charge_id + " delivered");
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_id).bind(2, charge_id).run();
}

status central_store::set_stopped(const std::string& cp_id, bool stopped) {
  const char* sql = stopped ? "INSERT OR IGNORE INTO stopped_cps (cp_id) VALUES (?1)" : "DELETE FROM stopped_cps WHERE cp_id = ?1";
  auto s = impl_->db.prepare(sql, std::string(stopped ? "stop" : "resume") + " CP " + cp_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_id).run();
}

result<std::vector<std::string>> central_store::stopped_cps() {
  auto s = impl_->db.prepare("SELECT cp_id FROM stopped_cps ORDER BY cp_id", "list stopped CPs");
  if (!s) {
    return s.err();
  }
  return sql::collect<std::string>(*s, [](const sql::statement& row) { return row.text(0); });
}

status central_store::log_event(const std::string& kind, const std::string& text) {
  auto s = impl_->db.prepare("INSERT INTO events (ts, kind, text) VALUES (?1, ?2, ?3)", "log event " + kind);
  if (!s) {
    return s.err();
  }
  return s->bind(1, now_ms()).bind(2, kind).bind(3, text).run();
}

} // namespace evnet::store

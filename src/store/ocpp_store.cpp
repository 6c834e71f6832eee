#include "evnet/store/ocpp_store.hpp"

#include "charge_rows.hpp"
#include "sqlite.hpp"

#include "evnet/json.hpp"
#include "evnet/store/audit_log.hpp"
#include "evnet/text.hpp"

#include <filesystem>
#include <system_error>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace evnet::store {

namespace {

// The tables of engine_store, keyed by charge point (ocpp_open holds one
// running charge per cp_id), and the OCPP transactions. AUTOINCREMENT makes
// SQLite remember the highest id ever given (sqlite_sequence), so an id is
// never given twice, even after its row is gone. ocpp_finished keeps
// acknowledged rows (acked = 1), as engine_store's `finished` does, so that
// a record saved again after its acknowledgement is not resent.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS ocpp_open (
  cp_id      TEXT PRIMARY KEY,
  charge_id  TEXT NOT NULL,
  driver_id  TEXT NOT NULL,
  plugged    INTEGER NOT NULL,
  kwh        REAL NOT NULL,
  amount     REAL NOT NULL,
  elapsed_s  INTEGER NOT NULL,
  duration_s INTEGER NOT NULL,
  price      REAL NOT NULL,
  started_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ocpp_finished (
  cp_id     TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  driver_id TEXT NOT NULL,
  kwh       REAL NOT NULL,
  price     REAL NOT NULL,
  amount    REAL NOT NULL,
  start_ms  INTEGER NOT NULL,
  end_ms    INTEGER NOT NULL,
  reason    TEXT NOT NULL,
  acked     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (cp_id, charge_id)
);
CREATE TABLE IF NOT EXISTS ocpp_transactions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  cp_id          TEXT NOT NULL,
  charge_id      TEXT NOT NULL,
  driver_id      TEXT NOT NULL,
  price          REAL NOT NULL,
  meter_start_wh INTEGER NOT NULL,
  started_ms     INTEGER NOT NULL,
  duration_s     INTEGER NOT NULL,
  closed         INTEGER NOT NULL DEFAULT 0,
  UNIQUE (cp_id, charge_id)
);
CREATE INDEX IF NOT EXISTS ocpp_transactions_by_cp ON ocpp_transactions (cp_id, closed);
CREATE TABLE IF NOT EXISTS ocpp_refusals (
  time_ms     INTEGER NOT NULL,
  cp_id       TEXT NOT NULL,
  remote      TEXT NOT NULL,
  path        TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  suppressed  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ocpp_refusals_by_time ON ocpp_refusals (time_ms);
)sql";

// Peer bytes are kept, but not without bound.
std::string capped(const std::string& s) { return s.size() <= 256 ? s : s.substr(0, 256); }

constexpr const char* transaction_columns =
    "id, cp_id, charge_id, driver_id, price, meter_start_wh, started_ms, duration_s, closed";

domain::ocpp_transaction read_transaction(const sql::statement& row) {
  domain::ocpp_transaction t;
  t.id = row.integer(0);
  t.cp_id = row.text(1);
  t.charge_id = row.text(2);
  t.driver_id = row.text(3);
  t.price = row.real(4);
  t.meter_start_wh = row.integer(5);
  t.started_ms = row.integer(6);
  t.duration_s = row.integer(7);
  t.closed = row.integer(8) != 0;
  return t;
}

// The first row of a query on ocpp_transactions, if any.
result<std::optional<domain::ocpp_transaction>> first_transaction(sql::statement& s) {
  auto row = s.step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return std::optional<domain::ocpp_transaction>();
  }
  return std::optional<domain::ocpp_transaction>(read_transaction(s));
}

} // namespace

struct ocpp_store::impl {
  sql::connection db;
};

// One charge point's ledger: every query is bound to cp_.
class ocpp_store::cp_ledger final : public domain::ocpp_ledger {
public:
  cp_ledger(std::shared_ptr<impl> store, std::string cp_id) : store_(std::move(store)), cp_(std::move(cp_id)) {}

  status save_open(const domain::open_charge& c) override;
  status save_finished(const protocol::charge_record& r) override;
  status acknowledge(const std::string& cp_id, const std::string& charge_id) override;
  result<domain::ledger_contents> load() override;

  result<domain::ocpp_transaction> open_transaction(const domain::ocpp_transaction& t) override;
  result<std::optional<domain::ocpp_transaction>> transaction(std::int64_t id) override;
  result<std::optional<domain::ocpp_transaction>> open_transaction_of(const std::string& cp_id) override;
  status close_transaction(std::int64_t id) override;

private:
  sql::connection& db() { return store_->db; }
  error not_ours(const std::string& what, const std::string& other) const {
    return error{errc::wrong_cp, "the ledger of charge point '" + cp_ + "' cannot " + what + " of charge point '" +
                                     other + "'"};
  }
  result<std::optional<domain::open_charge>> load_open();
  result<std::vector<protocol::charge_record>> unacknowledged();

  std::shared_ptr<impl> store_;
  std::string cp_;
};

// ---- ocpp_store -------------------------------------------------------------

ocpp_store::ocpp_store(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

ocpp_store::~ocpp_store() = default;

result<std::unique_ptr<ocpp_store>> ocpp_store::open(const std::string& path) {
  auto db = sql::connection::open(path, schema);
  if (!db) {
    return db.err();
  }
  auto p = std::make_shared<impl>(impl{std::move(db).value()});
  return std::unique_ptr<ocpp_store>(new ocpp_store(std::move(p)));
}

status ocpp_store::audit_refusal(const upgrade_refusal& r) {
  auto s = impl_->db.prepare(
      "INSERT INTO ocpp_refusals (time_ms, cp_id, remote, path, http_status, reason, suppressed) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      "audit a refused upgrade");
  if (!s) {
    return s.err();
  }
  return s->bind(1, r.time_ms)
      .bind(2, capped(r.cp_id))
      .bind(3, capped(r.remote))
      .bind(4, capped(r.path))
      .bind(5, static_cast<std::int64_t>(r.http_status))
      .bind(6, capped(r.reason))
      .bind(7, static_cast<std::int64_t>(r.suppressed))
      .run();
}

result<std::vector<upgrade_refusal>> ocpp_store::refusals(std::int64_t since_ms) {
  auto s = impl_->db.prepare(
      "SELECT time_ms, cp_id, remote, path, http_status, reason, suppressed FROM ocpp_refusals "
      "WHERE time_ms >= ?1 ORDER BY time_ms, rowid",
      "read the refused upgrades");
  if (!s) {
    return s.err();
  }
  s->bind(1, since_ms);
  std::vector<upgrade_refusal> out;
  for (;;) {
    auto row = s->step();
    if (!row) {
      return row.err();
    }
    if (!*row) {
      return out;
    }
    upgrade_refusal r;
    r.time_ms = s->integer(0);
    r.cp_id = s->text(1);
    r.remote = s->text(2);
    r.path = s->text(3);
    r.http_status = static_cast<int>(s->integer(4));
    r.reason = s->text(5);
    r.suppressed = static_cast<std::uint64_t>(s->integer(6));
    out.push_back(std::move(r));
  }
}

std::unique_ptr<domain::ocpp_ledger> ocpp_store::ledger_for(const std::string& cp_id) {
  return std::make_unique<cp_ledger>(impl_, cp_id);
}

// ---- the Engine's part --------------------------------------------------------

status ocpp_store::cp_ledger::save_open(const domain::open_charge& c) {
  if (c.cp_id != cp_) {
    return not_ours("save the open charge " + c.view.charge_id, c.cp_id);
  }
  auto s = db().prepare("INSERT OR REPLACE INTO ocpp_open (cp_id, charge_id, driver_id, plugged, kwh, amount,"
                        " elapsed_s, duration_s, price, started_ms)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        "save open charge " + cp_ + "/" + c.view.charge_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_)
      .bind(2, c.view.charge_id)
      .bind(3, c.view.driver_id)
      .bind(4, c.view.plugged)
      .bind(5, c.view.kwh)
      .bind(6, c.view.amount)
      .bind(7, c.view.elapsed_s)
      .bind(8, c.view.duration_s)
      .bind(9, c.price)
      .bind(10, c.started_ms)
      .run();
}

result<std::optional<domain::open_charge>> ocpp_store::cp_ledger::load_open() {
  auto s = db().prepare("SELECT charge_id, driver_id, plugged, kwh, amount, elapsed_s, duration_s, price, started_ms"
                        " FROM ocpp_open WHERE cp_id = ?1",
                        "load open charge of " + cp_);
  if (!s) {
    return s.err();
  }
  auto row = s->bind(1, cp_).step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return std::optional<domain::open_charge>();
  }
  domain::open_charge c;
  c.cp_id = cp_;
  c.view.charge_id = s->text(0);
  c.view.driver_id = s->text(1);
  c.view.plugged = s->integer(2) != 0;
  c.view.kwh = s->real(3);
  c.view.amount = s->real(4);
  c.view.elapsed_s = s->integer(5);
  c.view.duration_s = s->integer(6);
  c.price = s->real(7);
  c.started_ms = s->integer(8);
  return std::optional<domain::open_charge>(std::move(c));
}

status ocpp_store::cp_ledger::save_finished(const protocol::charge_record& r) {
  if (r.cp_id != cp_) {
    return not_ours("save the finished charge " + r.charge_id, r.cp_id);
  }
  const std::string what = "save finished charge " + r.cp_id + "/" + r.charge_id;
  auto tx = sql::transaction::begin(db(), what);
  if (!tx) {
    return tx.err();
  }
  if (auto inserted = charge_rows::insert(db(), "ocpp_finished", r, what); !inserted) {
    return inserted.err();
  }
  // Only the open row of this very charge: a late record for an older
  // charge must not erase the one running now.
  auto clear = db().prepare("DELETE FROM ocpp_open WHERE cp_id = ?1 AND charge_id = ?2", what + " (clear open)");
  if (!clear) {
    return clear.err();
  }
  if (auto done = clear->bind(1, r.cp_id).bind(2, r.charge_id).run(); !done) {
    return done.err();
  }
  return tx->commit();
}

result<std::vector<protocol::charge_record>> ocpp_store::cp_ledger::unacknowledged() {
  auto s = db().prepare("SELECT " + charge_rows::columns() +
                            " FROM ocpp_finished WHERE cp_id = ?1 AND acked = 0 ORDER BY rowid",
                        "list unacknowledged charges of " + cp_);
  if (!s) {
    return s.err();
  }
  s->bind(1, cp_);
  return sql::collect<protocol::charge_record>(*s, charge_rows::read);
}

status ocpp_store::cp_ledger::acknowledge(const std::string& cp_id, const std::string& charge_id) {
  // Another charge point's record is not ours to acknowledge: like an
  // unknown one, nothing changes.
  auto s = db().prepare("UPDATE ocpp_finished SET acked = 1 WHERE cp_id = ?1 AND charge_id = ?2 AND cp_id = ?3",
                        "acknowledge charge " + cp_id + "/" + charge_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_id).bind(2, charge_id).bind(3, cp_).run();
}

result<domain::ledger_contents> ocpp_store::cp_ledger::load() {
  auto open = load_open();
  if (!open) {
    return open.err();
  }
  auto pending = unacknowledged();
  if (!pending) {
    return pending.err();
  }
  return domain::ledger_contents{std::move(*open), std::move(*pending)};
}

// ---- the transactions -----------------------------------------------------------

result<domain::ocpp_transaction> ocpp_store::cp_ledger::open_transaction(const domain::ocpp_transaction& t) {
  if (t.cp_id != cp_) {
    return not_ours("open a transaction for the charge " + t.charge_id, t.cp_id);
  }
  const std::string what = "open the transaction of charge " + cp_ + "/" + t.charge_id;
  auto find = db().prepare(std::string("SELECT ") + transaction_columns +
                               " FROM ocpp_transactions WHERE cp_id = ?1 AND charge_id = ?2",
                           what);
  if (!find) {
    return find.err();
  }
  auto known = first_transaction(find->bind(1, cp_).bind(2, t.charge_id));
  if (!known) {
    return known.err();
  }
  if (*known) {
    return **known;  // one to one, for ever: the id it was given first
  }
  // One statement, so its own transaction: durable when run() returns.
  auto insert = db().prepare("INSERT INTO ocpp_transactions (cp_id, charge_id, driver_id, price, meter_start_wh,"
                             " started_ms, duration_s, closed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                             what);
  if (!insert) {
    return insert.err();
  }
  if (auto done = insert->bind(1, cp_)
                      .bind(2, t.charge_id)
                      .bind(3, t.driver_id)
                      .bind(4, t.price)
                      .bind(5, t.meter_start_wh)
                      .bind(6, t.started_ms)
                      .bind(7, t.duration_s)
                      .run();
      !done) {
    return done.err();
  }
  domain::ocpp_transaction made = t;
  made.id = sqlite3_last_insert_rowid(db().handle());
  made.closed = false;
  return made;
}

result<std::optional<domain::ocpp_transaction>> ocpp_store::cp_ledger::transaction(std::int64_t id) {
  auto s = db().prepare(std::string("SELECT ") + transaction_columns +
                            " FROM ocpp_transactions WHERE id = ?1 AND cp_id = ?2",
                        "find transaction " + std::to_string(id) + " of " + cp_);
  if (!s) {
    return s.err();
  }
  return first_transaction(s->bind(1, id).bind(2, cp_));
}

result<std::optional<domain::ocpp_transaction>> ocpp_store::cp_ledger::open_transaction_of(const std::string& cp_id) {
  if (cp_id != cp_) {
    return std::optional<domain::ocpp_transaction>();  // this view sees its own charge point only
  }
  auto s = db().prepare(std::string("SELECT ") + transaction_columns +
                            " FROM ocpp_transactions WHERE cp_id = ?1 AND closed = 0 ORDER BY id LIMIT 1",
                        "find the open transaction of " + cp_);
  if (!s) {
    return s.err();
  }
  return first_transaction(s->bind(1, cp_));
}

status ocpp_store::cp_ledger::close_transaction(std::int64_t id) {
  auto s = db().prepare("UPDATE ocpp_transactions SET closed = 1 WHERE id = ?1 AND cp_id = ?2",
                        "close transaction " + std::to_string(id) + " of " + cp_);
  if (!s) {
    return s.err();
  }
  return s->bind(1, id).bind(2, cp_).run();
}

int print_refusals(const std::string& db_path, std::int64_t since_ms, std::FILE* out) {
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    std::fprintf(stderr, "audit: no store at %s (see --db)\n", db_path.c_str());
    return 1;
  }
  auto db = ocpp_store::open(db_path);
  if (!db) {
    std::fprintf(stderr, "audit: %s\n", db.err().message.c_str());
    return 1;
  }
  auto rows = (*db)->refusals(since_ms);
  if (!rows) {
    std::fprintf(stderr, "audit: %s\n", rows.err().message.c_str());
    return 1;
  }
  for (const auto& r : *rows) {
    const json::object o{{"time", iso_utc_ms(r.time_ms)},
                         {"time_ms", r.time_ms},
                         {"cp", r.cp_id.empty() ? std::string() : printable_id(r.cp_id)},
                         {"remote", printable_text(r.remote)},
                         {"path", printable_text(r.path)},
                         {"status", r.http_status},
                         {"reason", printable_text(r.reason)},
                         {"suppressed", r.suppressed}};
    const auto line = json::dump(json::value(o));
    std::fprintf(out, "%s\n", line.c_str());
  }
  if (std::fflush(out) != 0) {
    std::fprintf(stderr, "audit: cannot write the output\n");
    return 1;
  }
  return 0;
}

} // namespace evnet::store

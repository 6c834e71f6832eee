#include "evnet/store/engine_store.hpp"

#include "charge_rows.hpp"
#include "sqlite.hpp"

namespace evnet::store {

namespace {

// open_charge holds at most one row (id = 1): the Engine runs one charge.
// finished keeps acknowledged rows (acked = 1) so that a record saved again
// after its acknowledgement is not resent: idempotency outlives the ack.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS open_charge (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  cp_id      TEXT NOT NULL,
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
CREATE TABLE IF NOT EXISTS finished (
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
)sql";

} // namespace

struct engine_store::impl {
  sql::connection db;
};

engine_store::engine_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

engine_store::~engine_store() = default;

result<std::unique_ptr<engine_store>> engine_store::open(const std::string& path) {
  auto db = sql::connection::open(path, schema);
  if (!db) {
    return db.err();
  }
  auto p = std::make_unique<impl>(impl{std::move(db).value()});
  return std::unique_ptr<engine_store>(new engine_store(std::move(p)));
}

status engine_store::save_open(const open_charge& c) {
  auto s = impl_->db.prepare("INSERT OR REPLACE INTO open_charge (id, cp_id, charge_id, driver_id, plugged, kwh, amount,"
                             " elapsed_s, duration_s, price, started_ms)"
                             " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                             "save open charge " + c.view.charge_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, c.cp_id)
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

status engine_store::clear_open() { return impl_->db.exec("DELETE FROM open_charge", "clear open charge"); }

result<std::optional<open_charge>> engine_store::load_open() {
  auto s = impl_->db.prepare("SELECT cp_id, charge_id, driver_id, plugged, kwh, amount, elapsed_s, duration_s, price,"
                             " started_ms FROM open_charge WHERE id = 1",
                             "load open charge");
  if (!s) {
    return s.err();
  }
  auto row = s->step();
  if (!row) {
    return row.err();
  }
  if (!*row) {
    return std::optional<open_charge>();
  }
  open_charge c;
  c.cp_id = s->text(0);
  c.view.charge_id = s->text(1);
  c.view.driver_id = s->text(2);
  c.view.plugged = s->integer(3) != 0;
  c.view.kwh = s->real(4);
  c.view.amount = s->real(5);
  c.view.elapsed_s = s->integer(6);
  c.view.duration_s = s->integer(7);
  c.price = s->real(8);
  c.started_ms = s->integer(9);
  return std::optional<open_charge>(std::move(c));
}

status engine_store::save_finished(const protocol::charge_record& r) {
  const std::string what = "save finished charge " + r.cp_id + "/" + r.charge_id;
  auto tx = sql::transaction::begin(impl_->db, what);
  if (!tx) {
    return tx.err();
  }
  if (auto inserted = charge_rows::insert(impl_->db, "finished", r, what); !inserted) {
    return inserted.err();
  }
  // Only the open row of this very charge: a late record for an older
  // charge must not erase the one running now.
  auto clear = impl_->db.prepare("DELETE FROM open_charge WHERE cp_id = ?1 AND charge_id = ?2", what + " (clear open)");
  if (!clear) {
    return clear.err();
  }
  if (auto done = clear->bind(1, r.cp_id).bind(2, r.charge_id).run(); !done) {
    return done.err();
  }
  return tx->commit();
}

result<std::vector<protocol::charge_record>> engine_store::unacknowledged() {
  auto s = impl_->db.prepare("SELECT " + charge_rows::columns() + " FROM finished WHERE acked = 0 ORDER BY rowid",
                             "list unacknowledged charges");
  if (!s) {
    return s.err();
  }
  return sql::collect<protocol::charge_record>(*s, charge_rows::read);
}

result<domain::ledger_contents> engine_store::load() {
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

status engine_store::acknowledge(const std::string& cp_id, const std::string& charge_id) {
  auto s = impl_->db.prepare("UPDATE finished SET acked = 1 WHERE cp_id = ?1 AND charge_id = ?2",
                             "acknowledge charge " + cp_id + "/" + charge_id);
  if (!s) {
    return s.err();
  }
  return s->bind(1, cp_id).bind(2, charge_id).run();
}

} // namespace evnet::store

#include "sqlite.hpp"

#include <utility>

namespace evnet::store::sql {

error store_error(const std::string& what, sqlite3* db) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return error{errc::store, what + ": " + detail};
}

// ---- connection -------------------------------------------------------------

result<connection> connection::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  // sqlite3_open_v2 hands back a handle even on failure; own it either way.
  connection db(raw);
  if (rc != SQLITE_OK) {
    return store_error("open " + path, raw);
  }
  sqlite3_extended_result_codes(raw, 1);
  // busy_timeout first, so that switching to WAL waits for another opener.
  auto pragmas = db.exec("PRAGMA busy_timeout=2000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         " PRAGMA foreign_keys=ON;",
                         "configure " + path);
  if (!pragmas) {
    return pragmas.err();
  }
  return db;
}

result<connection> connection::open(const std::string& path, const std::string& schema) {
  auto db = open(path);
  if (!db) {
    return db.err();
  }
  if (auto created = db->exec(schema, "create schema in " + path); !created) {
    return created.err();
  }
  return db;
}

connection::connection(connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

connection::~connection() { sqlite3_close_v2(db_); }

status connection::exec(const std::string& sql, const std::string& what) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    error e{errc::store, what + ": " + (message != nullptr ? message : sqlite3_errmsg(db_))};
    sqlite3_free(message);
    return e;
  }
  return ok_value;
}

result<statement> connection::prepare(std::string_view sql, const std::string& what) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return store_error(what, db_);
  }
  return statement(raw, db_, what);
}

int connection::changes() const { return sqlite3_changes(db_); }

bool connection::in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

// ---- statement --------------------------------------------------------------

statement::statement(statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_), what_(std::move(other.what_)),
      bind_error_(other.bind_error_) {}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    what_ = std::move(other.what_);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement& statement::bind(int index, const std::string& text) {
  const int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

statement& statement::bind(int index, std::int64_t number) {
  const int rc = sqlite3_bind_int64(stmt_, index, number);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

statement& statement::bind(int index, double number) {
  const int rc = sqlite3_bind_double(stmt_, index, number);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

result<bool> statement::step() {
  if (bind_error_ != SQLITE_OK) {
    return error{errc::store, what_ + ": " + sqlite3_errstr(bind_error_)};
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return store_error(what_, db_);
}

status statement::run() {
  auto rc = step();
  if (!rc) {
    return rc.err();
  }
  return ok_value;
}

std::string statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::int64_t statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

double statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

// ---- transaction ------------------------------------------------------------

namespace {

// One name for every level: ROLLBACK TO and RELEASE act on the innermost
// savepoint of that name, and guards nest strictly (RAII).
constexpr const char* savepoint_name = "evnet_write";

} // namespace

result<transaction> transaction::begin(connection& db, const std::string& what) {
  if (db.in_transaction()) {
    auto started = db.exec(std::string("SAVEPOINT ") + savepoint_name, what + " (savepoint)");
    if (!started) {
      return started.err();
    }
    return transaction(db, what, true);
  }
  // IMMEDIATE takes the write lock now, so a busy database fails here
  // (after busy_timeout) rather than halfway through the writes.
  auto started = db.exec("BEGIN IMMEDIATE", what + " (begin)");
  if (!started) {
    return started.err();
  }
  return transaction(db, what, false);
}

transaction::transaction(transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), what_(std::move(other.what_)), nested_(other.nested_) {}

transaction::~transaction() {
  if (db_ == nullptr) {
    return;
  }
  // Best effort: if even ROLLBACK fails, SQLite has already rolled back
  // (and an enclosing transaction that SQLite ended has no savepoint left).
  if (nested_) {
    const std::string undo = std::string("ROLLBACK TO ") + savepoint_name + "; RELEASE " + savepoint_name;
    static_cast<void>(db_->exec(undo, what_ + " (rollback)"));
  } else {
    static_cast<void>(db_->exec("ROLLBACK", what_ + " (rollback)"));
  }
}

status transaction::commit() {
  auto done = nested_ ? db_->exec(std::string("RELEASE ") + savepoint_name, what_ + " (release)")
                      : db_->exec("COMMIT", what_ + " (commit)");
  if (done) {
    db_ = nullptr;
  }
  return done;
}

} // namespace evnet::store::sql

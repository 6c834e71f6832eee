#pragma once

// Private to evnet_store: thin RAII over the SQLite C API, returning errors
// as values so that no sqlite failure ever escapes as an exception or a
// leaked handle. Error messages read "<what>: <sqlite3_errmsg>".
//
// Thread-safety: none; a connection and its statements belong to one owner.

#include "evnet/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <string_view>
#include <vector>

namespace evnet::store::sql {

error store_error(const std::string& what, sqlite3* db);

class statement;

class connection {
public:
  // Opens or creates the database file and applies the durability pragmas:
  // WAL, synchronous=FULL, busy_timeout=2000.
  static result<connection> open(const std::string& path);
  // As open(), then creates what of `schema` is missing (its statements say
  // IF NOT EXISTS), so a store opens the same way the first time and after.
  static result<connection> open(const std::string& path, const std::string& schema);

  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // Runs one or more statements that return no rows of interest.
  status exec(const std::string& sql, const std::string& what);
  result<statement> prepare(std::string_view sql, const std::string& what);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;
  // true while a transaction is open (BEGIN ... COMMIT, or a savepoint).
  // SQLite itself ends one after some errors (disk full, I/O error), so an
  // owner holding one checks this rather than trusting its own bookkeeping.
  bool in_transaction() const;
  sqlite3* handle() const { return db_; }

private:
  explicit connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class statement {
public:
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Parameters are numbered from 1, as in SQLite. Binding only fails on a
  // programming error (bad index) or out of memory; step() reports both.
  statement& bind(int index, const std::string& text);
  statement& bind(int index, std::int64_t number);
  statement& bind(int index, double number);
  statement& bind(int index, bool flag) { return bind(index, static_cast<std::int64_t>(flag ? 1 : 0)); }

  // true: a row is available; false: done.
  result<bool> step();
  // Runs a statement that returns no rows.
  status run();

  std::string text(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;

private:
  friend class connection;
  statement(sqlite3_stmt* stmt, sqlite3* db, std::string what) : stmt_(stmt), db_(db), what_(std::move(what)) {}

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string what_;
  int bind_error_ = SQLITE_OK;
};

// Steps a query to its end and turns each row into a T with `read`, which
// returns a T or a result<T> (a row it cannot read stops the query).
template <class T, class Read>
result<std::vector<T>> collect(statement& s, Read read) {
  std::vector<T> out;
  for (;;) {
    auto row = s.step();
    if (!row) {
      return row.err();
    }
    if (!*row) {
      return out;
    }
    if constexpr (std::is_same_v<std::decay_t<decltype(read(s))>, result<T>>) {
      auto value = read(s);
      if (!value) {
        return value.err();
      }
      out.push_back(std::move(*value));
    } else {
      out.push_back(read(s));
    }
  }
}

// BEGIN IMMEDIATE on construction via begin(); rolls back unless commit()
// succeeded, so every early return leaves the database unchanged.
// Inside a transaction the connection already holds (a group commit's
// batch, see central_store::begin_batch) it is a SAVEPOINT instead: commit()
// releases it into the enclosing transaction, and a failure rolls back this
// one change alone, so each write keeps its own all-or-nothing and its own
// error while the batch goes on.
class transaction {
public:
  static result<transaction> begin(connection& db, const std::string& what);

  transaction(transaction&& other) noexcept;
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();

  status commit();

  // true: a savepoint inside an enclosing transaction.
  bool nested() const { return nested_; }

private:
  transaction(connection& db, std::string what, bool nested) : db_(&db), what_(std::move(what)), nested_(nested) {}
  connection* db_ = nullptr;
  std::string what_;
  bool nested_ = false;
};

} // namespace evnet::store::sql

#pragma once

// Private to evnet_store: a protocol::charge_record as a table row. Central's
// `charges` and the Engine's `finished` tables both hold its nine fields as
// the same columns, and a record written by one must read back the same in
// the other, so the column order lives here once.

#include "sqlite.hpp"

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <string>
#include <string_view>

namespace evnet::store::charge_rows {

// "cp_id, charge_id, ..., reason", each name prefixed with `qualifier`
// ("c." inside a join), in the order read() expects them.
std::string columns(std::string_view qualifier = {});

// INSERT OR IGNORE of `r` into `table`, one of this library's schema
// tables: a record already stored under its (cp_id, charge_id) stays as it
// was, and connection::changes() tells the caller which happened.
status insert(sql::connection& db, std::string_view table, const protocol::charge_record& r, const std::string& what);

// The record in the current row of a statement that selected columns().
// The reason is stored as its vocabulary spelling; a row with a reason that
// is not one is an error (errc::store), never a silently different reason.
result<protocol::charge_record> read(const sql::statement& row);

} // namespace evnet::store::charge_rows

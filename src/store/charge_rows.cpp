#include "charge_rows.hpp"

#include <array>

namespace evnet::store::charge_rows {

namespace {

constexpr std::array<std::string_view, 9> names{"cp_id", "charge_id", "driver_id", "kwh",   "price",
                                                "amount", "start_ms", "end_ms",   "reason"};

} // namespace

std::string columns(std::string_view qualifier) {
  std::string out;
  for (const auto name : names) {
    if (!out.empty()) {
      out += ", ";
    }
    out += qualifier;
    out += name;
  }
  return out;
}

status insert(sql::connection& db, std::string_view table, const protocol::charge_record& r, const std::string& what) {
  auto s = db.prepare("INSERT OR IGNORE INTO " + std::string(table) + " (" + columns() +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      what);
  if (!s) {
    return s.err();
  }
  return s->bind(1, r.cp_id)
      .bind(2, r.charge_id)
      .bind(3, r.driver_id)
      .bind(4, r.kwh)
      .bind(5, r.price)
      .bind(6, r.amount)
      .bind(7, r.start_ms)
      .bind(8, r.end_ms)
      .bind(9, std::string(to_string(r.reason)))
      .run();
}

result<protocol::charge_record> read(const sql::statement& row) {
  protocol::charge_record r;
  r.cp_id = row.text(0);
  r.charge_id = row.text(1);
  r.driver_id = row.text(2);
  r.kwh = row.real(3);
  r.price = row.real(4);
  r.amount = row.real(5);
  r.start_ms = row.integer(6);
  r.end_ms = row.integer(7);
  const auto reason = row.text(8);
  const auto parsed = parse_end_reason(reason);
  if (!parsed) {
    return error{errc::store, "charge " + r.cp_id + "/" + r.charge_id + " has an unknown reason '" + reason + "'"};
  }
  r.reason = *parsed;
  return r;
}

} // namespace evnet::store::charge_rows

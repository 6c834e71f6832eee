#pragma once

// Central's durable store: registry, charges, tickets owed to drivers and an
// event log, in SQLite with WAL and synchronous=FULL for anything a user is
// owed. Every write is committed before the caller acknowledges it.
//
// Thread-safety: none; one instance per Central actor.

#include "evnet/domain/registry.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <memory>
#include <string>
#include <vector>

namespace evnet::store {

class central_store {
public:
  // Opens (creating if needed) the database at `path`.
  static result<std::unique_ptr<central_store>> open(const std::string& path);
  ~central_store();

  // Inserts CPs and drivers the store does not know yet; known ones keep
  // their stored values. Returns how many were new.
  result<int> seed(const domain::seed& s);
  result<int> add_cp(const domain::cp_record& r);  // insert or update (operator registration)
  result<domain::seed> load_registry();

  // Records a finished charge and the ticket owed to its driver in one
  // transaction. Returns false (and changes nothing) when (cp_id, charge_id)
  // is already recorded: a retried report never bills twice.
  result<bool> record_charge(const protocol::charge_record& r);
  result<std::vector<protocol::charge_record>> charges();

  // Tickets not yet acknowledged by their driver.
  result<std::vector<protocol::charge_record>> undelivered_tickets(const std::string& driver_id);
  status mark_delivered(const std::string& cp_id, const std::string& charge_id);

  // Operator STOPs survive a Central restart.
  status set_stopped(const std::string& cp_id, bool stopped);
  result<std::vector<std::string>> stopped_cps();

  status log_event(const std::string& kind, const std::string& text);

private:
  struct impl;
  explicit central_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::store

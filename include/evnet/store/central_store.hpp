#pragma once

// Central's durable store: registry, charges, tickets owed to drivers and an
// event log, in SQLite with WAL and synchronous=FULL for anything a user is
// owed. Every write is committed before the caller acknowledges it. It is
// the Central machine's charge_book (evnet/domain/central_machine.hpp).
//
// Thread-safety: none; one instance per Central actor.

#include "evnet/domain/central_machine.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace evnet::store {

class central_store final : public domain::charge_book {
public:
  // Opens (creating if needed) the database at `path`.
  static result<std::unique_ptr<central_store>> open(const std::string& path);
  ~central_store() override;

  // Inserts CPs and drivers the store does not know yet; known ones keep
  // their stored values. Returns how many were new.
  result<int> seed(const domain::seed& s);
  // Insert or update (operator registration); true when the CP is new.
  result<bool> add_cp(const domain::cp_record& r) override;
  result<domain::seed> load_registry() override;

  // Records a finished charge and the ticket owed to its driver in one
  // transaction. Returns false (and changes nothing) when (cp_id, charge_id)
  // is already recorded: a retried report never bills twice.
  result<bool> record_charge(const protocol::charge_record& r) override;
  result<bool> knows_charge(const std::string& cp_id, const std::string& charge_id) override;

  // Yeses given to drivers' requests (charge_reply ok), for retries after a restart.
  status record_yes(const protocol::charge_request& req, const std::string& charge_id) override;
  result<std::optional<protocol::charge_reply>> yes_for(const std::string& driver_id,
                                                        const std::string& request_id) override;
  result<std::vector<protocol::charge_record>> charges();

  // Tickets not yet acknowledged by their driver.
  result<std::vector<protocol::charge_record>> undelivered_tickets(const std::string& driver_id) override;
  status mark_delivered(const std::string& cp_id, const std::string& charge_id) override;

  // Operator STOPs survive a Central restart.
  status set_stopped(const std::string& cp_id, bool stopped) override;
  result<std::vector<std::string>> stopped_cps() override;

  status log_event(const std::string& kind, const std::string& text) override;

private:
  struct impl;
  explicit central_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::store

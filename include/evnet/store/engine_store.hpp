#pragma once

// The Engine's local store (SQLite): the charge running now, refreshed every
// second, and finished charges that Central has not acknowledged yet. After a
// crash the Engine settles the running charge from here and resends the
// unacknowledged ones, so nothing supplied is lost. It is the Engine
// machine's domain::engine_ledger: the machine decides what is saved and
// when; this class only makes it durable.
//
// Thread-safety: none; one instance per Engine actor.

#include "evnet/domain/engine_machine.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace evnet::store {

using open_charge = domain::open_charge;

class engine_store final : public domain::engine_ledger {
public:
  static result<std::unique_ptr<engine_store>> open(const std::string& path);
  ~engine_store() override;

  // The running charge (one at most). save_open replaces it.
  status save_open(const open_charge& c) override;
  status clear_open();
  result<std::optional<open_charge>> load_open();

  // A finished charge, kept until acknowledged; also clears the open charge
  // of that very charge, in the same transaction. Idempotent on
  // (cp_id, charge_id).
  status save_finished(const protocol::charge_record& r) override;
  result<std::vector<protocol::charge_record>> unacknowledged();
  status acknowledge(const std::string& cp_id, const std::string& charge_id) override;

  // load_open() and unacknowledged() together, for the machine at start.
  result<domain::ledger_contents> load() override;

private:
  struct impl;
  explicit engine_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::store

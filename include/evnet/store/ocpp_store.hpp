#pragma once

// The OCPP gateway's durable memory (SQLite, WAL, synchronous=FULL like
// engine_store): for every charge point it serves, what its ocpp_engine
// keeps — the Engine's part (the running charge, finished charges until
// Central acknowledges them) and the OCPP transactions, each mapped one to
// one, for ever, to the charge id it carries.
//
// One gateway process serves many charge points from ONE database file, so
// every row carries its cp_id. The file is opened once (ocpp_store::open)
// and each charge point's engine gets its own view, ledger_for(cp_id), a
// domain::ocpp_ledger bound to that charge point:
//  - load() and open_transaction_of() see only that charge point's rows
//    (open_transaction_of for any other cp_id finds nothing);
//  - transaction(id) finds only that charge point's transactions, and
//    close_transaction(id) of an id it does not own changes nothing: a
//    charge point cannot settle another's transaction by naming its id;
//  - acknowledge() for another cp_id changes nothing (like an unknown id);
//  - a write that would file a row under another charge point
//    (open_transaction, save_open, save_finished with a different cp_id) is
//    refused with errc::wrong_cp.
// transactionIds come from one sequence for the whole file
// (AUTOINCREMENT): positive, unique across all charge points, never reused
// (not even after a row is gone), the same after a restart.
//
// Semantics otherwise exactly those of domain::memory_ocpp_ledger and of
// engine_store: open_transaction is idempotent on (cp_id, charge_id) and
// gives back the transaction as first stored; close_transaction is
// idempotent; save_finished is idempotent on (cp_id, charge_id), clears the
// open charge of that very charge in the same transaction, and a record
// acknowledged stays acknowledged if saved again. Every write is its own
// SQLite transaction, durable when it returns. Failures are values
// (errc::store, "<what>: <sqlite's words>"), never exceptions.
//
// Thread-safety: none. The store and all its views share one connection and
// belong to one thread: the gateway's actor. A view keeps the connection
// alive, so views may outlive the ocpp_store object that made them.

#include "evnet/domain/ocpp_engine.hpp"
#include "evnet/result.hpp"

#include <memory>
#include <string>

namespace evnet::store {

class ocpp_store {
public:
  // Opens (or creates) the gateway's database at `path`.
  static result<std::unique_ptr<ocpp_store>> open(const std::string& path);
  ~ocpp_store();
  ocpp_store(const ocpp_store&) = delete;
  ocpp_store& operator=(const ocpp_store&) = delete;

  // The ledger of one charge point (see above); cheap, any number of them.
  std::unique_ptr<domain::ocpp_ledger> ledger_for(const std::string& cp_id);

private:
  struct impl;
  class cp_ledger;  // the view ledger_for() returns
  explicit ocpp_store(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

} // namespace evnet::store

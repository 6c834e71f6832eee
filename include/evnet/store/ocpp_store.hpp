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
// It also keeps the gateway's audit of the WebSocket upgrades it refused
// (ocpp_refusals): a wrong path, no ocpp1.6 subprotocol, a Basic user that
// is not the charge point's id, an id the gateway holds no key for, and
// the refusals Central decided (which Central audits too). `EV_OCPP
// --audit` prints them.
//
// Thread-safety: none. The store and all its views share one connection and
// belong to one thread: the gateway's actor. A view keeps the connection
// alive, so views may outlive the ocpp_store object that made them.

#include "evnet/domain/ocpp_engine.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace evnet::store {

// One refused WebSocket upgrade, as the gateway audits it. Peer bytes
// (path, cp_id) are stored as received, at most 256 bytes each; escape them
// before display.
struct upgrade_refusal {
  std::int64_t time_ms = 0;
  std::string cp_id;        // the id the path named; empty when none could be read
  std::string remote;       // the peer's IP address
  std::string path;         // the request target
  int http_status = 0;      // 400, 401, 404, 503
  std::string reason;       // why, in words (never a password)
  std::uint64_t suppressed = 0;  // like refusals from the same address and reason not written since the last row
};

class ocpp_store {
public:
  // Opens (or creates) the gateway's database at `path`.
  static result<std::unique_ptr<ocpp_store>> open(const std::string& path);
  ~ocpp_store();
  ocpp_store(const ocpp_store&) = delete;
  ocpp_store& operator=(const ocpp_store&) = delete;

  // The ledger of one charge point (see above); cheap, any number of them.
  std::unique_ptr<domain::ocpp_ledger> ledger_for(const std::string& cp_id);

  // The audit of refused upgrades: one durable row per call; the caller
  // limits the rate (a flood of bad upgrades must not become a flood of
  // fsyncs). refusals() returns those from `since_ms` on, oldest first.
  status audit_refusal(const upgrade_refusal& r);
  result<std::vector<upgrade_refusal>> refusals(std::int64_t since_ms = 0);

private:
  struct impl;
  class cp_ledger;  // the view ledger_for() returns
  explicit ocpp_store(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

// `EV_OCPP --audit`: every refused upgrade with time_ms >= since_ms, one
// JSON object per line on `out`: {"time", "time_ms", "cp", "remote",
// "path", "status", "reason", "suppressed"}, peer bytes escaped. Returns
// the exit code: 0, or 1 (a missing database, a store error) after one
// line on stderr.
int print_refusals(const std::string& db_path, std::int64_t since_ms, std::FILE* out);

} // namespace evnet::store

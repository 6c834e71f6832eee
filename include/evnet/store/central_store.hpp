#pragma once

// Central's durable store: registry, charges, tickets owed to drivers, an
// event log, the public keys of CPs and drivers and the audit trail, in
// SQLite with WAL and synchronous=FULL for anything a user is owed. Every
// write is committed before the caller acknowledges it, and an audit row is
// written in the same transaction as the change it records. It is the
// Central machine's charge_book (evnet/domain/central_machine.hpp); the key
// tool (tools/evnet_keys) writes the same file while Central runs, and
// Central notices through data_version().
//
// Group commit. Outside a batch every write is its own transaction (one
// fsync each). Between begin_batch() and commit_batch() every write joins
// one transaction instead, opened (BEGIN IMMEDIATE) by the first write and
// made durable by commit_batch() with one fsync for all of them: Central
// handles a burst of messages as one batch and lets nothing the writes
// justify (a record_ack, a ticket, a yes) leave before commit_batch()
// succeeded. Inside a batch each write still has its own all-or-nothing
// (a savepoint) and its own error, exactly as outside; what is new is that
// nothing of the batch is durable, nor visible to another connection, until
// commit_batch(), and that a failed commit_batch() loses the whole batch:
// the caller must then treat every write of the batch as failed. A batch
// without writes costs nothing. While a batch holds writes, the database's
// write lock is held (the key tool waits, up to busy_timeout): keep batches
// short (milliseconds).
//
// Thread-safety: none; one instance per owner (the Central actor, the tool).

#include "evnet/domain/audit.hpp"
#include "evnet/domain/central_machine.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace evnet::store {

// One row of the keys table. identity: "cp:<ID>" or "driver:<ID>" (the ZAP
// user id); kind "cp" or "driver"; status "active" or "revoked";
// revoked_ms 0 while active.
struct key_row {
  std::string identity;
  std::string kind;
  std::string id;
  std::string public_key;  // Z85
  std::string status;
  std::int64_t registered_ms = 0;
  std::int64_t revoked_ms = 0;
};

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
  // The same with its audit row (the key tool registers a CP), at once.
  result<bool> add_cp(const domain::cp_record& r, const domain::audit_entry& e);
  // Insert, or update the name when `r.name` is not empty, with its audit
  // row, at once; true when new.
  result<bool> add_driver(const domain::driver_record& r, const domain::audit_entry& e);
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

  // Operator STOPs survive a Central restart; each one is audited with it.
  status set_stopped(const std::string& cp_id, bool stopped, const domain::audit_entry& e) override;
  result<std::vector<std::string>> stopped_cps() override;

  status log_event(const std::string& kind, const std::string& text) override;

  // ---- audit trail ----------------------------------------------------------
  // Appends one row (time_ms 0: now). params are stored as JSON text.
  status audit(const domain::audit_entry& e) override;
  // An event-log row and its audit row in one transaction.
  status log_and_audit(const std::string& kind, const std::string& text, const domain::audit_entry& e) override;
  // Rows with time_ms >= since_ms, oldest first (in the order written).
  result<std::vector<domain::audit_entry>> audit_since(std::int64_t since_ms);

  // ---- keys -----------------------------------------------------------------
  // Every key row, ordered by identity.
  result<std::vector<key_row>> keys();
  // Public key -> identity, active keys only: what Central's key ring admits.
  result<std::map<std::string, std::string>> admitted_keys();
  // Registers `public_key` as the key of CP or driver `id` (kind "cp" or
  // "driver"), active, replacing the identity's former key (revoked or not),
  // with the audit row `e`, in one transaction. Refused: another kind, an id
  // outside is_safe_id (errc::invalid_field), a key that is not Z85
  // (errc::invalid_field), a key that stands for another identity already
  // (errc::store, UNIQUE), the very key this identity had revoked (errc::revoked:
  // a revoked key never comes back; make a new pair).
  status register_key(const std::string& kind, const std::string& id, const std::string& public_key,
                      const domain::audit_entry& e);
  // Revokes the key of CP or driver `id` (status 'revoked', revoked_ms = the
  // entry's time) with the audit row `e`, in one transaction. Returns "cp" or
  // "driver" (a CP first when both kinds hold the id). Revoking a revoked key
  // again changes nothing but still audits and returns its kind.
  // errc::unknown_cp when no key is registered for `id`.
  result<std::string> revoke(const std::string& id, const domain::audit_entry& e) override;
  // Many (kind, id, public key) at once, with one audit row `e`, in one
  // transaction (a benchmark's thousands of CPs); each as register_key, and
  // the first refusal leaves everything unchanged.
  status register_keys(const std::vector<std::tuple<std::string, std::string, std::string>>& keys,
                       const domain::audit_entry& e);
  // ---- OCPP passwords ---------------------------------------------------------
  // Sets the salted hash (security::hash_ocpp_password) of CP `cp_id`'s OCPP
  // Basic-auth password, replacing any former one, with the audit row `e`,
  // in one transaction. Refused: an id outside is_safe_id or a value that is
  // not a hash (errc::invalid_field: the store never keeps a password), a CP
  // the registry does not know (errc::unknown_cp).
  status set_ocpp_password(const std::string& cp_id, const std::string& hash, const domain::audit_entry& e);
  // The stored hash, or nothing when the CP has no OCPP password.
  result<std::optional<std::string>> ocpp_password_hash(const std::string& cp_id);

  // SQLite's PRAGMA data_version: changes when ANOTHER connection committed
  // (the key tool registered or revoked a key while Central runs).
  result<std::int64_t> data_version();

  // ---- group commit -----------------------------------------------------------
  // Starts a batch (nothing happens in SQLite until the first write).
  // errc::store when a batch is open already (batches do not nest).
  status begin_batch();
  // Ends the batch: COMMIT of its writes, if any (ok at once when there
  // were none). On an error (the COMMIT failed, or SQLite had already
  // rolled the batch back after an error of one of its writes) the whole
  // batch is rolled back and the error says how many writes were lost.
  // Either way the batch is over.
  status commit_batch();
  // Ends the batch, dropping its writes.
  void rollback_batch();
  bool in_batch() const;
  // The open batch holds uncommitted writes: whatever they justify waits.
  bool batch_has_writes() const;
  // Writes joined to the open batch so far (0 outside a batch).
  std::size_t batch_writes() const;
  // Transactions committed (a batch's or a single write's) since open():
  // what costs an fsync. For tests and benchmarks.
  std::uint64_t commits() const;

  // RAII for a batch within one scope: begins on construction, rolls back
  // on destruction unless commit() was called.
  class batch {
  public:
    explicit batch(central_store& store);
    ~batch();
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;
    // The status of begin_batch() (an error when one was open already).
    const status& started() const { return started_; }
    status commit();

  private:
    central_store* store_;
    status started_;
  };

private:
  result<bool> add_cp(const domain::cp_record& r, const domain::audit_entry* e);

  struct impl;
  explicit central_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::store

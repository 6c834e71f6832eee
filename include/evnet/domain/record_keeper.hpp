#pragma once

// An Engine's finished charges, kept until Central acknowledges them, and
// its introductions to Central: the bookkeeping engine_machine (a simulated
// CP) and ocpp_engine (an OCPP charge point) share, in one place so that
// both follow the same rules. Sans-I/O like them: it never reads a clock
// (the time is a parameter) and writes what it wants sent and shown to its
// machine's outbox; what must survive a crash goes through the machine's
// engine_ledger (declared here: it is the durable half of this class).
//
// The rules:
//  - A finished charge is saved (engine_ledger::save_finished) before it is
//    sent to the link "central" as charge_finished, with a `finished` event
//    (its ticket fields); it is kept until its record_ack and becomes the
//    last record (health_reply::last). A save that fails is reported (an
//    `error` event, code `store`) and the record is kept in memory and sent
//    all the same: Central stores it, and only this process forgets it if
//    it dies before the ack.
//  - Every record not acknowledged is offered again every resend_every_ms
//    (whatever the link: the transport drops what is offered while it is
//    down), at once when the link comes up (a new session: whatever was
//    offered before may be lost) and when Central says it no longer knows
//    us.
//  - record_ack: the acknowledgement is stored, then the record forgotten
//    (an `acknowledged` event). A store that fails is reported and the
//    record kept, so it is resent and acknowledged again (Central
//    deduplicates); an ack for a record not kept (repeated, unknown) does
//    nothing.
//  - engine_hello, once introduced (the machine knows its CP): at once, on
//    connect, every hello_every_ms, and when Central says `unauthenticated`
//    (then the records follow, on the same link, after the hello).
//  - recover(), once, at the machine's construction: the records never
//    acknowledged come back from the ledger (resent from the next resend or
//    connect); the charge that was open is handed to the machine to settle.
//
// Thread-safety: none; owned by the machine it keeps records for
// (engine_machine, ocpp_engine), whose outbox and ledger outlive it.

#include "evnet/domain/outbox.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evnet::domain {

// ---- what the Engine keeps on disk ---------------------------------------------

// The charge running now, as last saved.
struct open_charge {
  protocol::charge_view view;
  std::string cp_id;
  double price = 0.0;
  std::int64_t started_ms = 0;
};

// What a ledger holds after a restart.
struct ledger_contents {
  std::optional<open_charge> open;                     // the charge running when the process died
  std::vector<protocol::charge_record> unacknowledged;  // oldest first
};

// The Engine's durable memory. store::engine_store implements it on SQLite;
// memory_ledger below keeps it in memory (tests, simulation).
class engine_ledger {
public:
  virtual ~engine_ledger() = default;
  // Replaces the running charge (one at most).
  virtual status save_open(const open_charge& c) = 0;
  // A finished charge, kept until acknowledged; clears the open charge of
  // that very charge id. Idempotent on (cp_id, charge_id).
  virtual status save_finished(const protocol::charge_record& r) = 0;
  virtual status acknowledge(const std::string& cp_id, const std::string& charge_id) = 0;
  virtual result<ledger_contents> load() = 0;
};

// An engine_ledger in memory. It outlives the machines that use it, so a
// simulator can "restart" an Engine on the same ledger; `failing` makes
// every call fail with errc::store, as a broken disk would.
class memory_ledger final : public engine_ledger {
public:
  status save_open(const open_charge& c) override;
  status save_finished(const protocol::charge_record& r) override;
  status acknowledge(const std::string& cp_id, const std::string& charge_id) override;
  result<ledger_contents> load() override;

  const std::optional<open_charge>& open() const { return open_; }
  // Every record saved, oldest first, with whether it was acknowledged.
  const std::vector<std::pair<protocol::charge_record, bool>>& records() const { return records_; }
  std::vector<protocol::charge_record> unacknowledged() const;

  bool failing = false;

private:
  std::optional<open_charge> open_;
  std::vector<std::pair<protocol::charge_record, bool>> records_;
};

// ---- the keeper -------------------------------------------------------------------

class record_keeper {
public:
  // The name of Central's link in outgoing::to.
  static constexpr std::string_view central_link = "central";
  static constexpr std::int64_t resend_every_ms = 2000;
  static constexpr std::int64_t hello_every_ms = 5000;

  // Both must outlive the keeper. Nothing is loaded yet (recover()); the
  // periods run from `now`.
  record_keeper(engine_ledger& ledger, outbox& out, std::int64_t now);
  // It holds its machine's outbox: a copy would write to the original's.
  record_keeper(const record_keeper&) = delete;
  record_keeper& operator=(const record_keeper&) = delete;

  // Loads the ledger: its unacknowledged records are kept (to resend), the
  // charge it had open is returned for the machine to settle. A failing
  // ledger is reported (`error`, code store) and yields nothing.
  std::optional<open_charge> recover();

  // A charge that ended: saved, `finished`, sent, kept until acknowledged.
  void finish(const protocol::charge_record& r);
  // Central's record_ack.
  void on_record_ack(const protocol::record_ack& a);

  // The machine knows its CP (configured, or configured anew): engine_hello
  // as `cp_id` now, and from now on on every occasion above.
  void introduce(std::string cp_id, std::int64_t now);

  // The link to Central came up: hello (once introduced), then every record.
  void on_connected(std::int64_t now);
  void on_disconnected();
  // Central no longer knows us: hello, then every record (once introduced).
  void on_unauthenticated(std::int64_t now);
  // Often (the machine's tick): the records every resend_every_ms, the
  // hello every hello_every_ms.
  void on_tick(std::int64_t now);

  bool central_up() const { return central_up_; }
  bool introduced() const { return hello_as_.has_value(); }
  // Finished charges Central has not acknowledged yet.
  std::size_t unacknowledged() const { return unacked_.size(); }
  // The record finished last by this process, if any.
  const std::optional<protocol::charge_record>& last_record() const { return last_record_; }

private:
  template <class T>
  void to_central(T body) {
    out_.send(std::string(central_link), std::move(body));
  }
  void store_error(std::string message);
  void hello(std::int64_t now);
  void resend(std::int64_t now);

  engine_ledger& ledger_;
  outbox& out_;
  std::optional<std::string> hello_as_;  // the CP to say engine_hello as; none before configuration
  bool central_up_ = false;
  std::int64_t last_resend_ms_ = 0;
  std::int64_t last_hello_ms_ = 0;
  std::map<std::pair<std::string, std::string>, protocol::charge_record> unacked_;  // by (cp, charge id)
  std::optional<protocol::charge_record> last_record_;
};

} // namespace evnet::domain

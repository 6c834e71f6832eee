#pragma once

// EV_Central's rules as one sans-I/O machine: the peer directory, the
// request ledger, the authorisation fence, the tickets owed and the
// operator's orders, composed with the network model. Inputs are decoded
// messages, lost peers, operator commands and ticks, each with the time
// (ms) passed in; outputs go into an outbox (replies by routing id, stream
// updates with their sequence, view notices as docs/HEADLESS.md names them)
// and into a charge_book (durable storage). No clock, no sockets, no CAF,
// no randomness, no unordered iteration: the same inputs give the same
// outputs, so a simulation can replay any run.
//
// Trust. With CURVE on, every message arrives with the User-Id of the key
// that sent it ("cp:ALC1", "driver:D1"; authority.hpp): a CP's key acts
// only as that CP (its Monitor or its Engine), a driver's only as that
// driver, and every id a message names must be the key's own; anything
// else is answered error_reply{forbidden}, shown (notice `refused`) and
// audited (both at most once a second per peer). With CURVE off (user id
// ""), claims are trusted as they are. A snapshot is served only to a peer
// that introduced itself, at most 3 at once and 3 a second per peer. The
// stream and snapshots carry each CP's public fields only (id, location,
// price, state): never a driver's id, kWh or amount; a driver hears about
// its own charge by direct sends, and Central's own notices show all.
// The operator's `revoke <ID>` revokes a key in the book, forgets the
// peers holding it (a CP becomes DISCONNECTED), ends a charge running there
// with a ticket for what was supplied, and hands the identity to the actor
// (take_revoked()) to update the key ring and cut the link; messages under
// a revoked identity are dropped without an answer from then on.
// Security-relevant events go to the book's audit trail (audit.hpp).
//
// Thread-safety: none; owned by the Central actor (or a simulation).

#include "evnet/domain/audit.hpp"
#include "evnet/domain/authority.hpp"
#include "evnet/domain/authorization_fence.hpp"
#include "evnet/domain/command_ledger.hpp"
#include "evnet/domain/network.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/domain/peer_directory.hpp"
#include "evnet/domain/rate_limit.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/domain/request_ledger.hpp"
#include "evnet/domain/ticket_ledger.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace evnet::domain {

// Central's durable book. store::central_store implements it on SQLite;
// memory_book below keeps it in memory for tests and the simulation (it
// outlives a machine, as the database outlives a Central process).
class charge_book {
public:
  virtual ~charge_book() = default;
  virtual result<seed> load_registry() = 0;
  virtual result<std::vector<std::string>> stopped_cps() = 0;
  // Stores a finished charge and the ticket owed to its driver (none for a
  // local "@CP" charge) at once. false (nothing changes) when (cp_id,
  // charge_id) is already stored: a retried record never bills twice.
  virtual result<bool> record_charge(const protocol::charge_record& r) = 0;
  // Was (cp_id, charge_id) confirmed before: a yes recorded for it, or its
  // record stored? (After a restart, such a charge is confirmed again, never
  // refused.)
  virtual result<bool> knows_charge(const std::string& cp_id, const std::string& charge_id) = 0;
  // A yes given to a request survives a restart: a retry after it hears the
  // same yes, never a "no" for a charge that runs.
  virtual status record_yes(const protocol::charge_request& req, const std::string& charge_id) = 0;
  virtual result<std::optional<protocol::charge_reply>> yes_for(const std::string& driver_id,
                                                                const std::string& request_id) = 0;
  // Tickets stored and not yet acknowledged by `driver_id`, in (cp, charge) order.
  virtual result<std::vector<protocol::charge_record>> undelivered_tickets(const std::string& driver_id) = 0;
  virtual status mark_delivered(const std::string& cp_id, const std::string& charge_id) = 0;
  // The operator's STOP (stopped) or RESUME, with its audit row, at once.
  virtual status set_stopped(const std::string& cp_id, bool stopped, const audit_entry& e) = 0;
  virtual result<bool> add_cp(const cp_record& r) = 0;  // insert or update; true when new
  virtual status log_event(const std::string& kind, const std::string& text) = 0;
  // Appends one row to the audit trail.
  virtual status audit(const audit_entry& e) = 0;
  // An event-log row and its audit row (a fault, a recovery) at once.
  virtual status log_and_audit(const std::string& kind, const std::string& text, const audit_entry& e) = 0;
  // Revokes the key of CP or driver `id`, with its audit row, at once.
  // Returns "cp" or "driver"; errc::unknown_cp when neither has a key.
  virtual result<std::string> revoke(const std::string& id, const audit_entry& e) = 0;
};

// An in-memory charge_book. `failing` makes every write fail (errc::store).
class memory_book final : public charge_book {
public:
  memory_book() = default;
  explicit memory_book(seed s) : registry_(std::move(s)) {}

  result<seed> load_registry() override;
  result<std::vector<std::string>> stopped_cps() override;
  result<bool> record_charge(const protocol::charge_record& r) override;
  result<bool> knows_charge(const std::string& cp_id, const std::string& charge_id) override;
  status record_yes(const protocol::charge_request& req, const std::string& charge_id) override;
  result<std::optional<protocol::charge_reply>> yes_for(const std::string& driver_id,
                                                        const std::string& request_id) override;
  result<std::vector<protocol::charge_record>> undelivered_tickets(const std::string& driver_id) override;
  status mark_delivered(const std::string& cp_id, const std::string& charge_id) override;
  status set_stopped(const std::string& cp_id, bool stopped, const audit_entry& e) override;
  result<bool> add_cp(const cp_record& r) override;
  status log_event(const std::string& kind, const std::string& text) override;
  status audit(const audit_entry& e) override;
  status log_and_audit(const std::string& kind, const std::string& text, const audit_entry& e) override;
  // Every registered CP and driver counts as keyed here.
  result<std::string> revoke(const std::string& id, const audit_entry& e) override;

  // What is stored, for invariant checks: charges by (cp, charge id).
  const std::map<std::pair<std::string, std::string>, protocol::charge_record>& charges() const { return charges_; }
  bool delivered(const std::string& cp_id, const std::string& charge_id) const;
  const std::vector<audit_entry>& audits() const { return audits_; }
  const std::vector<std::pair<std::string, std::string>>& events() const { return events_; }  // (kind, text)
  const std::set<std::string>& revoked() const { return revoked_; }  // ids whose key is revoked
  bool failing = false;

private:
  status refuse_if_failing() const;

  seed registry_;
  std::set<std::string> stopped_;
  std::map<std::pair<std::string, std::string>, protocol::charge_record> charges_;
  std::set<std::pair<std::string, std::string>> owed_;  // tickets not yet delivered
  std::map<std::pair<std::string, std::string>, protocol::charge_reply> yeses_;  // (driver, request id)
  std::vector<audit_entry> audits_;
  std::vector<std::pair<std::string, std::string>> events_;
  std::set<std::string> revoked_;
};

// The registry and the operator's standing STOPs, as the book holds them.
result<network> load_network(charge_book& book);

// An operator command, parsed (src/central/operator_command.*):
//   list | stop <CP|all> | resume <CP|all> | add <CP> <price> <location...>
//   | revoke <CP|DRIVER> | quit
enum class operator_verb : std::uint8_t { none, list, order, add, revoke, quit };
struct operator_command {
  operator_verb verb = operator_verb::none;
  cp_order order = cp_order::stop;  // verb == order
  bool all = false;                 // verb == order: every CP
  std::string target;               // the CP id (order, add), the CP or driver id (revoke)
  double price = 0.0;               // add
  std::string location;             // add
};

class central_machine {
public:
  static constexpr std::int64_t authorize_timeout_ms = authorization_fence::default_timeout_ms;
  static constexpr std::int64_t decision_resend_ms = authorization_fence::resend_ms;
  static constexpr std::int64_t ticket_resend_ms = ticket_ledger::default_resend_ms;
  static constexpr std::int64_t command_resend_ms = command_ledger::default_resend_ms;
  static constexpr std::int64_t command_report_ms = command_ledger::default_report_ms;

  // `book` must outlive the machine. `first_seq`: the stream's sequence
  // starts above it (the actor passes now_ms * 1000, so that a restarted
  // Central shows subscribers a gap and they ask for a snapshot).
  central_machine(charge_book& book, network model, std::uint64_t first_seq);

  // Start-up notices: "cps" (the table) and the "system status OK" message.
  void start(std::int64_t now);

  // Checks an OCPP charge point's Basic-auth password (cp_auth from the OCPP
  // gateway): true when it matches what the registry holds for that CP. The
  // actor passes one that looks the salted hash up in its store; without
  // one, every OCPP password is refused. Hashing is not the machine's
  // business (nor is the clock): it only decides what a mismatch means.
  using ocpp_password_check = std::function<bool(const std::string& cp_id, const std::string& password)>;
  void set_ocpp_password_check(ocpp_password_check check) { ocpp_check_ = std::move(check); }

  static constexpr std::int64_t snapshot_burst = 3;        // snapshots at once, per peer
  static constexpr std::int64_t snapshot_refill_ms = 333;  // then one more per this
  static constexpr std::int64_t report_interval_ms = 1000; // refusals shown/audited per peer (key, address)

  // A decoded message from the peer with routing id `peer`, sent with the
  // key whose ZAP identity is `user_id` ("" when CURVE is off: the peer's
  // claims are trusted).
  void on_message(const std::string& peer, const std::string& user_id, const protocol::message& msg,
                  std::int64_t now);
  // The same with CURVE off (the simulation, older tests).
  void on_message(const std::string& peer, const protocol::message& msg, std::int64_t now);
  // The transport's ZAP handler admitted (or refused) a key, or a handshake
  // failed: audited ("auth"); refusals at most once a second per key (or
  // address, when there is no key) and shown as a `refused` notice.
  void on_admission(bool admitted, const std::string& identity, const std::string& key, const std::string& address,
                    const std::string& detail, std::int64_t now);
  // The transport rejected a frame from `peer` (undecodable, too large):
  // audited ("malformed") at most once a second per peer.
  void on_rejected_frame(const std::string& peer, const std::string& user_id, const std::string& detail,
                         std::int64_t now);
  // User ids ("cp:ALC1", "driver:D1") revoked since the last call: the actor
  // removes them from its key ring and calls transport::revoke for each.
  std::vector<std::string> take_revoked();
  // The identity holds an active key again (the actor reloaded its ring
  // after a new registration): its messages are heard again.
  void readmit(const std::string& user_id);
  // Someone else revoked this identity's key in the book (tools/evnet keys
  // revoke while Central runs; it wrote the audit row): the same as the
  // operator's revoke without writing the book again. Also returned by the
  // next take_revoked(). An identity already revoked here is left alone.
  void on_revoked_elsewhere(const std::string& user_id, std::int64_t now);
  // The book's registry changed under the machine (tools/evnet keys add-cp,
  // add-driver): CPs and drivers it did not know join the model (a known
  // CP takes its new location and price). A store error is shown.
  void reload_registry(std::int64_t now);
  bool is_revoked(const std::string& user_id) const { return revoked_.contains(user_id); }
  // The transport expired the peer (no heartbeat): it forgets who it was.
  void on_peer_gone(const std::string& peer, std::int64_t now);
  // list, stop/resume, add, quit (then quit_requested() is true).
  void on_operator(const operator_command& cmd, std::int64_t now);
  // Deadlines and resends: call at least every second.
  void on_tick(std::int64_t now);

  // The stream (Clone pattern). Snapshots name the port of Central's PUB
  // socket (0 until set: "unknown", as from an older Central), so clients
  // learn it instead of assuming one.
  void set_stream_port(std::uint32_t port) { stream_port_ = port; }
  std::uint32_t stream_port() const { return stream_port_; }
  // The stream's heartbeat (the Clone pattern's HUGZ): on_tick makes one
  // when `stream_heartbeat_ms` have passed since the last, carrying the
  // sequence number of the last update published. The owner publishes it on
  // the stream's topic after the tick's updates.
  static constexpr std::int64_t stream_heartbeat_ms = 1000;
  std::optional<protocol::stream_heartbeat> take_stream_heartbeat() { return std::exchange(hugz_, std::nullopt); }

  // What the machine wants done; drain after each input.
  outbox& out() { return out_; }

  // For the owner and for invariant checks.
  const network& model() const { return model_; }
  const peer_directory& peers() const { return peers_; }
  std::uint64_t seq() const { return seq_; }
  bool quit_requested() const { return quit_; }

private:
  void handle(const std::string& peer, const protocol::message& msg, std::int64_t now);
  bool trusted(const std::string& peer, const protocol::message& msg, std::int64_t now);
  void refuse(const std::string& peer, const protocol::message& msg, const std::string& reason, std::int64_t now);
  void audit_hello(const std::string& peer, const std::string& claimed, const std::string& outcome, std::int64_t now);
  void on_snapshot_request(const std::string& peer, std::uint64_t corr, std::int64_t now);
  void revoke(const std::string& id, std::int64_t now);
  void cut_off(bool cp, const std::string& id, std::int64_t now);
  void end_revoked_charge(const std::string& cp_id, std::int64_t now);
  // Stores a finished charge and tickets it (once). false: the book failed
  // (shown); nothing changed.
  bool bill(const protocol::charge_record& r, std::int64_t now);
  std::vector<protocol::cp_info> public_snapshot() const;
  void on_cp_auth(const std::string& peer, std::uint64_t corr, const protocol::cp_auth& a, std::int64_t now);
  void on_engine_hello(const std::string& peer, std::uint64_t corr, const protocol::engine_hello& h, std::int64_t now);
  void on_driver_hello(const std::string& peer, std::uint64_t corr, const protocol::driver_hello& h, std::int64_t now);
  void on_cp_status(const std::string& peer, const protocol::cp_status& s, std::int64_t now);
  void on_charge_request(const std::string& peer, std::uint64_t corr, const protocol::charge_request& r, std::int64_t now);
  void on_authorize_reply(const protocol::authorize_reply& r, std::int64_t now);
  void on_decision_ack(const protocol::decision_ack& a);
  void on_telemetry(const protocol::telemetry& t);
  void on_charge_finished(const std::string& peer, std::uint64_t corr, const protocol::charge_record& r, std::int64_t now);
  void on_ticket_ack(const std::string& peer, const std::string& driver_id, const protocol::message& msg,
                     std::int64_t now);
  void on_ack(const std::string& cp_id, std::uint64_t corr, const protocol::ack& a);
  void lost(const peer_identity& who, const std::string& why = "no sign of life from its monitor");
  void answer(const protocol::charge_request& req, protocol::charge_reply r);
  void interrupt(const std::string& cp_id, const session& s, const std::string& reason);
  void order(const std::string& cp_id, cp_order what, bool announced, std::int64_t now);
  void reapply(const std::string& cp_id, std::int64_t now);
  void send_ticket(const protocol::charge_record& r);
  void message(const std::string& text);
  void store_error(const error& e);
  void flush();
  template <class T>
  void to_monitor(const std::string& cp_id, T body, std::uint64_t corr = 0);

  charge_book& book_;
  ocpp_password_check ocpp_check_;
  bool ocpp_request(const std::string& peer, const protocol::message& msg) const;
  network model_;
  peer_directory peers_;
  request_ledger requests_;
  authorization_fence fence_;
  ticket_ledger tickets_;
  command_ledger commands_;
  outbox out_;
  std::uint64_t seq_ = 0;
  std::uint64_t correlation_ = 0;
  std::uint32_t stream_port_ = 0;
  std::optional<std::int64_t> last_hugz_ms_;        // when the last stream heartbeat was made
  std::optional<protocol::stream_heartbeat> hugz_;  // made, not yet taken
  bool quit_ = false;
  std::map<std::string, cp_state> shown_;  // cp -> state last shown
  std::set<std::string> interrupted_;      // charge ids whose driver was told
  std::map<std::string, protocol::cp_info> published_;  // cp -> public fields last on the stream
  std::string user_;                       // the user id of the message being handled
  std::set<std::string> revoked_;          // user ids revoked during this machine's life
  // Monitor links that authenticated with an OCPP password (the OCPP
  // gateway's): such a Monitor may ask for a charge at its own CP in the name
  // of a registered driver, the idTag its charge point read.
  std::set<std::string> ocpp_monitors_;
  std::vector<std::string> newly_revoked_; // for take_revoked()
  once_per refusals_{report_interval_ms};  // per peer: refused and malformed messages
  once_per admissions_{report_interval_ms};  // per key or address: refused admissions
  once_per malformed_{report_interval_ms};   // per peer: frames the transport rejected
  token_bucket snapshots_{snapshot_burst, snapshot_refill_ms};  // per peer
};

} // namespace evnet::domain

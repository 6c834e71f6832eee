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
// Thread-safety: none; owned by the Central actor (or a simulation).

#include "evnet/domain/authorization_fence.hpp"
#include "evnet/domain/command_ledger.hpp"
#include "evnet/domain/network.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/domain/peer_directory.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/domain/request_ledger.hpp"
#include "evnet/domain/ticket_ledger.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
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
  virtual status set_stopped(const std::string& cp_id, bool stopped) = 0;
  virtual result<bool> add_cp(const cp_record& r) = 0;  // insert or update; true when new
  virtual status log_event(const std::string& kind, const std::string& text) = 0;
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
  status set_stopped(const std::string& cp_id, bool stopped) override;
  result<bool> add_cp(const cp_record& r) override;
  status log_event(const std::string& kind, const std::string& text) override;

  // What is stored, for invariant checks: charges by (cp, charge id).
  const std::map<std::pair<std::string, std::string>, protocol::charge_record>& charges() const { return charges_; }
  bool delivered(const std::string& cp_id, const std::string& charge_id) const;
  bool failing = false;

private:
  status refuse_if_failing() const;

  seed registry_;
  std::set<std::string> stopped_;
  std::map<std::pair<std::string, std::string>, protocol::charge_record> charges_;
  std::set<std::pair<std::string, std::string>> owed_;  // tickets not yet delivered
  std::map<std::pair<std::string, std::string>, protocol::charge_reply> yeses_;  // (driver, request id)
};

// The registry and the operator's standing STOPs, as the book holds them.
result<network> load_network(charge_book& book);

// An operator command, parsed (src/central/operator_command.*):
//   list | stop <CP|all> | resume <CP|all> | add <CP> <price> <location...> | quit
enum class operator_verb : std::uint8_t { none, list, order, add, quit };
struct operator_command {
  operator_verb verb = operator_verb::none;
  cp_order order = cp_order::stop;  // verb == order
  bool all = false;                 // verb == order: every CP
  std::string target;               // the CP id (order, add)
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

  // A decoded message from the peer with routing id `peer`.
  void on_message(const std::string& peer, const protocol::message& msg, std::int64_t now);
  // The transport expired the peer (no heartbeat): it forgets who it was.
  void on_peer_gone(const std::string& peer, std::int64_t now);
  // list, stop/resume, add, quit (then quit_requested() is true).
  void on_operator(const operator_command& cmd, std::int64_t now);
  // Deadlines and resends: call at least every second.
  void on_tick(std::int64_t now);

  // What the machine wants done; drain after each input.
  outbox& out() { return out_; }

  // For the owner and for invariant checks.
  const network& model() const { return model_; }
  const peer_directory& peers() const { return peers_; }
  std::uint64_t seq() const { return seq_; }
  bool quit_requested() const { return quit_; }

private:
  void handle(const std::string& peer, const protocol::message& msg, std::int64_t now);
  void on_cp_auth(const std::string& peer, std::uint64_t corr, const protocol::cp_auth& a, std::int64_t now);
  void on_engine_hello(const std::string& peer, std::uint64_t corr, const protocol::engine_hello& h, std::int64_t now);
  void on_driver_hello(const std::string& peer, std::uint64_t corr, const protocol::driver_hello& h, std::int64_t now);
  void on_cp_status(const protocol::cp_status& s);
  void on_charge_request(const std::string& peer, std::uint64_t corr, const protocol::charge_request& r, std::int64_t now);
  void on_authorize_reply(const protocol::authorize_reply& r, std::int64_t now);
  void on_decision_ack(const protocol::decision_ack& a);
  void on_telemetry(const protocol::telemetry& t);
  void on_charge_finished(const std::string& peer, std::uint64_t corr, const protocol::charge_record& r, std::int64_t now);
  void on_ticket_ack(const std::string& driver_id, const protocol::ticket_ack& a);
  void on_ack(const std::string& cp_id, std::uint64_t corr, const protocol::ack& a);
  void lost(const peer_identity& who);
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
  network model_;
  peer_directory peers_;
  request_ledger requests_;
  authorization_fence fence_;
  ticket_ledger tickets_;
  command_ledger commands_;
  outbox out_;
  std::uint64_t seq_ = 0;
  std::uint64_t correlation_ = 0;
  bool quit_ = false;
  std::map<std::string, cp_state> shown_;  // cp -> state last shown
  std::set<std::string> interrupted_;      // charge ids whose driver was told
};

} // namespace evnet::domain

#pragma once

// The skeleton every program's core actor shares, so that each program's
// actor is only wiring: decode, ask its domain machine, send what the
// machine says. The core provides
//  - events to the view (emit),
//  - one periodic tick, re-armed after each run, with the time passed in,
//  - the one clock read of the process's decisions (now()), which the
//    actor hands to its domain machine as a parameter,
//  - correlation ids for outgoing requests,
//  - an orderly quit (the view is told first),
//  - recognising "unauthenticated" from Central: Central restarted or
//    expired us, so the program introduces itself again (reintroduce()),
//  - optionally, group commit (group_inputs(), below).
//
// Inputs are inbound messages (one, or a transport wake-up's inbound_batch),
// link events, operator commands, ticks and quit. By default each input is
// handled on its own and followed by after_each().
//
// Group commit (Central). After group_inputs(), the inputs that are waiting
// in the mailbox together are handled as one batch: begin_batch() before the
// first, then each input, then end_batch() (the actor makes the batch's
// writes durable: one transaction, one fsync) and only then after_each()
// (what the inputs produced leaves). A batch ends when the mailbox holds
// nothing that arrived before it began (a flush message the core sends to
// itself when the batch begins comes round), after max_inputs messages, or
// once it has been open max_open while output waits, whichever comes
// first; quit ends it at once. So under load many messages share one
// commit, and when idle a message waits for nothing but its own commit.
// While output_waits() is false (the batch has written nothing yet), what
// the inputs produced leaves at once: it can only depend on writes of
// earlier, committed batches. A batch that has written but produced nothing
// (output_pending() false: audit rows of admitted handshakes, say) is
// nobody's wait: its commit is put off up to max_defer from its start, so
// that a trickle of such inputs (a storm of CURVE handshakes) shares one
// commit too; the first input that produces output ends it as usual.
//
// Thread-safety: an actor; everything here runs on its own message handlers.

#include "evnet/json.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace evnet::runtime {

struct inbound_batch;

class core_actor : public caf::event_based_actor {
public:
  core_actor(caf::actor_config& cfg, caf::actor view, std::chrono::milliseconds tick_period);

  caf::behavior make_behavior() final;

  // Limits of one batch under group commit.
  static constexpr std::size_t default_max_inputs = 1024;
  static constexpr std::chrono::microseconds default_max_open{5000};
  static constexpr std::chrono::microseconds default_max_defer{50000};

protected:
  // Called once before the first message; the place for a "started" event.
  virtual void on_start() {}
  virtual void on_inbound(transport::inbound& in) = 0;
  virtual void on_link_event(const transport::link_event& ev) = 0;
  virtual void on_command(const std::string& line) = 0;
  virtual void on_tick(std::int64_t now) = 0;
  // Central asked us to authenticate again (error_reply unauthenticated).
  virtual void reintroduce(std::int64_t /*now*/) {}
  // After every handler (after every batch under group commit): a place to
  // flush what the domain produced.
  virtual void after_each() {}
  // Handlers for a program's own message types (the OCPP gateway's
  // WebSocket events), tried after the core's. Each should end with
  // handled(), so that after_each() runs as after any other input.
  virtual caf::message_handler extra_handlers() { return {}; }
  void handled();

  // A shutdown signal or the view asked to quit. The default quits at once;
  // a program with something to say first overrides it.
  virtual void on_quit() { quit_now(); }

  // ---- group commit -----------------------------------------------------
  // Handle inputs in batches from now on (call it from the constructor).
  void group_inputs(std::size_t max_inputs = default_max_inputs,
                    std::chrono::microseconds max_open = default_max_open,
                    std::chrono::microseconds max_defer = default_max_defer);
  // Before the first input of a batch.
  virtual void begin_batch() {}
  // After the last input of a batch, before after_each(): commit.
  virtual void end_batch() {}
  // true once the open batch holds something that must be durable before
  // the output leaves (a write). While false, output leaves after each input.
  virtual bool output_waits() const { return true; }
  // true when the inputs produced something after_each() would deliver.
  // The default (always) never puts a commit off.
  virtual bool output_pending() { return true; }

  void emit(std::string name, json::object fields = {});
  void quit_now();  // tells the view, then quits
  std::int64_t now() const;
  std::uint64_t next_correlation() { return ++correlation_; }
  const caf::actor& view() const { return view_; }

private:
  void inbound(transport::inbound& in);
  // Runs one input (`inputs` messages) as the mode says: alone, then
  // after_each(); or inside the current batch.
  template <class Handle>
  void take(std::size_t inputs, Handle&& handle);
  void close_batch();
  void batch_turn(std::uint64_t n);

  caf::actor view_;
  std::chrono::milliseconds tick_period_;
  std::uint64_t correlation_ = 0;

  bool grouped_ = false;
  std::size_t max_inputs_ = default_max_inputs;
  std::chrono::microseconds max_open_ = default_max_open;
  std::chrono::microseconds max_defer_ = default_max_defer;
  bool batch_open_ = false;
  bool deferred_ = false;            // its commit put off (nothing waits on it)
  std::uint64_t batch_ = 0;          // number of the open (or last) batch
  std::size_t batch_inputs_ = 0;     // messages handled in the open batch
  std::chrono::steady_clock::time_point batch_began_;
};

} // namespace evnet::runtime

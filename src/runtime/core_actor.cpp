#include "evnet/runtime/core_actor.hpp"

#include "evnet/runtime/actor_sink.hpp"
#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/view.hpp"

#include <utility>

namespace evnet::runtime {

namespace {

// (batch_atom, std::uint64_t n): to self when batch n begins; when it comes
// round, everything that was waiting in the mailbox has joined batch n.
using batch_atom = caf::atom_constant<caf::atom("batchend")>;

} // namespace

core_actor::core_actor(caf::actor_config& cfg, caf::actor view, std::chrono::milliseconds tick_period)
    : caf::event_based_actor(cfg), view_(std::move(view)), tick_period_(tick_period) {}

void core_actor::group_inputs(std::size_t max_inputs, std::chrono::microseconds max_open,
                              std::chrono::microseconds max_defer) {
  grouped_ = true;
  max_inputs_ = max_inputs > 0 ? max_inputs : 1;
  max_open_ = max_open;
  max_defer_ = max_defer;
}

template <class Handle>
void core_actor::take(std::size_t inputs, Handle&& handle) {
  if (!grouped_) {
    handle();
    after_each();
    return;
  }
  if (!batch_open_) {
    batch_open_ = true;
    batch_inputs_ = 0;
    batch_began_ = std::chrono::steady_clock::now();
    ++batch_;
    begin_batch();
    send(this, batch_atom::value, batch_);
  }
  handle();
  batch_inputs_ += inputs;
  const bool pending = output_pending();
  if (deferred_ && pending) {
    // Someone waits now: end the batch after what is queued, not at the timer.
    deferred_ = false;
    send(this, batch_atom::value, batch_);
  }
  if (batch_inputs_ >= max_inputs_ ||
      (pending && std::chrono::steady_clock::now() - batch_began_ >= max_open_)) {
    close_batch();  // its flush message, when it comes, finds another batch or none
  } else if (!output_waits()) {
    after_each();
  }
}

void core_actor::close_batch() {
  batch_open_ = false;
  deferred_ = false;
  end_batch();
  after_each();
}

// The batch's flush message came round: end it, unless it only wrote what
// nobody waits for and may gather more for a while (once: its timer ends it).
void core_actor::batch_turn(std::uint64_t n) {
  if (!batch_open_ || n != batch_) {
    return;  // an earlier batch's message
  }
  const auto open = std::chrono::steady_clock::now() - batch_began_;
  if (!deferred_ && output_waits() && !output_pending() && open < max_defer_) {
    deferred_ = true;
    delayed_send(this, std::chrono::duration_cast<std::chrono::microseconds>(max_defer_ - open), batch_atom::value,
                 n);
    return;
  }
  close_batch();
}

void core_actor::inbound(transport::inbound& in) {
  if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload);
      e != nullptr && e->code == errc::unauthenticated) {
    reintroduce(now());
  } else {
    on_inbound(in);
  }
}

caf::behavior core_actor::make_behavior() {
  send(this, tick_atom::value);
  on_start();
  after_each();
  caf::message_handler own{
      [this](transport::inbound& in) { take(1, [&] { inbound(in); }); },
      [this](inbound_batch& batch) {
        if (!grouped_) {
          // One by one, as if they had come alone.
          for (auto& in : batch.msgs) {
            inbound(in);
            after_each();
          }
          return;
        }
        take(batch.msgs.size(), [&] {
          for (auto& in : batch.msgs) {
            inbound(in);
          }
        });
      },
      [this](transport::link_event& ev) { take(1, [&] { on_link_event(ev); }); },
      [this](command_atom, const std::string& line) { take(1, [&] { on_command(line); }); },
      [this](tick_atom) {
        take(1, [&] { on_tick(now()); });
        delayed_send(this, tick_period_, tick_atom::value);
      },
      [this](batch_atom, std::uint64_t n) { batch_turn(n); },
      [this](quit_atom) {
        if (!grouped_) {
          on_quit();
          return;
        }
        // Whatever the batch holds is committed and sent before the end.
        take(1, [&] { on_quit(); });
        if (batch_open_) {
          close_batch();
        }
      },
  };
  auto extra = extra_handlers();
  return extra ? caf::behavior{own.or_else(extra)} : caf::behavior{own};
}

void core_actor::handled() {
  take(1, [] {});
}

void core_actor::emit(std::string name, json::object fields) {
  send(view_, event_atom::value, make_event(std::move(name), std::move(fields)));
}

void core_actor::quit_now() {
  send(view_, quit_atom::value);
  quit();
}

std::int64_t core_actor::now() const { return now_ms(); }

} // namespace evnet::runtime

#include "evnet/runtime/core_actor.hpp"

#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/view.hpp"

namespace evnet::runtime {

core_actor::core_actor(caf::actor_config& cfg, caf::actor view, std::chrono::milliseconds tick_period)
    : caf::event_based_actor(cfg), view_(std::move(view)), tick_period_(tick_period) {}

caf::behavior core_actor::make_behavior() {
  send(this, tick_atom::value);
  on_start();
  after_each();
  return {
      [this](transport::inbound& in) {
        if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload);
            e != nullptr && e->code == errc::unauthenticated) {
          reintroduce(now());
        } else {
          on_inbound(in);
        }
        after_each();
      },
      [this](transport::link_event& ev) {
        on_link_event(ev);
        after_each();
      },
      [this](command_atom, const std::string& line) {
        on_command(line);
        after_each();
      },
      [this](tick_atom) {
        on_tick(now());
        after_each();
        delayed_send(this, tick_period_, tick_atom::value);
      },
      [this](quit_atom) { on_quit(); },
  };
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

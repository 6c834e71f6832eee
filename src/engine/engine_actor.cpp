#include "engine_actor.hpp"

#include "evnet/domain/engine_command.hpp"
#include "evnet/domain/engine_machine.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/text.hpp"

#include <chrono>
#include <string>
#include <utility>

namespace evnet::engine {

namespace {

// Wiring only: every decision is domain::engine_machine's. This actor hands
// it the inputs with the time and sends what it produced.
class engine_actor : public runtime::core_actor {
public:
  engine_actor(caf::actor_config& cfg, engine_links links, std::unique_ptr<store::engine_store> db, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), std::chrono::milliseconds{domain::engine_machine::tick_ms}),
        links_(std::move(links)),
        db_(std::move(db)),
        machine_(domain::engine_setup{links_.listen_port, links_.central_address, links_.cp_id}, *db_, now()) {}

protected:
  void on_inbound(transport::inbound& in) override {
    if (in.link == links_.central) {
      if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload)) {
        runtime::log_line(machine_.sender(), "CENTRAL answered " + std::string(to_string(e->code)) + ": " + e->detail);
      }
      machine_.on_central(in.msg, now());
    } else if (in.link == links_.monitor_router) {
      machine_.on_monitor(in.peer, in.msg, now());
    }
  }

  void on_link_event(const transport::link_event& ev) override {
    if (ev.link == links_.central) {
      if (ev.kind == transport::event_kind::connected) {
        machine_.on_central_connected(now());
      } else if (ev.kind == transport::event_kind::disconnected) {
        machine_.on_central_disconnected(now());
      }
    } else if (ev.kind == transport::event_kind::peer_gone) {
      machine_.on_monitor_gone(ev.peer, now());
    } else if (ev.kind == transport::event_kind::rejected) {
      machine_.on_rejected(ev.detail, now());
    } else if (ev.kind == transport::event_kind::refused) {
      // Only this CP's own key is admitted on the Monitor's port; anyone
      // else is refused at the handshake (rate-limited by the transport).
      emit("refused", {{"address", ev.address}, {"key", ev.key}, {"reason", ev.detail}});
      runtime::log_line(machine_.sender(), "refused a connection from " + printable_id(ev.address) + ": " + ev.detail);
    }
  }

  void on_command(const std::string& line) override { machine_.on_console(domain::parse_engine_command(line), now()); }

  void on_tick(std::int64_t now) override { machine_.on_tick(now); }

  void reintroduce(std::int64_t now) override { machine_.on_central_unauthenticated(now); }

  void after_each() override {
    auto& out = machine_.out();
    for (auto& s : out.take_sends()) {
      protocol::message m;
      m.sender = machine_.sender();
      m.correlation = s.correlation;
      m.payload = std::move(s.body);
      if (s.to == domain::engine_machine::central_link) {
        links_.net->send(links_.central, m);
      } else {
        links_.net->send(links_.monitor_router, s.to, m);
      }
    }
    for (auto& n : out.take_notices()) {
      emit(std::move(n.name), std::move(n.fields));
    }
    if (machine_.quit_requested()) {
      quit_now();
    }
  }

private:
  engine_links links_;
  std::unique_ptr<store::engine_store> db_;  // the machine's ledger: declared before it
  domain::engine_machine machine_;
};

} // namespace

caf::actor spawn_engine(caf::actor_system& sys, engine_links links, std::unique_ptr<store::engine_store> db,
                        caf::actor view) {
  return sys.spawn<engine_actor>(std::move(links), std::move(db), std::move(view));
}

} // namespace evnet::engine

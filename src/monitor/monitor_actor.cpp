#include "monitor_actor.hpp"

#include "evnet/domain/monitor_command.hpp"
#include "evnet/domain/monitor_machine.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/runtime/log.hpp"

#include <chrono>
#include <map>
#include <string>
#include <utility>

namespace evnet::monitor {

namespace {

// Wiring only: every decision is domain::monitor_machine's. This actor hands
// it the inputs with the time and sends what it produced.
class monitor_actor : public runtime::core_actor {
public:
  monitor_actor(caf::actor_config& cfg, monitor_links links, std::string cp_id, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), std::chrono::milliseconds{domain::monitor_machine::tick_ms}),
        links_(std::move(links)),
        sender_("monitor:" + cp_id),
        routes_{{std::string(domain::monitor_machine::central_link), links_.central},
                {std::string(domain::monitor_machine::engine_link), links_.engine}},
        machine_(domain::monitor_setup{std::move(cp_id), links_.engine_address, links_.central_address}, now()) {}

protected:
  void on_inbound(transport::inbound& in) override {
    if (in.link == links_.central) {
      if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload)) {
        runtime::log_line(sender_, "CENTRAL answered " + std::string(to_string(e->code)) + ": " + e->detail);
      }
      machine_.on_central(in.msg, now());
    } else if (in.link == links_.engine) {
      machine_.on_engine(in.msg, now());
    }
  }

  void on_link_event(const transport::link_event& ev) override {
    const bool central = ev.link == links_.central;
    if (ev.kind == transport::event_kind::connected) {
      central ? machine_.on_central_connected(now()) : machine_.on_engine_connected(now());
    } else if (ev.kind == transport::event_kind::disconnected && central) {
      machine_.on_central_disconnected(now());
    }
  }

  void on_command(const std::string& line) override {
    machine_.on_console(domain::parse_monitor_command(line), now());
  }

  void on_tick(std::int64_t now) override { machine_.on_tick(now); }

  void reintroduce(std::int64_t now) override { machine_.on_central_unauthenticated(now); }

  void after_each() override {
    auto& out = machine_.out();
    for (auto& s : out.take_sends()) {
      protocol::message m;
      m.sender = sender_;
      m.correlation = s.correlation;
      m.payload = std::move(s.body);
      links_.net->send(routes_.at(s.to), m);
    }
    for (auto& n : out.take_notices()) {
      emit(std::move(n.name), std::move(n.fields));
    }
    if (machine_.quit_requested()) {
      quit_now();
    }
  }

private:
  monitor_links links_;
  std::string sender_;
  std::map<std::string, transport::link_id> routes_;  // the machine's link names
  domain::monitor_machine machine_;
};

} // namespace

caf::actor spawn_monitor(caf::actor_system& sys, monitor_links links, std::string cp_id, caf::actor view) {
  return sys.spawn<monitor_actor>(std::move(links), std::move(cp_id), std::move(view));
}

} // namespace evnet::monitor

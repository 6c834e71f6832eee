#include "driver_actor.hpp"

#include "evnet/domain/driver_command.hpp"
#include "evnet/domain/driver_runner.hpp"
#include "evnet/domain/request_file.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/runtime/log.hpp"

#include <chrono>
#include <variant>

namespace evnet::driver {

namespace {

using namespace std::chrono_literals;

// The runner's deadlines (resends, give-ups, the pause between services,
// hello) are checked on each tick, so this is their resolution.
constexpr auto tick_period = 250ms;

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

// Wiring only: inputs go to domain::driver_runner with the time, and what
// it wants done goes to the transport (everything it sends is for Central's
// DEALER link) and to the view. Reading a request file is the one piece of
// I/O done here; what happens with it is the runner's.
class driver_actor : public runtime::core_actor {
public:
  driver_actor(caf::actor_config& cfg, driver_links links, driver_settings settings, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), tick_period),
        links_(std::move(links)),
        sender_("driver:" + settings.driver_id),
        initial_file_(std::move(settings.file)),
        runner_(domain::driver_runner_settings{settings.driver_id, links_.central_address,
                                               settings.default_duration_s}) {}

protected:
  void on_start() override {
    runner_.start(now());
    if (!initial_file_.empty()) {
      load_file(initial_file_);
    }
  }

  void on_inbound(transport::inbound& in) override {
    if (in.link == links_.stream) {
      runner_.on_stream(in.msg, now());
      return;
    }
    if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload)) {
      runtime::log_line(sender_, "CENTRAL answered " + std::string(to_string(e->code)) + ": " + e->detail);
    }
    runner_.on_central(in.msg, now());
  }

  void on_link_event(const transport::link_event& ev) override {
    if (ev.link != links_.central) {
      return;
    }
    switch (ev.kind) {
      case transport::event_kind::connected:
        runner_.on_connected(now());
        break;
      case transport::event_kind::disconnected:
        runner_.on_disconnected(now());
        break;
      default:
        break;
    }
  }

  void on_command(const std::string& line) override {
    auto cmd = domain::parse_driver_command(line);
    if (!cmd) {
      runner_.on_bad_command(cmd.err(), now());
      return;
    }
    std::visit(overloaded{
                   [this](const domain::driver_cmd::file& f) { load_file(f.path); },
                   [this](const domain::driver_cmd::quit&) { quit_now(); },
                   [this, &cmd](const auto&) { runner_.on_console(*cmd, now()); },
               },
               *cmd);
  }

  void on_tick(std::int64_t now) override { runner_.on_tick(now); }

  void reintroduce(std::int64_t now) override { runner_.reintroduce(now); }

  void after_each() override {
    auto& out = runner_.out();
    auto notices = out.take_notices();
    // Subscribe before the snapshot request that comes with it leaves (the
    // Clone pattern's order; the transport keeps the order of its queue).
    for (auto& n : notices) {
      if (n.name == "stream") {
        subscribe(n.fields);
      }
    }
    for (auto& o : out.take_sends()) {
      links_.net->send(links_.central, protocol::make(sender_, std::move(o.body), next_correlation()));
    }
    for (auto& n : notices) {
      emit(std::move(n.name), std::move(n.fields));
    }
  }

private:
  // The table's `stream` notice: (re)subscribe to Central's stream at the
  // port it names (0: an older Central, whose stream is on its port + 1),
  // on Central's host, with a fresh socket. The event says where: the
  // endpoint and the port actually used.
  void subscribe(json::object& fields) {
    std::int64_t port = 0;
    if (const auto it = fields.find("port"); it != fields.end() && it->second.is_number_integer()) {
      port = it->second.get<std::int64_t>();
    }
    if (port == 0) {
      port = std::int64_t{links_.central_port} + 1;
    }
    if (port < 1 || port > 65535) {
      emit("error", {{"code", errc::config}, {"message", "CENTRAL's stream port " + std::to_string(port) +
                                                             " is not a TCP port: not subscribed"}});
      return;
    }
    auto endpoint = transport::tcp_endpoint(links_.central_host, static_cast<std::uint16_t>(port));
    links_.net->subscribe(links_.stream, endpoint);
    json::object event{{"endpoint", std::move(endpoint)}, {"port", port}};
    for (auto& kv : fields) {
      if (kv.first != "port") {
        event.emplace(kv.first, std::move(kv.second));
      }
    }
    fields = std::move(event);
  }

  void load_file(const std::string& path) { runner_.start_file(path, domain::load_request_file(path), now()); }

  driver_links links_;
  std::string sender_;
  std::string initial_file_;
  domain::driver_runner runner_;
};

} // namespace

caf::actor spawn_driver(caf::actor_system& sys, driver_links links, driver_settings settings, caf::actor view) {
  return sys.spawn<driver_actor>(std::move(links), std::move(settings), std::move(view));
}

} // namespace evnet::driver

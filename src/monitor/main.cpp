// EV_CP_M: wiring only. See monitor_actor.hpp for the behaviour.

#include "monitor_actor.hpp"

#include "evnet/domain/registry.hpp"
#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/trust.hpp"
#include "evnet/text.hpp"
#include "evnet/ui/panels.hpp"

namespace {

constexpr const char* usage =
    "usage: EV_CP_M <engine_host> <engine_port> <central_host> <central_port> <cp_id> [--keys DIR]\n"
    "               [--insecure] [--headless] [--log FILE]\n"
    "\n"
    "  <engine_host> <engine_port>    where this CP's EV_CP_E listens (its --listen port)\n"
    "  <central_host> <central_port>  where EV_Central listens\n"
    "                                 (a host is a name, an IPv4 or an IPv6 address)\n"
    "  <cp_id>                        the CP to authenticate, e.g. ALC1\n"
    "  --headless      no panel: JSON events on stdout, commands on stdin\n"
    "                  (charge [SECONDS] starts a charge at the CP; quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/monitor-<cp_id>.log otherwise)\n"
    EVNET_TRUST_USAGE;

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help", "insecure"}, {"log", "keys"});
  if (!args) {
    runtime::exit_usage(usage, args.err().message);
  }
  if (args->has("help")) {
    runtime::exit_usage(usage);
  }
  const auto& pos = args->positional;
  if (pos.size() != 5) {
    runtime::exit_usage(usage, "expected five arguments");
  }
  auto engine_host = runtime::parse_host(pos[0], "<engine_host>");
  if (!engine_host) {
    runtime::exit_usage(usage, engine_host.err().message);
  }
  auto central_host = runtime::parse_host(pos[2], "<central_host>");
  if (!central_host) {
    runtime::exit_usage(usage, central_host.err().message);
  }
  auto engine_port = runtime::parse_port(pos[1], "<engine_port>");
  if (!engine_port) {
    runtime::exit_usage(usage, engine_port.err().message);
  }
  auto central_port = runtime::parse_port(pos[3], "<central_port>");
  if (!central_port) {
    runtime::exit_usage(usage, central_port.err().message);
  }
  if (!is_safe_id(pos[4])) {
    runtime::exit_usage(usage, "<cp_id> must be 1 to 64 letters, digits, '-', '_' or '.'");
  }
  const std::string cp_id = pos[4];
  const std::string name = "monitor-" + cp_id;
  const auto trust = runtime::trust_from(*args);
  runtime::warn_if_insecure(trust, "EV_CP_M");
  std::optional<transport::curve_config> curve;
  std::string central_key;
  std::string engine_key;
  if (!trust.insecure) {
    // The CP's pair, shared with its Engine: the Engine's server key is the
    // same public key.
    auto own = runtime::own_pair_or_exit(trust, "EV_CP_M", security::cp_key_name(cp_id));
    central_key = runtime::public_key_or_exit(trust, "EV_CP_M", security::central_key_name());
    engine_key = own.public_key;
    curve = transport::curve_config{std::move(own), nullptr};
  }

  runtime::app_shell shell{name, args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::monitor, "EV_CP_M");
                           }};
  transport::options opts;
  opts.sender_name = "monitor:" + cp_id;
  opts.curve = std::move(curve);
  transport::transport net{opts};
  monitor::monitor_links links;
  links.net = &net;
  links.engine_address = runtime::host_port(*engine_host, *engine_port);
  links.central_address = runtime::host_port(*central_host, *central_port);
  links.engine = net.add_dealer(runtime::tcp_endpoint(*engine_host, *engine_port), "monitor:" + cp_id, engine_key);
  links.central =
      net.add_dealer(runtime::tcp_endpoint(*central_host, *central_port), "monitor:" + cp_id, central_key);
  auto core = monitor::spawn_monitor(shell.system(), links, cp_id, shell.view());
  return shell.run(core, net);
}

// EV_CP_M: wiring only. See monitor_actor.hpp for the behaviour.

#include "monitor_actor.hpp"

#include "evnet/domain/registry.hpp"
#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/ui/panels.hpp"

namespace {

constexpr const char* usage =
    "usage: EV_CP_M <engine_host> <engine_port> <central_host> <central_port> <cp_id> [--headless] [--log FILE]\n"
    "\n"
    "  <engine_host> <engine_port>    where this CP's EV_CP_E listens (its --listen port)\n"
    "  <central_host> <central_port>  where EV_Central listens\n"
    "  <cp_id>                        the CP to authenticate, e.g. ALC1\n"
    "  --headless      no panel: JSON events on stdout, commands on stdin\n"
    "                  (charge [SECONDS] starts a charge at the CP; quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/monitor-<cp_id>.log otherwise)\n";

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help"}, {"log"});
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
  auto engine_port = runtime::parse_port(pos[1], "<engine_port>");
  if (!engine_port) {
    runtime::exit_usage(usage, engine_port.err().message);
  }
  auto central_port = runtime::parse_port(pos[3], "<central_port>");
  if (!central_port) {
    runtime::exit_usage(usage, central_port.err().message);
  }
  if (!domain::valid_id(pos[4])) {
    runtime::exit_usage(usage, "<cp_id> must be 1 to 64 printable characters without spaces");
  }
  const std::string cp_id = pos[4];
  const std::string name = "monitor-" + cp_id;

  runtime::app_shell shell{name, args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::monitor, "EV_CP_M");
                           }};
  transport::options opts;
  opts.sender_name = "monitor:" + cp_id;
  transport::transport net{opts};
  monitor::monitor_links links;
  links.net = &net;
  links.engine_address = pos[0] + ":" + pos[1];
  links.central_address = pos[2] + ":" + pos[3];
  links.engine = net.add_dealer(runtime::tcp_endpoint(pos[0], *engine_port), "monitor:" + cp_id);
  links.central = net.add_dealer(runtime::tcp_endpoint(pos[2], *central_port), "monitor:" + cp_id);
  auto core = monitor::spawn_monitor(shell.system(), links, cp_id, shell.view());
  return shell.run(core, net);
}

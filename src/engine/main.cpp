// EV_CP_E: wiring only. See engine_actor.hpp for the behaviour.

#include "engine_actor.hpp"

#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/ui/panels.hpp"

#include <cstdio>

namespace {

constexpr const char* usage =
    "usage: EV_CP_E <central_host> <central_port> [--listen PORT] [--store FILE] [--headless] [--log FILE]\n"
    "\n"
    "  <central_host> <central_port>  where EV_Central listens\n"
    "  --listen PORT   where this Engine's Monitor connects (default 6000)\n"
    "  --store FILE    local store of unacknowledged charges (default var/engine-<PORT>.db)\n"
    "  --headless      no console: JSON events on stdout, commands on stdin\n"
    "                  (plug, unplug, fault, repair, quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/engine-<PORT>.log otherwise)\n";

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help"}, {"listen", "store", "log"});
  if (!args) {
    runtime::exit_usage(usage, args.err().message);
  }
  if (args->has("help")) {
    runtime::exit_usage(usage);
  }
  if (args->positional.size() != 2) {
    runtime::exit_usage(usage, "expected two arguments: <central_host> <central_port>");
  }
  auto central_port = runtime::parse_port(args->positional[1], "<central_port>");
  if (!central_port) {
    runtime::exit_usage(usage, central_port.err().message);
  }
  auto listen = runtime::parse_port(args->get("listen").value_or("6000"), "--listen");
  if (!listen) {
    runtime::exit_usage(usage, listen.err().message);
  }
  const std::string name = "engine-" + std::to_string(*listen);
  const auto store_path = args->get("store").value_or("var/" + name + ".db");
  runtime::ensure_parent_dir(store_path);
  auto db = store::engine_store::open(store_path);
  if (!db) {
    std::fprintf(stderr, "EV_CP_E: %s\n", db.err().message.c_str());
    return 1;
  }

  runtime::app_shell shell{name, args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::engine, "EV_CP_E");
                           }};
  transport::options opts;
  opts.sender_name = name;
  transport::transport net{opts};
  engine::engine_links links;
  links.net = &net;
  links.listen_port = *listen;
  links.central_address = args->positional[0] + ":" + args->positional[1];
  links.monitor_router = net.add_router(runtime::tcp_bind_endpoint(*listen));
  links.central = net.add_dealer(runtime::tcp_endpoint(args->positional[0], *central_port), name);
  auto core = engine::spawn_engine(shell.system(), links, std::move(*db), shell.view());
  return shell.run(core, net);
}

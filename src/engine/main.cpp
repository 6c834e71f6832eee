// EV_CP_E: wiring only. See engine_actor.hpp for the behaviour.

#include "engine_actor.hpp"

#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/trust.hpp"
#include "evnet/security/key_ring.hpp"
#include "evnet/text.hpp"
#include "evnet/ui/panels.hpp"

#include <cstdio>

namespace {

constexpr const char* usage =
    "usage: EV_CP_E <central_host> <central_port> --cp ID [--listen PORT] [--bind HOST] [--store FILE]\n"
    "               [--keys DIR] [--insecure] [--headless] [--log FILE]\n"
    "\n"
    "  <central_host> <central_port>  where EV_Central listens (a name, an IPv4 or an\n"
    "                  IPv6 address)\n"
    "  --cp ID         the CP this Engine is: it uses that CP's key pair and admits\n"
    "                  only that CP's Monitor (required unless --insecure)\n"
    "  --listen PORT   where this Engine's Monitor connects (default 6000)\n"
    "  --bind HOST     the address --listen binds (default *: every interface,\n"
    "                  IPv4 and IPv6)\n"
    "  --store FILE    local store of unacknowledged charges (default var/engine-<PORT>.db)\n"
    "  --headless      no console: JSON events on stdout, commands on stdin\n"
    "                  (plug, unplug, fault, repair, quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/engine-<PORT>.log otherwise)\n"
    EVNET_TRUST_USAGE;

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help", "insecure"},
                                      {"listen", "bind", "store", "log", "cp", "keys"});
  if (!args) {
    runtime::exit_usage(usage, args.err().message);
  }
  if (args->has("help")) {
    runtime::exit_usage(usage);
  }
  if (args->positional.size() != 2) {
    runtime::exit_usage(usage, "expected two arguments: <central_host> <central_port>");
  }
  auto central_host = runtime::parse_host(args->positional[0], "<central_host>");
  if (!central_host) {
    runtime::exit_usage(usage, central_host.err().message);
  }
  auto bind = runtime::parse_host(args->get("bind").value_or("*"), "--bind");
  if (!bind) {
    runtime::exit_usage(usage, bind.err().message);
  }
  auto central_port = runtime::parse_port(args->positional[1], "<central_port>");
  if (!central_port) {
    runtime::exit_usage(usage, central_port.err().message);
  }
  auto listen = runtime::parse_port(args->get("listen").value_or("6000"), "--listen");
  if (!listen) {
    runtime::exit_usage(usage, listen.err().message);
  }
  const auto trust = runtime::trust_from(*args);
  const auto cp_id = args->get("cp").value_or("");
  if (!cp_id.empty() && !is_safe_id(cp_id)) {
    runtime::exit_usage(usage, "--cp: a CP id is 1 to 64 letters, digits, '-', '_' or '.'");
  }
  if (cp_id.empty() && !trust.insecure) {
    runtime::exit_usage(usage, "--cp ID is required (the CP whose key this Engine uses), unless --insecure");
  }
  runtime::warn_if_insecure(trust, "EV_CP_E");
  std::optional<transport::curve_config> curve;
  std::string central_key;
  if (!trust.insecure) {
    // The Engine is its CP: the same pair as its Monitor, and the only key
    // it admits is that pair's public half.
    auto own = runtime::own_pair_or_exit(trust, "EV_CP_E", security::cp_key_name(cp_id));
    central_key = runtime::public_key_or_exit(trust, "EV_CP_E", security::central_key_name());
    auto ring = std::make_shared<security::key_ring>();
    ring->admit(own.public_key, security::cp_identity(cp_id));
    curve = transport::curve_config{std::move(own), std::move(ring)};
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
  opts.max_frame_size = protocol::max_request_frame_size;
  opts.curve = std::move(curve);
  transport::transport net{opts};
  engine::engine_links links;
  links.net = &net;
  links.listen_port = *listen;
  links.central_address = runtime::host_port(*central_host, *central_port);
  links.monitor_router = net.add_router(runtime::tcp_endpoint(*bind, *listen));
  links.central = net.add_dealer(runtime::tcp_endpoint(*central_host, *central_port), name, central_key);
  links.cp_id = cp_id;
  auto core = engine::spawn_engine(shell.system(), links, std::move(*db), shell.view());
  return shell.run(core, net);
}

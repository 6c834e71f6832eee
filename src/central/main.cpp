// EV_Central: wiring only. See central_actor.hpp for the behaviour.

#include "central_actor.hpp"

#include "evnet/domain/central_machine.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/trust.hpp"
#include "evnet/security/key_ring.hpp"
#include "evnet/store/audit_log.hpp"
#include "evnet/ui/panels.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

namespace {

constexpr const char* usage =
    "usage: EV_Central <port> [--bind HOST] [--pub-port PORT] [--config FILE] [--db FILE] [--keys DIR]\n"
    "                  [--insecure] [--headless] [--log FILE]\n"
    "       EV_Central --audit [--db FILE] [--since TIME]\n"
    "\n"
    "  <port>          requests from Monitors, Engines and Drivers (ROUTER)\n"
    "  --pub-port PORT the CP stream (PUB; default <port>+1). Clients learn it from\n"
    "                  Central's snapshot\n"
    "  --bind HOST     the address both ports bind (default *: every interface, IPv4\n"
    "                  and IPv6); a name, an IPv4 or an IPv6 address\n"
    "  --config FILE   registry seed (default config/db.json); only CPs and drivers\n"
    "                  the store does not know yet are added\n"
    "  --db FILE       SQLite store (default var/central.db)\n"
    "  --headless      no panel: JSON events on stdout, commands on stdin\n"
    "                  (list, stop <CP|all>, resume <CP|all>, add <CP> <price> <location>,\n"
    "                  revoke <CP|driver>, quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/central.log otherwise)\n"
    "  --audit         print the audit trail as JSON lines and exit\n"
    "  --since TIME    with --audit: entries from TIME on (Unix seconds, 2026-11-27 or\n"
    "                  2026-11-27T13:05:00Z)\n"
    EVNET_TRUST_USAGE;

int fail(const std::string& text) {
  std::fprintf(stderr, "EV_Central: %s\n", text.c_str());
  return 1;
}

// EV_Central --audit: the audit trail, read-only, then exit.
int print_audit(const evnet::runtime::arguments& args) {
  using namespace evnet;
  const auto since_ms = store::audit_since(args.positional.size(), args.get("since"));
  if (!since_ms) {
    runtime::exit_usage(usage, since_ms.err().message);
  }
  return store::print_audit(args.get("db").value_or("var/central.db"), *since_ms, stdout);
}

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help", "insecure", "audit"},
                                      {"config", "db", "log", "keys", "since", "bind", "pub-port"});
  if (!args) {
    runtime::exit_usage(usage, args.err().message);
  }
  if (args->has("help")) {
    runtime::exit_usage(usage);
  }
  if (args->has("audit")) {
    return print_audit(*args);
  }
  if (args->has("since")) {
    runtime::exit_usage(usage, "--since goes with --audit");
  }
  if (args->positional.size() != 1) {
    runtime::exit_usage(usage, "expected exactly one argument: <port>");
  }
  auto port = runtime::parse_port(args->positional[0], "<port>");
  if (!port) {
    runtime::exit_usage(usage, port.err().message);
  }
  auto bind = runtime::parse_host(args->get("bind").value_or("*"), "--bind");
  if (!bind) {
    runtime::exit_usage(usage, bind.err().message);
  }
  std::uint16_t pub_port = 0;
  if (auto given = args->get("pub-port")) {
    auto parsed = runtime::parse_port(*given, "--pub-port");
    if (!parsed) {
      runtime::exit_usage(usage, parsed.err().message);
    }
    if (*parsed == *port) {
      runtime::exit_usage(usage, "--pub-port must differ from <port> (" + std::to_string(*port) + ")");
    }
    pub_port = *parsed;
  } else if (*port == 65535) {
    runtime::exit_usage(usage, "<port> must leave room for the stream port <port>+1, or give --pub-port");
  } else {
    pub_port = static_cast<std::uint16_t>(*port + 1);
  }
  const auto trust = runtime::trust_from(*args);
  runtime::warn_if_insecure(trust, "EV_Central");
  std::optional<security::key_pair> own;
  if (!trust.insecure) {
    own = runtime::own_pair_or_exit(trust, "EV_Central", security::central_key_name());
  }
  const auto config_path = args->get("config").value_or("config/db.json");
  const auto db_path = args->get("db").value_or("var/central.db");

  runtime::ensure_parent_dir(db_path);
  auto db = store::central_store::open(db_path);
  if (!db) {
    return fail(db.err().message);
  }
  if (args->has("config") || std::filesystem::exists(config_path)) {
    auto seed = domain::load_seed_file(config_path);
    if (!seed) {
      return fail(seed.err().message);
    }
    if (auto added = (*db)->seed(*seed); !added) {
      return fail(added.err().message);
    }
  }
  auto model = domain::load_network(**db);
  if (!model) {
    return fail(model.err().message);
  }

  // Who may connect: every registered, unrevoked key in the store (kept in
  // step with it while running: see central_actor).
  auto ring = std::make_shared<security::key_ring>();
  if (own) {
    auto keys = (*db)->admitted_keys();
    if (!keys) {
      return fail(keys.err().message);
    }
    ring->replace(std::move(*keys));
  }

  runtime::app_shell shell{"central", args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::central, "EV_Central");
                           }};
  transport::options opts;
  opts.sender_name = "central";
  // Nothing a peer sends Central needs more (a snapshot is only sent).
  opts.max_frame_size = protocol::max_request_frame_size;
  // CURVE handshakes and encryption of thousands of peers run on ZeroMQ's
  // I/O threads: two, on a machine where the actor and the transport
  // thread take the rest.
  opts.io_threads = 2;
  if (own) {
    opts.curve = transport::curve_config{*own, ring};
  }
  transport::transport net{opts};
  runtime::raise_open_file_limit();  // two connections per CP
  central::central_links links;
  links.net = &net;
  links.ring = own ? ring : nullptr;
  links.router = net.add_router(runtime::tcp_endpoint(*bind, *port));
  links.publisher = net.add_publisher(runtime::tcp_endpoint(*bind, pub_port));
  central::central_settings settings{*port, db_path};
  settings.pub_port = pub_port;
  settings.bind = *bind;
  auto core = central::spawn_central(shell.system(), links, std::move(settings), std::move(*db), std::move(*model),
                                     shell.view());
  return shell.run(core, net);
}

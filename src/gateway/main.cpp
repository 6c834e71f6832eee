// EV_OCPP: wiring only. See gateway_actor.hpp for the behaviour and
// docs/OCPP.md for what each OCPP message means.

#include "gateway_actor.hpp"

#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/trust.hpp"
#include "evnet/store/audit_log.hpp"
#include "evnet/ui/panels.hpp"

#include <cstdio>

namespace {

constexpr const char* usage =
    "usage: EV_OCPP <central_host> <central_port> [--listen PORT] [--bind HOST] [--db FILE]\n"
    "               [--tls-cert FILE --tls-key FILE] [--heartbeat S] [--keys DIR] [--insecure]\n"
    "               [--headless] [--log FILE]\n"
    "       EV_OCPP --audit [--db FILE] [--since TIME]\n"
    "\n"
    "  An OCPP 1.6-J gateway: real charge points (and OCPP simulators) connect to\n"
    "  ws://HOST:PORT/ocpp/<chargePointId> (subprotocol ocpp1.6, HTTP Basic: the id and\n"
    "  its OCPP password, see tools/evnet keys ocpp-password) and appear at EV_Central\n"
    "  like any other CP, with their own CURVE key (var/keys/cp-<ID>.key).\n"
    "\n"
    "  <central_host> <central_port>  where EV_Central listens\n"
    "  --listen PORT   the WebSocket port (default 9000)\n"
    "  --bind HOST     the address it binds, an IP address (default 0.0.0.0)\n"
    "  --tls-cert FILE, --tls-key FILE  PEM certificate chain and key: wss:// (OCPP\n"
    "                  security profile 2); without them ws:// (profile 1)\n"
    "  --db FILE       the gateway's store: charges until Central acknowledges them,\n"
    "                  transactionIds (default var/ocpp-gateway.db)\n"
    "  --heartbeat S   the heartbeat interval given to charge points (default 60)\n"
    "  --headless      no screen: JSON events on stdout, commands on stdin (list, quit)\n"
    "  --log FILE      log file (default: stderr when headless, var/ocpp-gateway.log otherwise)\n"
    "  --audit         print the WebSocket upgrades the gateway refused, as JSON lines, and exit\n"
    "  --since TIME    with --audit: entries from TIME on (Unix seconds, 2026-11-27 or\n"
    "                  2026-11-27T13:05:00Z, UTC)\n"
    EVNET_TRUST_USAGE;

int print_audit(const evnet::runtime::arguments& args) {
  using namespace evnet;
  const auto since_ms = store::audit_since(args.positional.size(), args.get("since"));
  if (!since_ms) {
    runtime::exit_usage(usage, since_ms.err().message);
  }
  return store::print_refusals(args.get("db").value_or("var/ocpp-gateway.db"), *since_ms, stdout);
}

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help", "insecure", "audit"},
                                      {"listen", "bind", "db", "tls-cert", "tls-key", "heartbeat", "log", "keys", "since"});
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
  if (args->positional.size() != 2) {
    runtime::exit_usage(usage, "expected two arguments: <central_host> <central_port>");
  }
  auto central_host = runtime::parse_host(args->positional[0], "<central_host>");
  if (!central_host) {
    runtime::exit_usage(usage, central_host.err().message);
  }
  auto central_port = runtime::parse_port(args->positional[1], "<central_port>");
  if (!central_port) {
    runtime::exit_usage(usage, central_port.err().message);
  }
  auto listen = runtime::parse_port(args->get("listen").value_or("9000"), "--listen");
  if (!listen) {
    runtime::exit_usage(usage, listen.err().message);
  }
  const auto heartbeat = runtime::parse_seconds(args->get("heartbeat").value_or("60"), "--heartbeat");
  if (!heartbeat || *heartbeat < 1 || *heartbeat > 86400) {
    runtime::exit_usage(usage, "--heartbeat: a number of seconds from 1 to 86400");
  }
  const auto tls_cert = args->get("tls-cert").value_or("");
  const auto tls_key = args->get("tls-key").value_or("");
  if (tls_cert.empty() != tls_key.empty()) {
    runtime::exit_usage(usage, "--tls-cert and --tls-key go together");
  }
  const auto trust = runtime::trust_from(*args);
  runtime::warn_if_insecure(trust, "EV_OCPP");
  if (!trust.insecure) {
    // Central's public key must be there before any charge point comes.
    (void)runtime::public_key_or_exit(trust, "EV_OCPP", security::central_key_name());
  }
  const auto db_path = args->get("db").value_or("var/ocpp-gateway.db");
  runtime::ensure_parent_dir(db_path);
  auto db = store::ocpp_store::open(db_path);
  if (!db) {
    std::fprintf(stderr, "EV_OCPP: %s\n", db.err().message.c_str());
    return 1;
  }

  ocpp::ws_options ws_opts;
  ws_opts.host = args->get("bind").value_or("0.0.0.0");
  ws_opts.port = *listen;
  ws_opts.tls_cert = tls_cert;
  ws_opts.tls_key = tls_key;
  ocpp::ws_server ws{ws_opts};

  runtime::app_shell shell{"ocpp-gateway", args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::gateway, "EV_OCPP");
                           }};
  gateway::gateway_settings settings;
  settings.central_host = *central_host;
  settings.central_port = *central_port;
  settings.insecure = trust.insecure;
  settings.keys_dir = trust.keys_dir;
  settings.heartbeat_interval_s = static_cast<std::int64_t>(*heartbeat);
  // One transport for every charge point's links, each under the charge
  // point's own key: the gateway has no key of its own.
  transport::options opts;
  opts.sender_name = "ocpp-gateway";
  if (!trust.insecure) {
    opts.curve = transport::curve_config{{}, nullptr};
  }
  transport::transport net{opts};
  runtime::raise_open_file_limit();  // a few descriptors per connected charge point
  auto core = gateway::spawn_gateway(shell.system(), settings, ws, net, std::move(*db), shell.view());
  auto bridge = gateway::make_ws_bridge(core);
  const int rc = shell.run(core, net, [&] { return ws.start(*bridge); });
  ws.stop();
  return rc;
}

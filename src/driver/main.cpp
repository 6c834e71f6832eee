// EV_Driver: wiring only. See driver_actor.hpp for the behaviour.

#include "driver_actor.hpp"

#include "evnet/domain/registry.hpp"
#include "evnet/runtime/app_shell.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/trust.hpp"
#include "evnet/text.hpp"
#include "evnet/ui/panels.hpp"

namespace {

constexpr const char* usage =
    "usage: EV_Driver <central_host> <central_port> <driver_id> [--file FILE] [--duration SECONDS]\n"
    "                 [--keys DIR] [--insecure] [--headless] [--log FILE]\n"
    "\n"
    "  <central_host> <central_port>  where EV_Central listens (a name, an IPv4 or an\n"
    "                    IPv6 address); its stream's port is learned from Central\n"
    "  <driver_id>       this driver, as registered in Central (e.g. D1)\n"
    "  --file FILE       run the services in FILE: one 'CP_ID [SECONDS]' per line,\n"
    "                    4 s between services\n"
    "  --duration SECONDS  duration of charges that name none (default: until\n"
    "                    unplugged at the CP)\n"
    "  --headless        no panel: JSON events on stdout, commands on stdin\n"
    "                    (list, charge <CP> [SECONDS], file <PATH>, quit)\n"
    "  --log FILE        log file (default: stderr when headless, var/driver-<id>.log otherwise)\n"
    EVNET_TRUST_USAGE;

} // namespace

int main(int argc, char** argv) {
  using namespace evnet;
  auto args = runtime::parse_arguments(argc, argv, {"headless", "help", "insecure"},
                                      {"file", "duration", "log", "keys"});
  if (!args) {
    runtime::exit_usage(usage, args.err().message);
  }
  if (args->has("help")) {
    runtime::exit_usage(usage);
  }
  const auto& pos = args->positional;
  if (pos.size() != 3) {
    runtime::exit_usage(usage, "expected three arguments: <central_host> <central_port> <driver_id>");
  }
  auto host = runtime::parse_host(pos[0], "<central_host>");
  if (!host) {
    runtime::exit_usage(usage, host.err().message);
  }
  auto port = runtime::parse_port(pos[1], "<central_port>");
  if (!port) {
    runtime::exit_usage(usage, port.err().message);
  }
  if (!is_safe_id(pos[2])) {
    runtime::exit_usage(usage, "<driver_id> must be 1 to 64 letters, digits, '-', '_' or '.'");
  }
  driver::driver_settings settings;
  settings.driver_id = pos[2];
  settings.file = args->get("file").value_or("");
  if (auto d = args->get("duration")) {
    auto seconds = runtime::parse_seconds(*d, "--duration");
    if (!seconds) {
      runtime::exit_usage(usage, seconds.err().message);
    }
    settings.default_duration_s = *seconds;
  }
  const std::string name = "driver-" + settings.driver_id;
  const auto trust = runtime::trust_from(*args);
  runtime::warn_if_insecure(trust, "EV_Driver");
  std::optional<transport::curve_config> curve;
  std::string central_key;
  if (!trust.insecure) {
    curve = transport::curve_config{
        runtime::own_pair_or_exit(trust, "EV_Driver", security::driver_key_name(settings.driver_id)), nullptr};
    central_key = runtime::public_key_or_exit(trust, "EV_Driver", security::central_key_name());
  }

  runtime::app_shell shell{name, args->has("headless"), args->get("log").value_or(""),
                           [](caf::actor_system& sys) {
                             return ui::spawn_panel(sys, ui::panel_kind::driver, "EV_Driver");
                           }};
  transport::options opts;
  opts.sender_name = "driver:" + settings.driver_id;
  opts.curve = std::move(curve);
  transport::transport net{opts};
  driver::driver_links links;
  links.net = &net;
  links.central_host = *host;
  links.central_port = *port;
  links.central_address = runtime::host_port(*host, *port);
  links.central = net.add_dealer(runtime::tcp_endpoint(*host, *port), "driver:" + settings.driver_id,
                                 central_key);
  // Not connected yet: Central's snapshot names the stream's port, and the
  // driver subscribes then (see domain::cp_table).
  links.stream = net.add_subscriber({}, "cp", central_key);
  auto core = driver::spawn_driver(shell.system(), links, std::move(settings), shell.view());
  return shell.run(core, net);
}

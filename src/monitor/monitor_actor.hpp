#pragma once

// EV_CP_M's core actor: authenticates its CP with Central and passes the
// configuration to its Engine, health-checks the Engine every second and
// reports the result to Central, relays Central's authorisations and
// STOP/RESUME to the Engine, and starts charges at the CP itself.

#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <string>

namespace evnet::monitor {

struct monitor_links {
  transport::transport* net = nullptr;
  transport::link_id engine = 0;   // DEALER to the Engine
  transport::link_id central = 0;  // DEALER to Central
  std::string engine_address;      // "host:port", for messages
  std::string central_address;
};

caf::actor spawn_monitor(caf::actor_system& sys, monitor_links links, std::string cp_id, caf::actor view);

} // namespace evnet::monitor

#pragma once

// EV_CP_M's core actor: wiring only. It hands every input (Central's and
// the Engine's messages, link events, console lines, the 1 s tick) with the
// time to domain::monitor_machine, which decides everything (authenticating
// the CP, configuring and health-checking the Engine, the relays of the
// authorisation fence and of STOP/RESUME, the local charge), and sends what
// the machine produced to the two links and the view.

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

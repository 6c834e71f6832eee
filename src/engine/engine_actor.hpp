#pragma once

// EV_CP_E's core actor: drives the pure domain::charger with wall-clock
// ticks, answers its Monitor (health checks, authorisations, STOP/RESUME),
// reports telemetry and finished charges to Central, and keeps every
// finished charge in its local store until Central acknowledges it.

#include "evnet/store/engine_store.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace evnet::engine {

struct engine_links {
  transport::transport* net = nullptr;
  transport::link_id monitor_router = 0;  // the Monitor connects here (--listen)
  transport::link_id central = 0;         // DEALER to Central
  std::string central_address;            // "host:port", for messages
  std::uint16_t listen_port = 0;
};

caf::actor spawn_engine(caf::actor_system& sys, engine_links links, std::unique_ptr<store::engine_store> db,
                        caf::actor view);

} // namespace evnet::engine

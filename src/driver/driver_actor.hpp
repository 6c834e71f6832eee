#pragma once

// EV_Driver's core actor: wiring between the transport, the console, the
// view and domain::driver_runner, which holds every rule (the CP table by
// the Clone pattern, charge requests with idempotent retries, the running
// charge, ticket acknowledgement and deduplication, batch files one service
// at a time). See include/evnet/domain/driver_runner.hpp.

#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <string>

namespace evnet::driver {

struct driver_links {
  transport::transport* net = nullptr;
  transport::link_id central = 0;  // DEALER: requests and the driver's own messages
  transport::link_id stream = 0;   // SUB: the CP table stream, subscribed once Central names its port
  std::string central_host;        // where the stream is too (a name, an IPv4 or IPv6 address)
  std::uint16_t central_port = 0;
  std::string central_address;     // "host:port", for messages
};

struct driver_settings {
  std::string driver_id;
  std::int64_t default_duration_s = 0;  // 0: until unplugged at the CP
  std::string file;                     // run at start when not empty
};

caf::actor spawn_driver(caf::actor_system& sys, driver_links links, driver_settings settings, caf::actor view);

} // namespace evnet::driver

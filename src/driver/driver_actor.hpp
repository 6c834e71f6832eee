#pragma once

// EV_Driver's core actor: keeps a live copy of the CP table (Clone pattern:
// snapshot, then the sequenced stream), requests charges with idempotent
// retries, follows the running charge, acknowledges tickets (deduplicated
// on CP + charge id) and runs batch files one service at a time.

#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <string>

namespace evnet::driver {

struct driver_links {
  transport::transport* net = nullptr;
  transport::link_id central = 0;  // DEALER: requests and the driver's own messages
  transport::link_id stream = 0;   // SUB: the CP table stream
  std::string central_address;     // "host:port", for messages
};

struct driver_settings {
  std::string driver_id;
  std::int64_t default_duration_s = 0;  // 0: until unplugged at the CP
  std::string file;                     // run at start when not empty
};

caf::actor spawn_driver(caf::actor_system& sys, driver_links links, driver_settings settings, caf::actor view);

} // namespace evnet::driver

#pragma once

// EV_CP_E's core actor: wiring around domain::engine_machine (which holds
// every rule: the CP side of the authorisation fence, supply, telemetry,
// records kept until Central acknowledges them, the Monitor watchdog). The
// actor decodes, hands the machine each input with the time, and sends what
// it produced to the Monitor (ROUTER), to Central (DEALER) and to the view.

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
  std::string cp_id;  // --cp: the only CP this Engine may be (empty with --insecure: learnt from the Monitor)
};

// `db` is the machine's ledger; the actor owns it.
caf::actor spawn_engine(caf::actor_system& sys, engine_links links, std::unique_ptr<store::engine_store> db,
                        caf::actor view);

} // namespace evnet::engine

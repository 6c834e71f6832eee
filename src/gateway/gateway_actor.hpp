#pragma once

// EV_OCPP's core actor: wiring only. For every OCPP charge point that
// connects it keeps a session: the charge point's Monitor
// (domain::monitor_machine, as in EV_CP_M) and Engine (domain::ocpp_engine)
// talking to each other in process, speaking to Central over their own two
// CURVE links with the charge point's key, and the OCPP-J conversation
// (ocpp::station) on its WebSocket. Every session's links are on the
// gateway's one transport (one thread, one ZeroMQ context), opened when
// the upgrade arrives and closed with the session: a connected charge point
// costs two TCP connections and a few descriptors, not a thread.
//
// A WebSocket upgrade is admitted only once Central accepted the charge
// point's cp_auth with the password it presented (registered, unrevoked,
// right password); a refusal is a 401, audited by Central. A lost
// WebSocket ends the session's links (Central shows the CP DISCONNECTED);
// the charge point's Engine state and ledger stay for its return.
//
// Thread-safety: an actor. The WebSocket server's I/O thread and every
// session's transport thread reach it only through messages.

#include "evnet/ocpp/ws_server.hpp"
#include "evnet/store/ocpp_store.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace evnet::gateway {

struct gateway_settings {
  std::string central_host;
  std::uint16_t central_port = 0;
  bool insecure = false;
  std::string keys_dir;
  std::int64_t heartbeat_interval_s = 60;
};

// Forwards the WebSocket server's events to the gateway actor.
std::unique_ptr<ocpp::ws_sink> make_ws_bridge(caf::actor gateway);

// `net` must be started before `ws` (app_shell::run's `started` hook):
// an upgrade opens links on it.
caf::actor spawn_gateway(caf::actor_system& sys, gateway_settings settings, ocpp::ws_server& ws,
                         transport::transport& net, std::unique_ptr<store::ocpp_store> store, caf::actor view);

} // namespace evnet::gateway

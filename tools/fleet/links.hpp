#pragma once

// The fleet's sockets. Each simulated connection is one ZeroMQ socket in
// the worker's context: a DEALER for every Monitor, Engine and driver, a
// SUB for every driver's stream. None is polled with zmq::poll: the worker
// puts each socket's ZMQ_FD (its mailbox, a file descriptor) into one epoll
// set, edge-triggered, and after any wake-up or send reads ZMQ_EVENTS and
// drains until POLLIN is gone (libzmq's documented contract for ZMQ_FD).
// One wake-up then costs the sockets that changed, not all 10,000.
//
// A DEALER socket is made like the transport makes its own: linger 0, a
// frame cap, libzmq's own reconnection off (one socket = one TCP connection
// = one server session; the liveness rules reconnect with a fresh socket
// and a fresh routing id), CURVE client with the CP's or driver's own pair
// when keys are given. Its TCP connection closing shows as ZMQ_EVENTS
// losing POLLOUT (no pipe left to send on), which the worker takes as the
// socket monitor's DISCONNECTED: no extra monitor sockets (each would cost
// two more file descriptors per connection). ZMQ_IPV6 is on only for an
// address that is not an IPv4 literal: with it on, libzmq 4.3.4 keeps the
// dead pipe of a broken connection (see links.cpp), and such a link notices
// a killed Central by its silence (3 s) instead.
//
// Thread-safety: none; everything here belongs to the worker's thread.

#include "liveness.hpp"

#include "evnet/security/keys.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace evnet::fleet {

enum class link_role : std::uint8_t { monitor, engine, driver, stream };

struct link {
  link_role role = link_role::monitor;
  int owner = 0;                         // local CP or driver index
  std::unique_ptr<zmq::socket_t> socket;
  int fd = -1;                           // ZMQ_FD while the socket exists
  std::uint32_t generation = 0;          // bumped per socket: stale epoll events are dropped
  liveness live{0, 0};                   // DEALERs
  std::uint64_t correlation = 0;
  std::uint32_t stream_port = 0;         // SUB: where it is connected
  int blast_left = 0;                    // ingest blast: frames still to send
  bool marker_pending = false;           // ingest blast: marker sent or due, not answered
  bool waiting_slot = false;             // due to open, waiting for a connection slot
  // While `connecting` only: the socket monitor's PAIR, which says how far
  // the attempt got (accepted, handshake done). Dropped when the link comes
  // up, so it costs two descriptors per attempt in flight, not per link.
  std::unique_ptr<zmq::socket_t> monitor;
  int monitor_fd = -1;

  bool dealer() const { return role != link_role::stream; }
  bool blasting() const { return blast_left > 0 || marker_pending; }
};

struct socket_settings {
  const security::key_pair* own = nullptr;  // nullptr: plaintext
  std::string server_key;                   // Central's public key (Z85)
  std::string routing_id;                   // DEALER
  // DEALER: where to publish its TCP accept and handshake events
  // (zmq_socket_monitor, attached before the connect so none is missed);
  // empty: none.
  std::string monitor_endpoint;
};

// "tcp://host:port", IPv6 literals in brackets.
std::string tcp_endpoint(const std::string& host, std::uint32_t port);

// The events a connecting DEALER's monitor watches.
inline constexpr int attempt_events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;

// A DEALER connected to `endpoint`, or the ZeroMQ error (EMFILE when the
// process is out of file descriptors).
std::unique_ptr<zmq::socket_t> open_dealer(zmq::context_t& ctx, const std::string& endpoint, const socket_settings& s,
                                           int& error_out);
// A SUB on topic "cp" connected to `endpoint` (libzmq reconnects it by
// itself, 1 s doubling to 32 s, like the transport's SUB links).
std::unique_ptr<zmq::socket_t> open_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                                               const socket_settings& s, int& error_out);

// zmq_send without exceptions: 0, or the errno (EAGAIN: full or no pipe).
int send_frame(zmq::socket_t& s, const void* data, std::size_t size);
int socket_events(zmq::socket_t& s);  // ZMQ_EVENTS, 0 on error

} // namespace evnet::fleet

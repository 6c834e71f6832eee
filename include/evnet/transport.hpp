#pragma once

// The transport: one thread per process that owns the ZeroMQ context and
// every socket. Nothing else in a process touches a socket.
//
// Outbound: any thread calls send()/publish(); the frame goes into a locked
// queue and an eventfd wakes the transport thread, which polls that fd
// together with all sockets (zmq::poll over pollitem_t; Debian's cppzmq has
// no zmq::poller_t).
//
// Inbound: frames are decoded on the transport thread; valid messages go to
// the sink, invalid ones are answered with protocol::error_reply where the
// socket allows a reply (ROUTER) and reported to the sink once as a
// `rejected` event. The process keeps serving everyone else.
//
// Liveness follows the ZeroMQ guide's Paranoid Pirate pattern:
//  - a DEALER link sends a heartbeat every `heartbeat_interval` and counts
//    any inbound frame as a sign of life; after `liveness` silent intervals it
//    reports `disconnected`, closes the socket and reconnects with
//    exponential backoff (reconnect_min doubling to reconnect_max, with
//    jitter) under a fresh identity. The first frame after that reports
//    `connected`.
//  - a ROUTER link answers heartbeats, remembers when each peer was last
//    heard, and reports `peer_gone` after `peer_timeout` of silence.
// Heartbeats never reach the sink.
//
// Thread-safety: send(), publish() and stop() are safe from any thread.
// add_*() and start() are called once, from one thread, before traffic.
// Sink callbacks run on the transport thread and must not block.

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace evnet::transport {

using link_id = std::uint32_t;

struct options {
  std::chrono::milliseconds heartbeat_interval{1000};
  int liveness = 3;                                  // DEALER: silent intervals before reconnecting
  std::chrono::milliseconds peer_timeout{2500};      // ROUTER: silence before peer_gone
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{32000};
  std::size_t max_frame_size = protocol::max_frame_size;
  int send_hwm = 10000;
  std::string sender_name;                           // envelope sender for heartbeats/error replies
};

// A decoded inbound message and where it came from.
struct inbound {
  link_id link = 0;
  std::string peer;  // ROUTER: the peer's routing id; DEALER/SUB: empty
  protocol::message msg;
};

enum class event_kind {
  connected,     // DEALER: first frame from the server after (re)connecting
  disconnected,  // DEALER: liveness expired; reconnecting
  peer_gone,     // ROUTER: peer silent for peer_timeout
  send_failed,   // ROUTER: peer unknown or gone (router_mandatory), or queue full
  rejected,      // a frame failed decode(); detail holds the error
};

struct link_event {
  link_id link = 0;
  event_kind kind = event_kind::connected;
  std::string peer;
  std::string detail;
};

std::string_view to_string(event_kind k);

// Receives everything the transport has to say. Called on the transport thread.
class sink {
public:
  virtual ~sink() = default;
  virtual void on_message(inbound in) = 0;
  virtual void on_event(link_event ev) = 0;
};

class transport {
public:
  explicit transport(options opts = {});
  ~transport();  // stops the thread and closes every socket (linger 0)

  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  // Declare links before start(). Endpoints are ZeroMQ addresses such as
  // "tcp://*:7000" or "tcp://central.example:7000".
  link_id add_router(std::string bind_endpoint);
  link_id add_dealer(std::string connect_endpoint, std::string identity_prefix);
  link_id add_publisher(std::string bind_endpoint);
  link_id add_subscriber(std::string connect_endpoint, std::string topic);

  // Starts the thread, binds and connects. A bind that fails (port taken,
  // bad address) is returned as an error with a one-line message, e.g.
  // "cannot listen on tcp://*:7000: Address already in use".
  status start(sink& s);

  // Queue a message. On a ROUTER, `peer` names the destination; on a DEALER
  // it is ignored. Returns false only after stop().
  bool send(link_id link, const std::string& peer, const protocol::message& m);
  bool send(link_id link, const protocol::message& m) { return send(link, std::string{}, m); }
  bool publish(link_id link, const std::string& topic, const protocol::message& m);

  // Tear down and rebuild a DEALER link now (e.g. Central told us to
  // re-authenticate and the app wants a clean session). Optional.
  void reconnect(link_id link);

  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::transport

#pragma once

// The OCPP-J WebSocket server: one thread per process that owns a Boost.Asio
// io_context, the listening socket and every charge point connection.
// Nothing else in the process touches those sockets.
//
// Outbound: any thread calls send_text()/close()/admit(); the call is posted
// to the I/O thread, which does the work. Beast allows one async_write at a
// time per connection, so texts wait in a per-connection queue; a queue over
// max_queued_bytes means the peer does not read: its TCP connection is cut
// (a close frame would wait behind the very writes that do not drain).
//
// Inbound, per connection, in this order:
//  1. TLS handshake (wss:// when tls_cert/tls_key are set), then one HTTP
//     request, both within handshake_timeout.
//  2. The request must be GET /ocpp/<chargePointId> (404 otherwise: the id is
//     percent-decoded and must be 1..48 characters of OCPP's
//     identifierString set [A-Za-z0-9*-_=:+|@.]), a WebSocket 13 upgrade
//     with a key (400) that offers the subprotocol token "ocpp1.6" (400 otherwise: the answer
//     never picks another one). HTTP Basic credentials are decoded when
//     present; missing or malformed ones reach the sink as empty strings and
//     the application decides.
//  3. The connection gets its conn_id and the sink its upgrade_request; the
//     server then waits for admit(conn_id, ok) (the gateway asks Central,
//     asynchronously). ok: 101 with "Sec-WebSocket-Protocol: ocpp1.6", then
//     on_open. Not ok: 401 with WWW-Authenticate. No answer within
//     admit_timeout: 503.
//  4. Open: text messages go to on_text; a binary message closes with 1003,
//     one over max_message_bytes with 1009. The server pings every
//     ping_interval and cuts a connection whose peer missed 3 pongs in a
//     row (any inbound frame counts as a pong).
//
// What the sink hears about one connection: every upgrade_request is
// followed by exactly one on_open or one on_refused (same conn_id), and
// every on_open by exactly one on_closed. Connections refused before they
// have an id (bad path, no subprotocol, too many connections, failed TLS
// handshake) reach on_refused with conn_id 0. A second connection for a
// charge point id that is already connected is reported like any other:
// the application decides (it closes the old one).
//
// After stop() (or the destructor) the sink hears nothing more; open
// connections are dropped without on_closed.
//
// Thread-safety: send_text(), close(), admit() and bound_port() are safe from
// any thread, sink callbacks included; stop() from any thread but the I/O
// thread (it joins it: never from a sink callback). start() is called once,
// from one thread. Sink callbacks run on the I/O thread and must be cheap and
// non-blocking (the gateway forwards them to an actor).

#include "evnet/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace evnet::ocpp {

// Numbers connections from 1 in the order their upgrade request was read;
// never reused within one server.
using conn_id = std::uint64_t;

struct ws_options {
  // An IP address literal (IPv4 or IPv6); "0.0.0.0" or "::" for every
  // interface.
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;  // 0: any free port (see bound_port())
  // Both set: wss:// with this PEM certificate chain and PEM private key.
  // Both empty: plain ws://. start() refuses one without the other, and
  // files that do not load, as errc::config errors.
  std::string tls_cert;
  std::string tls_key;
  // A larger message closes the connection with 1009 (message too big).
  std::size_t max_message_bytes = std::size_t{64} * 1024;
  // Outbound bytes waiting for one connection; over it the peer is cut off.
  std::size_t max_queued_bytes = std::size_t{1024} * 1024;
  // WebSocket pings; three missed pongs in a row cut the connection.
  std::chrono::milliseconds ping_interval{30000};
  // TLS handshake plus the HTTP upgrade request; also the WebSocket closing
  // handshake.
  std::chrono::milliseconds handshake_timeout{10000};
  // How long the server waits for admit() before answering 503.
  std::chrono::milliseconds admit_timeout{10000};
  // Sockets at once, from accept to close, in any state; the next one is
  // closed at once (and reported as refused).
  std::size_t max_connections = 10000;
};

// A WebSocket upgrade waiting for admit(conn, ok).
struct upgrade_request {
  conn_id conn = 0;
  std::string charge_point_id;  // percent-decoded, validated (see above)
  std::string user;             // HTTP Basic; empty when missing or malformed
  std::string password;         // HTTP Basic; empty when missing or malformed
  std::string remote;           // the peer's IP address
};

// A connection the server did not open.
struct ws_refusal {
  conn_id conn = 0;      // 0 when refused before an upgrade_request
  std::string remote;    // the peer's IP address (may be empty)
  std::string path;      // request target as sent, at most 256 bytes; peer
                         // bytes: escape them before display; empty when
                         // no request was read
  int http_status = 0;   // the answer (400, 401, 404, 503); 0: none sent
  std::string reason;    // written by the server
};

// Receives everything the server has to say. Called on the I/O thread.
class ws_sink {
public:
  virtual ~ws_sink() = default;
  virtual void on_upgrade_request(upgrade_request req) = 0;
  virtual void on_open(conn_id conn) = 0;
  virtual void on_text(conn_id conn, std::string text) = 0;
  // Why the connection ended, written by the server ("closed by peer",
  // "message too big", "ping timeout", ...).
  virtual void on_closed(conn_id conn, std::string reason) = 0;
  virtual void on_refused(ws_refusal refusal) = 0;
};

class ws_server {
public:
  explicit ws_server(ws_options opts = {});
  ~ws_server();  // stop()

  ws_server(const ws_server&) = delete;
  ws_server& operator=(const ws_server&) = delete;

  // Loads TLS material, binds, listens and starts the I/O thread. Errors
  // come back as values: errc::config (TLS files, host), errc::bind_failed
  // ("cannot listen on 0.0.0.0:9000: Address already in use"),
  // errc::invalid_state (called twice).
  status start(ws_sink& s);

  // The port actually bound (useful with port 0); 0 before start().
  std::uint16_t bound_port() const;

  // Queue one text message for an open connection, or for one admitted
  // and about to open (written right after on_open). Texts for any other
  // connection are dropped. Returns false before start() and after stop().
  bool send_text(conn_id conn, std::string text);

  // Close an open connection with 1000 and `reason` (cut to the 123 bytes a
  // close frame can carry); on_closed follows. On a connection still waiting
  // for admit() it is admit(conn, false); on one admitted but not open yet,
  // it closes right after on_open.
  void close(conn_id conn, std::string reason);

  // The answer to on_upgrade_request. A late answer (the connection timed
  // out, or its peer left) is ignored.
  void admit(conn_id conn, bool ok);

  // Stops the I/O thread and drops every connection. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::ocpp

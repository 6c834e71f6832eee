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
// socket allows a reply (ROUTER) and reported to the sink as `rejected`
// events, at most one a second per peer. The process keeps serving everyone
// else. Everything read in one poll wake-up reaches the sink as one
// sink::on_batch() call (an actor can then commit once per batch); an event
// raised after a message was read is delivered after that message's batch.
// Heartbeats are recognised by a byte check (protocol::is_heartbeat_frame)
// without a decode and answered with a pre-encoded frame, so liveness
// traffic costs no allocation on a busy server.
//
// Addresses: every socket has ZMQ_IPV6 on, so IPv6 literals work on both
// ends ("tcp://[::1]:7000"; tcp_endpoint() spells them) and "tcp://*:P"
// binds IPv4 and IPv6 at once.
//
// Liveness follows the ZeroMQ guide's Paranoid Pirate pattern:
//  - a DEALER link sends a heartbeat every `heartbeat_interval` and counts
//    any inbound frame as a sign of life; after `liveness` silent intervals it
//    reports `disconnected`, closes the socket and reconnects with
//    exponential backoff (reconnect_min doubling to reconnect_max, with
//    jitter) under a fresh identity. The first frame after that reports
//    `connected`. A socket never reconnects by itself. When its TCP
//    connection closes (the server died or restarted: libzmq's socket
//    monitor reports ZMQ_EVENT_DISCONNECTED) the session ends at once, the
//    same way as a silence (what the server sent before is delivered first),
//    so a killed server is noticed in milliseconds; a path that dies without
//    closing falls silent and is caught by the silence limit. Either way the
//    next attempt follows the backoff: after a session that was up, the
//    first one comes after reconnect_min (with jitter). A server that starts
//    after the client is found by the next attempt.
//  - a ROUTER link answers heartbeats, remembers when each peer was last
//    heard, and reports `peer_gone` after `peer_timeout` of silence (checked
//    every peer_timeout/10, at most every 100 ms). A peer heard again after
//    `peer_gone` is a new peer to the application.
//  - a SUB link may start without an endpoint; subscribe() connects it (or
//    reconnects it, with a fresh socket) when the application learns where
//    the stream is. Liveness of a stream is the application's: the stream
//    carries its own heartbeat (protocol::stream_heartbeat).
// Heartbeats never reach the sink. The transport thread is the only reader
// of the clock; the decisions themselves are pure classes (peer_table,
// dealer_liveness) unit-tested on simulated time.
//
// Delivery on a DEALER link (what happens to application frames):
//  - A DEALER link carries application frames only while it is up: from its
//    `connected` event until the `disconnected` that ends that session. A
//    frame goes out only on the session that was up when send() was called.
//  - A frame offered while the link is not up -- before the FIRST
//    `connected` too, and while it reconnects -- is dropped, never queued,
//    and never delivered later on a new connection (the server behind it may
//    have restarted, or have forgotten us: it would refuse a frame meant for
//    the old session). Frames of a session that ends before they leave are
//    dropped the same way, along with whatever the closed socket still held.
//  - The drops of one outage are reported once, as one `send_failed` whose
//    detail says how many, just before the `connected` that ends the outage.
//    A frame the socket itself refuses while the link is up (its queue is
//    full, or its connection broke and the silence has not been noticed yet)
//    is reported at once, one `send_failed` per frame.
//  - So the caller owns every message that matters until it is answered: on
//    `connected` it says hello (authenticates) again and re-sends what is
//    still unanswered. Frames sent before `connected` are not an error to
//    avoid but a normal loss to expect.
// Heartbeats are the transport's own and flow in every state.
//
// Trust (CURVE, when options::curve is set): every link is encrypted and
// authenticated. DEALER and SUB links are CURVE clients that must be given
// their server's public key; a DEALER may bring a key pair of its own (a
// gateway speaks for each of its charge points under that CP's key),
// otherwise it uses the process's. ROUTER and PUB links are CURVE servers; a ZAP
// handler inside this thread (bound before the first server socket, so no
// handshake ever slips past it) admits exactly the keys of the key ring and
// stamps each connection with the key's identity ("cp:ALC1"), which arrives
// with every inbound message as `user_id`. Handshakes are reported as
// `admitted` / `refused` events (refusals rate-limited per address). A key
// that stops being admitted (key_ring::revoke, then revoke() here) is cut
// off: its frames are dropped, nothing is sent to it, its heartbeats go
// unanswered, and its reconnection is refused.
//
// Hostile or stuck peers: inbound frames are capped at max_frame_size;
// a ROUTER peer that stops reading (its pipe reaches send_hwm) is cut off
// and reported as `peer_gone`; the application -> transport queue is
// bounded by max_queued_bytes (excess frames are dropped and reported once a
// second per link as `send_failed`); rejected frames are reported at most
// once a second per peer, with a count.
//
// Links opened at run time: open_dealer() adds a DEALER link to a running
// transport and close_link() removes it, so one transport (one context, one
// thread) can serve thousands of client links that come and go, e.g. one per
// charge point behind a gateway. Such a link behaves exactly like one from
// add_dealer(); link ids are never reused, so a stale id never reaches a
// newer link.
//
// Thread-safety: send(), publish(), reconnect(), subscribe(), revoke(),
// open_dealer(), close_link(), stats() and stop() are safe from any thread
// (open_dealer() and close_link() once start() has returned). add_*() and
// start() are called once, from one thread, before traffic. Sink callbacks
// run on the transport thread and must not block; they may call the
// thread-safe functions (stop() called there does not wait for the thread).

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"
#include "evnet/security/key_ring.hpp"
#include "evnet/security/keys.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::transport {

using link_id = std::uint32_t;

// CURVE on every link (see "Trust" above).
struct curve_config {
  // This process's long-term pair. May be left empty in a process with no
  // server link whose client links all bring their own pair (add_dealer /
  // open_dealer `own`): a gateway that speaks for its charge points only.
  security::key_pair own;
  // Servers (ROUTER, PUB): who is admitted. The application keeps a
  // non-const pointer and changes it at run time; the ZAP handler and the
  // per-message check read it on the transport thread. May be null in a
  // process with no server link.
  std::shared_ptr<const security::key_ring> ring;
};

// The defaults promise two things on every link, to both of its ends:
//  - a pause of up to 2 s (no frame moves either way) is invisible: no
//    `disconnected`, no `peer_gone`;
//  - a real loss is reported within 4 s, by both ends.
// The longest silence a pause of P causes is P plus the longest regular gap
// between frames, one heartbeat interval (the pause may begin just before a
// heartbeat or its answer was due). So with heartbeats every 0.5 s:
//  - DEALER: silence limit 6 x 0.5 s = 3 s against a worst pause silence of
//    2.5 s (0.5 s to spare for scheduling and TCP retransmission); a loss is
//    seen at most 3 s after the last frame.
//  - ROUTER: peer_timeout 3.5 s, longer than the client's own 3 s, so that a
//    hiccup the client survives never makes the server forget the client
//    (1 s to spare); a loss is seen at most 3.5 s + one 100 ms scan later.
// With 1 s heartbeats a 2 s pause could leave 3 s of silence, exactly a
// 3 x 1 s limit: no margin, hence the shorter interval (about one more small
// frame per second per link each way).
struct options {
  std::chrono::milliseconds heartbeat_interval{500};
  int liveness = 6;                                  // DEALER: silent intervals before reconnecting
  std::chrono::milliseconds peer_timeout{3500};      // ROUTER: silence before peer_gone; keep it
                                                     // above heartbeat_interval x liveness
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{32000};
  // DEALER: how long a CURVE handshake may take once the server accepted the
  // TCP connection (a server in a reconnect storm is slow, not dead). Also
  // ZMQ_HANDSHAKE_IVL on every socket.
  std::chrono::milliseconds handshake_timeout{30000};
  // ROUTER and PUB: the listen backlog (ZMQ_BACKLOG; libzmq's default is
  // 100). Thousands of CPs reconnect at once after a restart of Central; the
  // kernel caps it at net.core.somaxconn.
  int listen_backlog = 4096;
  // Inbound frames larger than this close the connection (ZMQ_MAXMSGSIZE);
  // Central and the Engine pass protocol::max_request_frame_size.
  std::size_t max_frame_size = protocol::max_frame_size;
  // Application -> transport queue bound, in bytes: a send()/publish() over
  // it is dropped, counted and reported (see send_failed).
  std::size_t max_queued_bytes = std::size_t{64} * 1024 * 1024;
  // Per peer pipe, in messages. A ROUTER peer whose pipe is full is not
  // reading: it is cut off.
  int send_hwm = 1000;
  // ZeroMQ I/O threads (TCP, CURVE handshakes and encryption run there);
  // Central uses 2, clients 1. Values below 1 count as 1.
  int io_threads = 1;
  std::string sender_name;                           // envelope sender for heartbeats/error replies

  using curve_config = ::evnet::transport::curve_config;
  std::optional<curve_config> curve;                 // nullopt: plaintext (--insecure)
};

// A decoded inbound message and where it came from.
struct inbound {
  link_id link = 0;
  std::string peer;  // ROUTER: the peer's routing id; DEALER/SUB: empty
  protocol::message msg;
  // ROUTER with CURVE: the identity the ZAP handler gave the sender's key
  // ("cp:ALC1"); empty with CURVE off and on client links (DEALER, SUB).
  std::string user_id;
  std::string address;  // the peer's IP address ("Peer-Address"); may be empty
};

enum class event_kind {
  connected,     // DEALER: first frame from the server after (re)connecting;
                 // application frames flow from here on (see above)
  disconnected,  // DEALER: liveness expired, or a reconnect was requested;
                 // reported on every failed attempt
  peer_gone,     // ROUTER: peer silent for peer_timeout; or cut off (detail says
                 // why: it stopped reading, or its key is no longer admitted)
  send_failed,   // ROUTER: peer unknown or gone (router_mandatory).
                 // DEALER: one per outage, just before `connected`: how many
                 // frames were dropped while the link was not up; or one per
                 // frame the socket refused while up.
                 // Any link: "outbound queue full: N frames dropped", at most
                 // once a second (peer empty)
  rejected,      // a frame failed decode(); detail holds the error. At most
                 // one a second per peer; a later one says how many it stands for
  admitted,      // CURVE server: the ZAP handler admitted a key (user_id, key, address)
  refused,       // CURVE client (DEALER): the server refused our key (ZAP:
                 // unknown or revoked); the link goes on trying, with backoff.
                 // CURVE server: a handshake was refused: unknown or revoked key
                 // (key set), a plaintext client, a client without our server
                 // key (key empty). At most one a second per address; a later
                 // one says how many it stands for
};

struct link_event {
  link_id link = 0;
  event_kind kind = event_kind::connected;
  std::string peer;     // ROUTER: routing id, raw (escape it for display)
  std::string detail;   // written by the transport; peer bytes only through printable_id()
  std::string user_id;  // admitted/refused/peer_gone: the key's identity when known
  std::string address;  // admitted/refused: the client's IP address when known (a
                        // client that hangs up mid-handshake may leave it empty)
  std::string key;      // admitted/refused: the client's public key (Z85) when known
};

// What the transport dropped or refused since start(); for benchmarks and
// diagnostics. Any thread.
struct counters {
  std::uint64_t queue_full = 0;     // frames refused by the bounded outbound queue
  std::uint64_t not_admitted = 0;   // inbound frames whose key is no longer admitted
  std::uint64_t cut_off_frames = 0; // inbound frames from cut-off peers, dropped
  std::uint64_t cut_off_peers = 0;  // peers cut off (revoked, not admitted, not reading)
  std::uint64_t admitted = 0;       // CURVE handshakes admitted by the ZAP handler
  std::uint64_t refused = 0;        // CURVE handshakes refused (ZAP or failed handshake)
};

std::string_view to_string(event_kind k);

// Receives everything the transport has to say. Called on the transport thread.
// Order is kept across both kinds: everything the transport read in one poll
// wake-up (from every link) arrives as one on_batch() call, and any event
// raised after a message was read comes after the batch holding it.
class sink {
public:
  virtual ~sink() = default;
  virtual void on_message(inbound in) = 0;
  virtual void on_event(link_event ev) = 0;
  // Never empty. The default hands each message to on_message() in order;
  // override it to handle a burst at once (e.g. one commit per batch).
  virtual void on_batch(std::vector<inbound> msgs) {
    for (auto& in : msgs) {
      on_message(std::move(in));
    }
  }
};

// A ZeroMQ TCP endpoint: "tcp://host:port". An IPv6 literal gets brackets
// ("tcp://[::1]:7000"; one already in brackets keeps them); "*" or an empty
// host means every interface ("tcp://*:7000", both IPv4 and IPv6, since
// every socket has ZMQ_IPV6 on). A name or IPv4 address is used as is.
std::string tcp_endpoint(std::string_view host, std::uint16_t port);

class transport {
public:
  explicit transport(options opts = {});
  ~transport();  // stops the thread and closes every socket (linger 0)

  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  // Declare links before start(). Endpoints are ZeroMQ addresses such as
  // "tcp://*:7000" or "tcp://central.example:7000".
  // With CURVE on, `server_key` (Z85) is the public key of the server the
  // client link talks to; start() refuses a missing or invalid one. A
  // DEALER's `own` pair, when given, is its CURVE client pair instead of
  // options::curve->own (start() refuses an invalid one). With CURVE off,
  // `server_key` and `own` are ignored.
  link_id add_router(std::string bind_endpoint);
  link_id add_dealer(std::string connect_endpoint, std::string identity_prefix, std::string server_key = {},
                     std::optional<security::key_pair> own = std::nullopt);
  link_id add_publisher(std::string bind_endpoint);
  // A subscriber's endpoint may be empty: the link exists but is not
  // connected until subscribe() names its publisher.
  link_id add_subscriber(std::string connect_endpoint, std::string topic, std::string server_key = {});

  // Starts the thread, binds and connects. A bind that fails (port taken,
  // bad address) is returned as an error with a one-line message, e.g.
  // "cannot listen on tcp://*:7000: Address already in use". With CURVE on,
  // invalid own keys, a missing key ring (when a server link exists) or a
  // client link without a valid server key are errc::config errors.
  status start(sink& s);

  // Opens a DEALER link on the running transport: any thread, after start()
  // (before it, or after stop(), it returns 0, which is no link). The id is
  // allocated at once and may be used with send() right away; the socket is
  // made on the transport thread, queued like send(), and from then on the
  // link is exactly an add_dealer() link: same liveness, reconnects,
  // `connected`/`disconnected` events and delivery rule (frames sent before
  // the first `connected` are dropped and counted). Arguments as for
  // add_dealer(). With CURVE on, a server key or own pair that is missing or
  // invalid (and no own pair in the options either) is not an exception:
  // the link is reported `disconnected` once, with a detail saying what is
  // wrong, and stays dead (no socket, no retries) until close_link().
  link_id open_dealer(std::string connect_endpoint, std::string identity_prefix, std::string server_key = {},
                      std::optional<security::key_pair> own = std::nullopt);

  // Closes a link made by open_dealer(): any thread, queued like send(). Its
  // socket and monitor are closed (linger 0) and what they held is dropped;
  // its slot is freed (thousands of open/close cycles do not grow memory or
  // descriptors). No `disconnected` is reported: the close is the caller's.
  // From the moment close_link() returns, send() on the id returns false and
  // nothing more of that link reaches the sink, with one exception: a
  // callback the transport thread was already making when close_link() was
  // called on another thread may still finish (called from a sink callback,
  // the guarantee is exact). An unknown, already closed or add_*() link is
  // left alone.
  void close_link(link_id link);

  // Queue a message. On a ROUTER, `peer` names the destination; on a DEALER
  // it is ignored, and the message is dropped (and counted) unless the link
  // is up: see "Delivery on a DEALER link" above. Returns false after
  // stop(), and for a link that does not exist (never did, or was closed by
  // close_link(): harmless).
  bool send(link_id link, const std::string& peer, const protocol::message& m);
  bool send(link_id link, const protocol::message& m) { return send(link, std::string{}, m); }
  bool publish(link_id link, const std::string& topic, const protocol::message& m);

  // Tear down and rebuild a DEALER link now (e.g. Central told us to
  // re-authenticate and the app wants a clean session). Optional. Frames
  // sent before it may or may not have left with the old session; the next
  // `connected` starts a new one. Also for open_dealer() links (one left
  // dead by bad keys stays dead).
  void reconnect(link_id link);

  // (Re)connects a SUB link to `endpoint` with a fresh socket (same topic,
  // same server key): what the old socket held is dropped. Called again
  // with the same endpoint it is a resubscribe (the Clone pattern's answer
  // to a silent stream). Any thread, queued like send(); an endpoint ZeroMQ
  // refuses is reported as `disconnected` on the link.
  void subscribe(link_id link, std::string endpoint);

  // Cuts off every connection whose key stands for `identity` ("cp:ALC1"),
  // queued like send(). Update the key ring first (key_ring::revoke), then
  // call this. ROUTER peers of that identity are cut off (each reported as
  // `peer_gone`); every PUB socket is closed and bound again, so that each
  // subscriber reconnects through the ZAP handler (the others see a gap in
  // the stream's sequence and ask for a snapshot). No-op with CURVE off.
  void revoke(std::string identity);

  counters stats() const;

  // Closes the queue, then waits for the thread to end (every socket closed,
  // linger 0). From a sink callback it only asks: the thread ends when the
  // callback returns and the destructor joins it.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::transport

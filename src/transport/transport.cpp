#include "evnet/transport.hpp"

#include "dealer_liveness.hpp"
#include "outbound_queue.hpp"
#include "peer_table.hpp"
#include "report_limiter.hpp"
#include "session_gate.hpp"
#include "zap.hpp"

#include "evnet/text.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <unordered_map>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

namespace evnet::transport {

std::string_view to_string(event_kind k) {
  switch (k) {
    case event_kind::connected: {
      return "connected";
    }
    case event_kind::disconnected: {
      return "disconnected";
    }
    case event_kind::peer_gone: {
      return "peer_gone";
    }
    case event_kind::send_failed: {
      return "send_failed";
    }
    case event_kind::rejected: {
      return "rejected";
    }
    case event_kind::admitted: {
      return "admitted";
    }
    case event_kind::refused: {
      return "refused";
    }
  }
  return "unknown";
}

std::string tcp_endpoint(std::string_view host, std::uint16_t port) {
  std::string ep = "tcp://";
  if (host.empty() || host == "*") {
    ep += '*';
  } else if (host.find(':') != std::string_view::npos && host.front() != '[') {
    ep.append("[").append(host).append("]");  // an IPv6 literal
  } else {
    ep.append(host);
  }
  ep.append(":").append(std::to_string(port));
  return ep;
}

namespace detail {

// A link opened by open_dealer() while the transport runs: what it was opened
// with, and what application threads share with the transport thread about
// it. The registry in transport::impl (until close_link()) and the transport
// thread's link_state (until it handles the close) each hold a reference; it
// dies with the later of the two, so nothing of a closed link stays behind.
struct dynamic_link {
  std::string endpoint;
  std::string identity_prefix;
  std::string server_key;
  std::optional<security::key_pair> own;
  session_gate gate;                // send() on any thread; the session on the transport thread
  std::atomic<bool> closed{false};  // set by close_link() before it returns
};

} // namespace detail

namespace {

using detail::clock;
using std::chrono::milliseconds;

enum class link_kind { router, dealer, publisher, subscriber };

struct link_config {
  link_kind kind = link_kind::router;
  std::string endpoint;
  std::string extra;       // DEALER: identity prefix; SUB: topic
  std::string server_key;  // DEALER, SUB with CURVE: the server's public key
  std::optional<security::key_pair> own;  // DEALER with CURVE: its own client pair
                                          // (otherwise options::curve->own)
};

// What is wrong with a CURVE key pair, or nothing. `what` names the pair in
// the text ("this process's own key pair").
std::optional<std::string> key_pair_problem(const security::key_pair& own, const std::string& what) {
  if (!detail::valid_z85_key(own.public_key) || !detail::valid_z85_key(own.secret_key)) {
    return "CURVE is on but " + what + " is not a valid pair of Z85 keys";
  }
  char derived[41] = {};
  if (zmq_curve_public(derived, own.secret_key.c_str()) != 0 || own.public_key != derived) {
    return "CURVE is on but in " + what + " the public key does not belong to the secret key";
  }
  return std::nullopt;
}

bool has_pair(const security::key_pair& own) {
  return !own.public_key.empty() || !own.secret_key.empty();
}

// What keeps a CURVE client link from ever connecting, or nothing: a
// missing or invalid server key, or no valid client pair (its own, else the
// process's).
std::optional<std::string> client_key_problem(const options::curve_config& curve, const link_config& l) {
  if (!detail::valid_z85_key(l.server_key)) {
    return "CURVE is on but the link to " + l.endpoint +
           (l.server_key.empty() ? " has no server key" : " has an invalid server key");
  }
  if (l.own) {
    return key_pair_problem(*l.own, "the key pair given to the link to " + l.endpoint);
  }
  if (!has_pair(curve.own)) {
    return "CURVE is on but the link to " + l.endpoint + " has no key pair and neither has this process";
  }
  return key_pair_problem(curve.own, "this process's own key pair");
}

// Written by the transport thread, read by stats() on any thread.
struct shared_counters {
  std::atomic<std::uint64_t> queue_full{0};
  std::atomic<std::uint64_t> not_admitted{0};
  std::atomic<std::uint64_t> cut_off_frames{0};
  std::atomic<std::uint64_t> cut_off_peers{0};
  std::atomic<std::uint64_t> admitted{0};
  std::atomic<std::uint64_t> refused{0};
};

void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

// More frames than any valid message has: enough to count, not to store a
// hostile peer's thousand-part message.
constexpr std::size_t max_kept_frames = 3;
// A ZAP request has 7 frames (CURVE); more is not ours to read.
constexpr std::size_t max_zap_frames = 8;
// Messages read from one socket per loop turn, so that one busy peer cannot
// starve the other sockets, the outbound queue or the timers.
constexpr int recv_batch = 256;
constexpr milliseconds idle_poll{1000};
// A DEALER does one thing per due() answer; a turn needs at most close, or
// open then heartbeat. The cap only guards against a loop that never settles.
constexpr int max_dealer_actions = 4;
// Queue-full drops are reported at most this often per link.
constexpr milliseconds drop_report_interval{1000};
// A PUB socket closed by revoke() whose port is not free again yet (the old
// listener closes asynchronously) retries its bind this often.
constexpr milliseconds rebind_retry{20};

std::string zmq_error_text(int err) {
  return zmq_strerror(err);
}

std::string random_hex_suffix(std::mt19937_64& rng) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng() & 0xffffffffU));
  return buf;
}

std::string rejection_text(const error& err) {
  return std::string(to_string(err.code)) + ": " + err.message;
}

// A metadata property of a received frame ("User-Id", "Peer-Address"); empty
// when ZeroMQ has none (CURVE off, or a client socket).
std::string property(zmq::message_t& m, const char* name) {
  const char* v = zmq_msg_gets(m.handle(), name);
  return v == nullptr ? std::string{} : std::string(v);
}

// The peer's address, IPv4 clients of a dual-stack socket shown as IPv4.
std::string peer_address(zmq::message_t& m) {
  return detail::plain_address(property(m, "Peer-Address"));
}

// The same, in place: valid while `m` lives.
std::string_view property_view(zmq::message_t& m, const char* name) {
  const char* v = zmq_msg_gets(m.handle(), name);
  return v == nullptr ? std::string_view{} : std::string_view(v);
}

// The IP address of the peer on an accepted fd, as the ZAP handler sees it
// ("127.0.0.1"); empty when the connection is already gone.
std::string peer_ip(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return {};
  }
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) != nullptr) {
      return buf;
    }
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) != nullptr) {
      return detail::plain_address(buf);
    }
  }
  return {};
}

// Everything the transport thread owns. Constructed, used and destroyed on
// that thread only; the context is declared first so it outlives the sockets.
// This is the one place that reads the clock: once per loop turn, passed as
// `now` to every decision (dealer_liveness, peer_table, report_limiter,
// handshake_watch).
//
// Links: those declared before start() come first in links_, at id - 1, and
// stay for the transport's life; links opened at run time (open_dealer) are
// appended after them and found through dynamic_pos_. A closed one is
// swapped with the last and popped, so the slot is freed at once and the
// loops over links_ never see a hole.
class worker {
public:
  worker(const options& opts, const std::vector<link_config>& links, std::deque<detail::session_gate>& gates,
         detail::outbound_queue& queue, shared_counters& counters, const std::atomic<std::uint64_t>& closes,
         sink& s)
      : opts_(opts),
        curve_(opts.curve ? &*opts.curve : nullptr),
        timing_(detail::dealer_timing_for(opts)),
        heartbeat_frame_(protocol::encode(protocol::make(opts.sender_name, protocol::heartbeat{}))),
        queue_(queue),
        counters_(counters),
        closes_(closes),
        sink_(s),
        ctx_(std::max(1, opts.io_threads)),
        rng_(std::random_device{}()),
        static_links_(links.size()) {
    // A DEALER link takes three ZeroMQ sockets (its own, the monitor libzmq
    // makes for it, our end of that monitor); libzmq's default cap of 1023
    // sockets per context would stop a gateway at about 340 links. The
    // process's descriptor limit stays the real bound. Set before the first
    // socket exists, as libzmq requires.
    (void)zmq_ctx_set(ctx_.handle(), ZMQ_MAX_SOCKETS, zmq_ctx_get(ctx_.handle(), ZMQ_SOCKET_LIMIT));
    links_.reserve(links.size());
    link_id id = 1;
    for (const auto& cfg : links) {
      links_.push_back(std::make_unique<link_state>(id, cfg, opts_, timing_, gates[id - 1], rng_()));
      ++id;
    }
  }

  // Binds and connects every link; the first failure is returned so start()
  // can report it.
  status open(clock::time_point now) {
    // ZeroMQ admits every CURVE client when no ZAP handler is bound: the
    // handler must exist before the first server socket does.
    const bool any_server = std::any_of(links_.begin(), links_.end(), [](const auto& l) {
      return l->config.kind == link_kind::router || l->config.kind == link_kind::publisher;
    });
    if (curve_ != nullptr && any_server) {
      try {
        zap_.emplace(ctx_, zmq::socket_type::rep);
        zap_->set(zmq::sockopt::linger, 0);
        zap_->bind("inproc://zeromq.zap.01");
      } catch (const zmq::error_t& e) {
        return error{errc::socket_failed, "cannot start the ZAP handler: " + zmq_error_text(e.num())};
      }
    }
    for (auto& l : links_) {
      auto st = open_link(*l, now);
      if (!st) {
        return st;
      }
    }
    return ok_value;
  }

  void run() {
    // What each poll item is; items[0] is always the outbound queue.
    enum class watched { zap, socket, monitor };
    std::vector<zmq_pollitem_t> items;
    std::vector<std::pair<watched, link_state*>> owners;
    auto now = clock::now();
    for (;;) {
      items.clear();
      owners.clear();
      items.push_back(zmq_pollitem_t{nullptr, queue_.fd(), ZMQ_POLLIN, 0});
      if (zap_) {
        items.push_back(zmq_pollitem_t{zap_->handle(), 0, ZMQ_POLLIN, 0});
        owners.emplace_back(watched::zap, nullptr);
      }
      for (auto& l : links_) {
        if (l->socket && l->config.kind != link_kind::publisher) {
          items.push_back(zmq_pollitem_t{l->socket->handle(), 0, ZMQ_POLLIN, 0});
          owners.emplace_back(watched::socket, l.get());
        }
        if (l->monitor) {
          items.push_back(zmq_pollitem_t{l->monitor->handle(), 0, ZMQ_POLLIN, 0});
          owners.emplace_back(watched::monitor, l.get());
        }
      }
      try {
        zmq::poll(items, poll_timeout(now));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
          now = clock::now();
          continue;
        }
        throw;
      }
      // Read after the poll: frames that waited while this thread was not
      // running (a stalled process) count as heard now, so a stall of our
      // own is never mistaken for the peers' silence.
      now = clock::now();
      // Inbound before outbound and timers: those may close and recreate
      // sockets (DEALER reconnects, PUB rebinds), which would invalidate the
      // poll items.
      // Monitors first: a ROUTER peer's closed connection (its descriptor
      // then free for reuse) is settled before any frame of a connection
      // accepted after it is read, so a reused descriptor never names the
      // wrong peer.
      for (std::size_t i = 1; i < items.size(); ++i) {
        if ((items[i].revents & ZMQ_POLLIN) != 0 && owners[i - 1].first == watched::monitor) {
          drain_monitor(*owners[i - 1].second, now);
        }
      }
      for (std::size_t i = 1; i < items.size(); ++i) {
        if ((items[i].revents & ZMQ_POLLIN) == 0 || owners[i - 1].first == watched::monitor) {
          continue;
        }
        auto [what, link] = owners[i - 1];
        switch (what) {
          case watched::zap: {
            drain_zap(now);
            break;
          }
          case watched::socket: {
            drain_inbound(*link, now);
            break;
          }
          case watched::monitor: {
            break;  // above
          }
        }
      }
      // Everything read in this wake-up goes to the application at once.
      flush_batch();
      if ((items[0].revents & ZMQ_POLLIN) != 0) {
        if (queue_.closed()) {
          return;
        }
        for (auto& item : queue_.take_all()) {
          handle_outbound(item, now);
        }
      }
      on_timers(now);
    }
  }

private:
  struct link_state {
    link_state(link_id i, link_config c, const options& o, const detail::dealer_timing& t, detail::session_gate& g,
               std::uint64_t seed)
        : id(i), config(std::move(c)), live(t, seed), gate(g), peers(o.peer_timeout) {}
    // See close_socket(): the monitoring stops before either end closes.
    ~link_state() {
      if (socket && monitor) {
        (void)zmq_socket_monitor(socket->handle(), nullptr, 0);
      }
    }
    link_state(const link_state&) = delete;
    link_state& operator=(const link_state&) = delete;

    link_id id;
    link_config config;
    // Links from open_dealer(): shared with the application threads (the
    // gate lives there, and close_link() raises its flag). Null otherwise.
    std::shared_ptr<detail::dynamic_link> shared;
    // A link opened with keys that can never work: reported once, then it
    // has no socket and nothing is ever due, until it is closed.
    bool dead = false;
    std::optional<zmq::socket_t> socket;  // DEALER: empty while waiting to reconnect; PUB: while rebinding

    // DEALER (client half of the Paranoid Pirate pattern).
    std::string routing_id;
    detail::dealer_liveness live;
    detail::session_gate& gate;  // shared with send() on application threads

    // ROUTER (server half).
    detail::peer_table peers;
    // The TCP connection each peer came on (ZMQ_SRCFD of its first frame):
    // the socket monitor's DISCONNECTED names the descriptor, so a peer
    // whose connection closed (a killed process, a gateway ending a
    // session) is gone at once, not after its silence.
    std::unordered_map<int, std::string> fd_peers;

    // Rejected frames, rate-limited per peer (DEALER and SUB: one peer, "").
    detail::report_limiter rejections;

    // CURVE servers (ROUTER, PUB): the socket's monitor, for handshakes that
    // fail before the ZAP handler is asked. DEALER: the socket's monitor, for
    // the end of its TCP connection. Declared after `socket`, so it is
    // closed first.
    std::optional<zmq::socket_t> monitor;
    detail::handshake_watch watch;
    std::uint32_t monitor_generation = 0;

    // PUB: the address actually bound (a wildcard port resolved), for the
    // rebind after revoke(); a pending rebind retries at rebind_at.
    std::string bound_endpoint;
    std::optional<clock::time_point> rebind_at;
  };

  void configure(zmq::socket_t& s) const {
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(opts_.max_frame_size));
    s.set(zmq::sockopt::reconnect_ivl, static_cast<int>(opts_.reconnect_min.count()));
    s.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(opts_.reconnect_max.count()));
    s.set(zmq::sockopt::sndhwm, opts_.send_hwm);
    s.set(zmq::sockopt::handshake_ivl, static_cast<int>(timing_.handshake_timeout.count()));
    // IPv6 addresses work everywhere, and "*" binds both families.
    s.set(zmq::sockopt::ipv6, true);
  }

  // A CURVE server: every handshake goes through our ZAP handler, under a
  // domain that names the link. The monitor is attached before the bind, so
  // no connection's events are missed.
  void make_server(link_state& l) {
    if (curve_ == nullptr) {
      return;
    }
    l.socket->set(zmq::sockopt::curve_server, true);
    l.socket->set(zmq::sockopt::curve_secretkey, curve_->own.secret_key);
    l.socket->set(zmq::sockopt::zap_domain, detail::zap_domain_for(l.id));
    attach_monitor(l, detail::handshake_watch::events());
    l.watch = {};
  }

  // Watches `events` of the link's socket on an inproc PAIR of our own. The
  // endpoint names a generation, so a new socket never meets the previous
  // socket's monitor (which unbinds asynchronously).
  void attach_monitor(link_state& l, int events) {
    const std::string ep =
        "inproc://evnet.monitor." + std::to_string(l.id) + "." + std::to_string(++l.monitor_generation);
    if (zmq_socket_monitor(l.socket->handle(), ep.c_str(), events) != 0) {
      throw zmq::error_t();
    }
    l.monitor.emplace(ctx_, zmq::socket_type::pair);
    l.monitor->set(zmq::sockopt::linger, 0);
    l.monitor->connect(ep);
  }

  // Closes the link's socket (linger 0) and its monitor. libzmq writes
  // monitor events from its I/O thread with a blocking send, holding the
  // socket's monitor lock: an event raised for a connection still in
  // progress after our end of the monitor pipe is gone would block that
  // thread for good, and with it every connection of the context. So the
  // monitoring stops first (under that lock), then our end closes, then the
  // socket.
  static void close_socket(link_state& l) {
    if (l.socket && l.monitor) {
      (void)zmq_socket_monitor(l.socket->handle(), nullptr, 0);
    }
    l.monitor.reset();
    l.socket.reset();
  }

  // A DEALER may bring its own client pair (a gateway speaks for each CP
  // under that CP's key); everything else uses the process's.
  void make_client(zmq::socket_t& s, const link_config& cfg) const {
    if (curve_ == nullptr) {
      return;
    }
    const auto& own = cfg.own ? *cfg.own : curve_->own;
    s.set(zmq::sockopt::curve_serverkey, cfg.server_key);
    s.set(zmq::sockopt::curve_publickey, own.public_key);
    s.set(zmq::sockopt::curve_secretkey, own.secret_key);
  }

  status open_link(link_state& l, clock::time_point now) {
    const auto& ep = l.config.endpoint;
    if (l.config.kind == link_kind::subscriber && ep.empty()) {
      return ok_value;  // connected later, by subscribe()
    }
    try {
      switch (l.config.kind) {
        case link_kind::router: {
          l.socket.emplace(ctx_, zmq::socket_type::router);
          configure(*l.socket);
          // A send to an unknown or departed peer must fail loudly
          // (EHOSTUNREACH), not vanish; one whose pipe is full, with EAGAIN.
          l.socket->set(zmq::sockopt::router_mandatory, 1);
          l.socket->set(zmq::sockopt::backlog, std::max(1, opts_.listen_backlog));
          make_server(l);
          break;
        }
        case link_kind::publisher: {
          l.socket.emplace(ctx_, zmq::socket_type::pub);
          configure(*l.socket);
          l.socket->set(zmq::sockopt::backlog, std::max(1, opts_.listen_backlog));
          make_server(l);
          break;
        }
        case link_kind::subscriber: {
          l.socket.emplace(ctx_, zmq::socket_type::sub);
          configure(*l.socket);
          make_client(*l.socket, l.config);
          l.socket->set(zmq::sockopt::subscribe, l.config.extra);
          break;
        }
        case link_kind::dealer: {
          return open_dealer(l, now);
        }
      }
    } catch (const zmq::error_t& e) {
      close_socket(l);
      return error{errc::socket_failed, "cannot create a socket for " + ep + ": " + zmq_error_text(e.num())};
    }
    try {
      if (l.config.kind == link_kind::subscriber) {
        l.socket->connect(ep);
      } else {
        l.socket->bind(ep);
        l.bound_endpoint = l.socket->get(zmq::sockopt::last_endpoint);
      }
    } catch (const zmq::error_t& e) {
      close_socket(l);
      if (l.config.kind == link_kind::subscriber) {
        return error{errc::connect_failed, "cannot connect to " + ep + ": " + zmq_error_text(e.num())};
      }
      return error{errc::bind_failed, "cannot listen on " + ep + ": " + zmq_error_text(e.num())};
    }
    return ok_value;
  }

  // Paranoid Pirate: every (re)connection uses a fresh routing id, so the
  // server never confuses the new session with the old one's queued replies.
  // The socket starts empty: nothing offered before it came up is kept for it.
  status open_dealer(link_state& l, clock::time_point now) {
    const auto& ep = l.config.endpoint;
    l.routing_id = l.config.extra + ":" + random_hex_suffix(rng_);
    try {
      l.socket.emplace(ctx_, zmq::socket_type::dealer);
      configure(*l.socket);
      make_client(*l.socket, l.config);
      // One socket, one TCP connection, one server session. libzmq would
      // otherwise reconnect a broken connection by itself, under the old
      // identity, and deliver what it had queued to whatever listens there
      // now (a restarted server that refuses it). Without that, a closed
      // connection is reported by the socket monitor (a dead path falls
      // silent instead), the session ends, the socket is closed and the
      // next one starts a new session under a new identity.
      l.socket->set(zmq::sockopt::reconnect_ivl, -1);
      l.socket->set(zmq::sockopt::routing_id, l.routing_id);
      // The end of the TCP connection ends the session at once: a killed
      // server is noticed in milliseconds, not after the silence limit. The
      // accept and the handshake tell dealer_liveness how far an attempt
      // got, so a slow handshake is waited for, not abandoned.
      // A refused key (ZAP's 400 in the server's ERROR command) is told to
      // the application: it is not an outage, and retrying will not help.
      attach_monitor(l, ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
      l.socket->connect(ep);
    } catch (const zmq::error_t& e) {
      close_socket(l);
      return error{errc::connect_failed, "cannot connect to " + ep + ": " + zmq_error_text(e.num())};
    }
    l.live.opened(now);
    return ok_value;
  }

  milliseconds poll_timeout(clock::time_point now) const {
    auto deadline = now + idle_poll;
    for (const auto& l : links_) {
      if (l->config.kind == link_kind::dealer && !l->dead) {
        deadline = std::min(deadline, l->live.next_deadline());
      } else if (l->config.kind == link_kind::router) {
        deadline = std::min(deadline, l->peers.next_scan());
      }
      deadline = std::min({deadline, l->rejections.next_flush(), l->watch.next_flush()});
      if (l->rebind_at) {
        deadline = std::min(deadline, *l->rebind_at);
      }
    }
    deadline = std::min(deadline, refusals_.next_flush());
    for (const auto& [link, d] : drops_) {
      if (d.pending > 0) {
        deadline = std::min(deadline, d.last_report + drop_report_interval);
      }
    }
    if (deadline <= now) {
      return milliseconds{0};
    }
    // Round up: waking a fraction of a millisecond early would spin.
    return std::chrono::ceil<milliseconds>(deadline - now);
  }

  void on_timers(clock::time_point now) {
    report_queue_drops(now);
    for (auto& ev : refusals_.flush(now)) {
      event(std::move(ev));
    }
    for (auto& lp : links_) {
      auto& l = *lp;
      for (auto& ev : l.rejections.flush(now)) {
        event(std::move(ev));
      }
      for (auto& f : l.watch.flush(now)) {
        refuse(l.id, std::move(f.address), {}, std::move(f.detail), now);
      }
      if (l.rebind_at && now >= *l.rebind_at) {
        rebind_publisher(l, now);
      }
      if (l.config.kind == link_kind::dealer && !l.dead) {
        dealer_timers(l, now);
      } else if (l.config.kind == link_kind::router && l.peers.scan_due(now)) {
        for (auto& peer : l.peers.expire(now)) {
          emit(l, event_kind::peer_gone, std::move(peer),
               "silent for more than " + std::to_string(l.peers.timeout().count()) + " ms");
        }
      }
    }
  }

  // Frames the bounded outbound queue refused: one report per link and
  // second at most, with the count.
  // A link closed meanwhile has nobody to tell: its drops are only counted.
  void report_queue_drops(clock::time_point now) {
    for (const auto& [link, n] : queue_.take_dropped()) {
      bump(counters_.queue_full, n);
      if (find_link(link) != nullptr) {
        drops_[link].pending += n;
      }
    }
    for (auto& [link, d] : drops_) {
      if (d.pending == 0) {
        continue;
      }
      if (d.last_report != clock::time_point{} && now - d.last_report < drop_report_interval) {
        continue;
      }
      emit(*find_link(link), event_kind::send_failed, {},
           "outbound queue full: " + std::to_string(d.pending) + (d.pending == 1 ? " frame" : " frames") +
               " dropped");
      d.pending = 0;
      d.last_report = now;
    }
  }

  void dealer_timers(link_state& l, clock::time_point now) {
    using action = detail::dealer_liveness::action;
    for (int n = 0; n < max_dealer_actions; ++n) {
      switch (l.live.due(now)) {
        case action::none: {
          return;
        }
        case action::open_socket: {
          reopen_dealer(l, now);
          break;
        }
        case action::send_heartbeat: {
          // A heartbeat that does not fit the queue is simply skipped: the
          // next one, or the liveness timeout, covers it.
          (void)l.socket->send(zmq::buffer(heartbeat_frame_), zmq::send_flags::dontwait);
          l.live.heartbeat_sent(now);
          break;
        }
        case action::close_socket: {
          // Reported on every failed attempt, connected before or not: the
          // application must learn that the server cannot be reached even
          // when it never could (runtime::link_status turns the attempts of
          // one outage into one announcement).
          const bool was_up = l.live.up();
          const int attempt = l.live.attempt();
          const bool lost = l.live.connection_lost();
          close_dealer(l);
          const auto wait = l.live.closed(now);
          std::string detail = lost ? "connection to " + l.config.endpoint + " closed"
                                    : "no answer from " + l.config.endpoint + " for " +
                                          std::to_string(l.live.timing().silence_limit.count()) + " ms";
          if (!was_up) {
            detail += " (attempt " + std::to_string(attempt) + ")";
          }
          emit(l, event_kind::disconnected, {}, detail + "; reconnecting in " + std::to_string(wait.count()) + " ms");
          break;
        }
      }
    }
  }

  // The socket and the session go together: frames the socket still holds
  // die with it (linger 0), and the gate refuses everything until the next
  // `connected`.
  void close_dealer(link_state& l) {
    close_socket(l);
    l.gate.closed();
  }

  void reopen_dealer(link_state& l, clock::time_point now) {
    auto st = open_dealer(l, now);
    if (!st) {
      const auto wait = l.live.closed(now);
      emit(l, event_kind::disconnected, {},
           st.err().message + "; retrying in " + std::to_string(wait.count()) + " ms");
    }
  }

  void handle_outbound(detail::outbound& item, clock::time_point now) {
    if (item.what == detail::outbound::op::revoke) {
      revoke(item.address, now);
      return;
    }
    if (item.what == detail::outbound::op::open) {
      open_dynamic(item.link, std::move(item.opened));
      return;
    }
    // A link closed meanwhile (or never opened) takes nothing more.
    auto* found = find_link(item.link);
    if (found == nullptr) {
      return;
    }
    auto& l = *found;
    if (item.what == detail::outbound::op::close) {
      close_dynamic(l);
      return;
    }
    if (item.what == detail::outbound::op::subscribe) {
      if (l.config.kind == link_kind::subscriber) {
        resubscribe(l, std::move(item.address), now);
      }
      return;
    }
    if (item.what == detail::outbound::op::reconnect) {
      if (l.config.kind == link_kind::dealer && !l.dead) {
        const bool was_up = l.live.restart(now);
        close_dealer(l);
        if (was_up) {
          emit(l, event_kind::disconnected, {}, "reconnect requested");
        }
        reopen_dealer(l, now);
      }
      return;
    }
    switch (l.config.kind) {
      case link_kind::router: {
        std::string why;
        if (!deliver(l, item.address, item.payload, now, why) && !why.empty()) {
          emit(l, event_kind::send_failed, std::move(item.address), std::move(why));
        }
        break;
      }
      case link_kind::dealer: {
        send_dealer(l, item);
        break;
      }
      case link_kind::publisher: {
        // PUB never blocks and drops on a full queue by design; nothing to
        // report. While a revoked stream rebinds there is no socket: the
        // subscribers resnapshot after the gap anyway.
        if (l.socket) {
          (void)l.socket->send(zmq::buffer(item.address), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
          (void)l.socket->send(zmq::buffer(item.payload), zmq::send_flags::dontwait);
        }
        break;
      }
      case link_kind::subscriber: {
        break;
      }
    }
  }

  // The link with this id, or null: never opened, or closed.
  link_state* find_link(link_id id) {
    if (id == 0) {
      return nullptr;
    }
    if (id <= static_links_) {
      return links_[id - 1].get();
    }
    const auto it = dynamic_pos_.find(id);
    return it == dynamic_pos_.end() ? nullptr : links_[it->second].get();
  }

  // open_dealer(): a new DEALER link, `waiting` with its open due at once,
  // so that on_timers() opens its socket in this same turn, the way
  // reconnects do (a failure there is reported and retried, as for any
  // DEALER). Keys that can never work make a dead link instead: reported
  // once, never retried. Closed before it got here: nothing to do.
  void open_dynamic(link_id id, std::shared_ptr<detail::dynamic_link> shared) {
    if (id <= static_links_ || shared == nullptr || shared->closed.load(std::memory_order_acquire) ||
        dynamic_pos_.contains(id)) {
      return;
    }
    link_config cfg{link_kind::dealer, shared->endpoint, shared->identity_prefix, shared->server_key,
                    curve_ != nullptr ? shared->own : std::nullopt};
    auto& gate = shared->gate;
    auto l = std::make_unique<link_state>(id, std::move(cfg), opts_, timing_, gate, rng_());
    l->shared = std::move(shared);
    std::optional<std::string> problem;
    if (curve_ != nullptr) {
      problem = client_key_problem(*curve_, l->config);
    }
    l->dead = problem.has_value();
    dynamic_pos_.emplace(id, links_.size());
    links_.push_back(std::move(l));
    if (problem) {
      emit(*links_.back(), event_kind::disconnected, {}, *problem + "; the link stays closed");
    }
  }

  // close_link(): the socket and its monitor close (linger 0) with whatever
  // they held, the session ends, and the slot goes: the last link takes its
  // place. Nothing of the link is reported from here on (its held reports
  // go with it).
  void close_dynamic(link_state& l) {
    if (!l.shared) {
      return;  // add_*() links live as long as the transport
    }
    const link_id id = l.id;
    close_dealer(l);
    const std::size_t pos = dynamic_pos_.at(id);
    if (pos + 1 != links_.size()) {
      std::swap(links_[pos], links_.back());
      dynamic_pos_[links_[pos]->id] = pos;
    }
    links_.pop_back();
    dynamic_pos_.erase(id);
    drops_.erase(id);
  }

  // False for a link closed by close_link(): the flag is raised on the
  // caller's thread before the close reaches this thread, and nothing of
  // the link may reach the sink after it.
  bool deliverable(link_id id) {
    if (id <= static_links_) {
      return true;
    }
    const auto* l = find_link(id);
    return l != nullptr && !l->shared->closed.load(std::memory_order_acquire);
  }

  // A fresh SUB socket for `endpoint`: whatever the old one held (a stream
  // that may have lost frames, or a dead connection) goes with it.
  void resubscribe(link_state& l, std::string endpoint, clock::time_point now) {
    l.socket.reset();
    l.config.endpoint = std::move(endpoint);
    if (auto st = open_link(l, now); !st) {
      emit(l, event_kind::disconnected, {}, st.err().message);
    }
  }

  // Only into the session the frame was offered on; a frame whose session
  // ended meanwhile is counted by the gate and reported with its outage.
  void send_dealer(link_state& l, const detail::outbound& item) {
    if (!l.gate.still_live(item.session) || !l.socket) {
      return;
    }
    try {
      if (!l.socket->send(zmq::buffer(item.payload), zmq::send_flags::dontwait)) {
        emit(l, event_kind::send_failed, {}, "not accepted by the socket: send queue full or connection lost");
      }
    } catch (const zmq::error_t& e) {
      emit(l, event_kind::send_failed, {}, zmq_error_text(e.num()));
    }
  }

  enum class sent { ok, full, failed };

  // [identity, payload] without ever blocking. With router_mandatory the
  // first frame fails for an unknown peer (EHOSTUNREACH) or a full pipe
  // (EAGAIN); once it is accepted the rest of the message always is.
  sent send_to_peer(link_state& l, const std::string& peer, const std::string& payload, std::string& why) {
    try {
      if (!l.socket->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return sent::full;
      }
      (void)l.socket->send(zmq::buffer(payload), zmq::send_flags::dontwait);
      return sent::ok;
    } catch (const zmq::error_t& e) {
      why = e.num() == EHOSTUNREACH ? "peer unknown or gone" : zmq_error_text(e.num());
      return sent::failed;
    }
  }

  // Every frame for a ROUTER peer goes through here (application frames,
  // heartbeat answers, error replies). Nothing goes to a cut-off peer; a
  // peer whose pipe is full is not reading and is cut off: its queued
  // frames would otherwise pin memory for as long as it stays connected.
  // False when the frame was not sent; `why` is set when the application
  // should hear about it as send_failed.
  bool deliver(link_state& l, const std::string& peer, const std::string& payload, clock::time_point now,
               std::string& why) {
    if (l.peers.was_cut_off(peer)) {
      return false;
    }
    switch (send_to_peer(l, peer, payload, why)) {
      case sent::ok: {
        return true;
      }
      case sent::full: {
        cut_off(l, peer, now,
                "not reading: cut off after " + std::to_string(opts_.send_hwm) + " queued messages", true);
        return false;
      }
      case sent::failed: {
        return false;
      }
    }
    return false;
  }

  // The peer is forgotten and ignored from now on; the application hears of
  // it as `peer_gone` when it knew the peer (or `always`).
  void cut_off(link_state& l, const std::string& peer, clock::time_point now, std::string detail, bool always) {
    std::string user_id = l.peers.user_of(peer);
    const bool known = l.peers.cut_off(peer, now);
    bump(counters_.cut_off_peers);
    if (known || always) {
      event(link_event{l.id, event_kind::peer_gone, peer, std::move(detail), std::move(user_id), {}, {}});
    }
  }

  // The application revoked `identity` and updated the key ring: cut off
  // every connection of that key. A ROUTER knows each peer's identity; a
  // PUB does not know who subscribes, so it starts afresh and every
  // subscriber passes the ZAP handler again.
  void revoke(const std::string& identity, clock::time_point now) {
    if (curve_ == nullptr || identity.empty()) {
      return;
    }
    for (auto& lp : links_) {
      auto& l = *lp;
      if (l.config.kind == link_kind::router) {
        for (const auto& peer : l.peers.peers_of(identity)) {
          cut_off(l, peer, now, "key of " + printable_id(identity) + " revoked: cut off", true);
        }
      } else if (l.config.kind == link_kind::publisher) {
        close_socket(l);
        rebind_publisher(l, now);
      }
    }
  }

  void rebind_publisher(link_state& l, clock::time_point now) {
    l.rebind_at.reset();
    try {
      l.socket.emplace(ctx_, zmq::socket_type::pub);
      configure(*l.socket);
      make_server(l);
      l.socket->bind(l.bound_endpoint);
    } catch (const zmq::error_t& e) {
      close_socket(l);
      // The old listener closes on ZeroMQ's I/O thread; until then the
      // port is taken. Anything else would not go away by waiting, but
      // retrying costs nothing and reports nothing.
      l.rebind_at = now + rebind_retry;
    }
  }

  // ZAP (RFC 27): one verdict per CURVE handshake on a server socket.
  void drain_zap(clock::time_point now) {
    std::vector<std::string> frames;
    for (int n = 0; n < recv_batch; ++n) {
      frames.clear();
      zmq::message_t part;
      try {
        if (!zap_->recv(part, zmq::recv_flags::dontwait)) {
          return;
        }
        for (;;) {
          const bool more = part.more();
          if (frames.size() < max_zap_frames) {
            frames.push_back(part.to_string());
          }
          if (!more) {
            break;
          }
          (void)zap_->recv(part, zmq::recv_flags::none);
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
          continue;
        }
        throw;
      }
      const auto verdict = detail::judge_zap(frames, *curve_->ring);
      const auto reply = detail::zap_reply(verdict);
      try {
        for (std::size_t i = 0; i < reply.size(); ++i) {
          const auto flags = i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
          (void)zap_->send(zmq::buffer(reply[i]), flags | zmq::send_flags::dontwait);
        }
      } catch (const zmq::error_t&) {
        // libzmq's own pipe; nothing sensible to do but go on.
      }
      const auto link = detail::link_of_zap_domain(verdict.domain);
      if (verdict.admitted) {
        bump(counters_.admitted);
        event(link_event{link, event_kind::admitted, {},
                                  "key of " + printable_id(verdict.user_id) + " admitted from " +
                                      printable_id(verdict.address),
                                  verdict.user_id, verdict.address, verdict.key});
      } else {
        refuse(link, verdict.address, verdict.key, verdict.detail, now);
      }
    }
  }

  // One refused handshake: counted always, reported at most once a second
  // per address.
  void refuse(link_id link, std::string address, std::string key, std::string detail, clock::time_point now) {
    bump(counters_.refused);
    std::string source = address.empty() ? "link " + std::to_string(link) : address;
    if (!address.empty()) {
      detail += " (from " + printable_id(address) + ")";
    }
    link_event ev{link, event_kind::refused, {}, std::move(detail), {}, std::move(address), std::move(key)};
    if (auto report = refusals_.admit(source, std::move(ev), now)) {
      event(std::move(*report));
    }
  }

  void drain_monitor(link_state& l, clock::time_point now) {
    for (int n = 0; n < recv_batch && l.monitor; ++n) {
      zmq::message_t head;
      zmq::message_t address;
      try {
        if (!l.monitor->recv(head, zmq::recv_flags::dontwait)) {
          return;
        }
        if (head.more()) {
          (void)l.monitor->recv(address, zmq::recv_flags::none);
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
          continue;
        }
        throw;
      }
      if (head.size() < 6) {
        continue;
      }
      std::uint16_t event = 0;
      std::uint32_t value = 0;
      std::memcpy(&event, head.data(), sizeof event);
      std::memcpy(&value, static_cast<const char*>(head.data()) + sizeof event, sizeof value);
      if (l.config.kind == link_kind::dealer) {
        if (event == ZMQ_EVENT_DISCONNECTED && l.socket) {
          // What the server sent before it went belongs to the session:
          // read it first, then end the session (dealer_timers closes it).
          drain_inbound(l, now);
          l.live.lost();
          return;
        }
        if (event == ZMQ_EVENT_CONNECTED) {
          l.live.reached(now);
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
          l.live.handshaken(now);
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
          emit(l, event_kind::refused, {},
               "the server refused this link's key (status " + std::to_string(value) + "): unknown or revoked");
        }
        continue;
      }
      if (event == ZMQ_EVENT_DISCONNECTED && l.config.kind == link_kind::router) {
        peer_connection_closed(l, static_cast<int>(value), now);
      }
      for (auto& f : l.watch.on_event(event, value, peer_ip, now)) {
        refuse(l.id, std::move(f.address), {}, std::move(f.detail), now);
      }
    }
  }

  void peer_connection_closed(link_state& l, int fd, clock::time_point /*now*/) {
    const auto it = l.fd_peers.find(fd);
    if (it == l.fd_peers.end()) {
      return;
    }
    const std::string peer = std::move(it->second);
    l.fd_peers.erase(it);
    if (l.peers.forget(peer)) {
      emit(l, event_kind::peer_gone, peer, "its connection closed");
    }
  }

  // Reads up to recv_batch whole messages; keeps at most max_kept_frames
  // frames of each and counts the rest.
  void drain_inbound(link_state& l, clock::time_point now) {
    for (int n = 0; n < recv_batch && l.socket; ++n) {
      frames_.clear();
      std::size_t count = 0;
      zmq::message_t part;
      try {
        if (!l.socket->recv(part, zmq::recv_flags::dontwait)) {
          return;
        }
        for (;;) {
          ++count;
          const bool more = part.more();
          if (frames_.size() < max_kept_frames) {
            frames_.push_back(std::move(part));
            part = zmq::message_t{};
          }
          if (!more) {
            break;
          }
          // The rest of a multipart message has already arrived.
          (void)l.socket->recv(part, zmq::recv_flags::none);
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
          continue;
        }
        throw;
      }
      switch (l.config.kind) {
        case link_kind::router: {
          on_router_message(l, count, now);
          break;
        }
        case link_kind::dealer: {
          on_dealer_message(l, count, now);
          break;
        }
        case link_kind::subscriber: {
          on_subscriber_message(l, count, now);
          break;
        }
        case link_kind::publisher: {
          break;
        }
      }
    }
  }

  // Most frames on a busy ROUTER are heartbeats: they are recognised by a
  // byte check and answered with the pre-encoded frame, without a decode and
  // without allocating (the routing id goes into a reused buffer; the
  // metadata is read in place).
  void on_router_message(link_state& l, std::size_t count, clock::time_point now) {
    peer_.assign(static_cast<const char*>(frames_[0].data()), frames_[0].size());
    const std::string& peer = peer_;
    if (l.peers.is_cut_off(peer, now)) {
      bump(counters_.cut_off_frames);
      return;
    }
    // ZeroMQ stamps the key's identity (from our ZAP reply) on every frame
    // after the routing id.
    std::string_view user_id;
    if (frames_.size() >= 2) {
      user_id = property_view(frames_[1], "User-Id");
    }
    // Admitted at the handshake is not enough: a key revoked since then
    // stops counting at once, heartbeats included.
    if (curve_ != nullptr && !curve_->ring->admits(user_id)) {
      bump(counters_.not_admitted);
      cut_off(l, peer, now, "key of " + printable_id(user_id) + " no longer admitted: cut off", false);
      return;
    }
    // A peer heard again after peer_gone is simply new: the application
    // forgot it and will ask it to say hello again.
    if (l.peers.heard(peer, now, user_id) && frames_.size() >= 2) {
      // ZMQ_SRCFD is deprecated in favour of the peer's address, which does
      // not tell two connections from one host apart; libzmq 4.3 has it.
      const int fd = zmq_msg_get(frames_[1].handle(), ZMQ_SRCFD);
      if (fd >= 0) {
        l.fd_peers[fd] = peer;
      }
    }
    if (count == 2 && protocol::is_heartbeat_frame(frames_[1].data(), frames_[1].size())) {
      answer_heartbeat(l, peer, now);
      return;
    }
    if (count != 2) {
      reject_router(l, peer, std::string(user_id),
                    error{errc::malformed, "expected one frame, got " + std::to_string(count - 1)}, now);
      return;
    }
    auto decoded = protocol::decode(frames_[1].data(), frames_[1].size());
    if (!decoded) {
      reject_router(l, peer, std::string(user_id), decoded.err(), now);
      return;
    }
    if (decoded->is<protocol::heartbeat>()) {  // a heartbeat encoded otherwise
      answer_heartbeat(l, peer, now);
      return;
    }
    batch_.push_back(inbound{l.id, peer, std::move(decoded).value(), std::string(user_id),
                             peer_address(frames_[1])});
  }

  void answer_heartbeat(link_state& l, const std::string& peer, clock::time_point now) {
    std::string ignored;  // empty: no allocation
    (void)deliver(l, peer, heartbeat_frame_, now, ignored);
  }

  // Tells the peer what was wrong (it may be a buggy client worth helping)
  // and the application at most once a second per peer.
  void reject_router(link_state& l, const std::string& peer, const std::string& user_id, const error& err,
                     clock::time_point now) {
    const auto reply = protocol::encode(protocol::make(opts_.sender_name, protocol::error_reply{err.code, err.message}));
    std::string ignored;
    (void)deliver(l, peer, reply, now, ignored);
    if (l.peers.was_cut_off(peer)) {
      return;
    }
    link_event ev{l.id, event_kind::rejected, peer, rejection_text(err), user_id, {}, {}};
    if (auto report = l.rejections.admit(peer, std::move(ev), now)) {
      event(std::move(*report));
    }
  }

  void on_dealer_message(link_state& l, std::size_t count, clock::time_point now) {
    // Paranoid Pirate: any frame at all proves the server is alive.
    if (l.live.heard(now)) {
      // The outage's drops come first, so that an application re-sending on
      // `connected` never takes this report for its re-sent frames.
      if (const auto dropped = l.gate.opened(); dropped > 0) {
        emit(l, event_kind::send_failed, {},
             std::to_string(dropped) + (dropped == 1 ? " frame" : " frames") + " offered while the link to " +
                 l.config.endpoint + " was not up dropped; re-send after connected");
      }
      emit(l, event_kind::connected, {},
           "connected to " + l.config.endpoint + " as " + printable_id(l.routing_id));
    }
    if (count == 1 && protocol::is_heartbeat_frame(frames_[0].data(), frames_[0].size())) {
      return;
    }
    if (count != 1) {
      reject_single(l, error{errc::malformed, "expected one frame, got " + std::to_string(count)}, now);
      return;
    }
    auto decoded = protocol::decode(frames_[0].data(), frames_[0].size());
    if (!decoded) {
      reject_single(l, decoded.err(), now);
      return;
    }
    if (decoded->is<protocol::heartbeat>()) {
      return;
    }
    batch_.push_back(inbound{l.id, {}, std::move(decoded).value(), {}, peer_address(frames_[0])});
  }

  void on_subscriber_message(link_state& l, std::size_t count, clock::time_point now) {
    if (count != 2) {
      reject_single(l,
                    error{errc::malformed, "expected [topic, payload], got " + std::to_string(count) + " frames"},
                    now);
      return;
    }
    if (protocol::is_heartbeat_frame(frames_[1].data(), frames_[1].size())) {
      return;
    }
    auto decoded = protocol::decode(frames_[1].data(), frames_[1].size());
    if (!decoded) {
      reject_single(l, decoded.err(), now);
      return;
    }
    if (decoded->is<protocol::heartbeat>()) {
      return;
    }
    batch_.push_back(inbound{l.id, {}, std::move(decoded).value(), {}, peer_address(frames_[1])});
  }

  // DEALER and SUB cannot answer; only the application hears about it.
  void reject_single(link_state& l, const error& err, clock::time_point now) {
    link_event ev{l.id, event_kind::rejected, {}, rejection_text(err), {}, {}, {}};
    if (auto report = l.rejections.admit({}, std::move(ev), now)) {
      event(std::move(*report));
    }
  }

  void emit(const link_state& l, event_kind kind, std::string peer, std::string detail) {
    event(link_event{l.id, kind, std::move(peer), std::move(detail), {}, {}, {}});
  }

  // Every event goes through here: the messages read before it leave first,
  // so the application sees both in the order they happened. Nothing of a
  // closed link gets through.
  void event(link_event ev) {
    if (!deliverable(ev.link)) {
      return;
    }
    flush_batch();
    sink_.on_event(std::move(ev));
  }

  // Messages of links closed since they were read are dropped here.
  // close_link() raises the link's flag, queues the close and only then
  // counts itself in closes_: once that count is seen here, the close is
  // in the queue and is handled later in this same loop turn, so a link
  // never delivers after its close without this check seeing it. The common
  // case (no close since the last batch) costs one atomic load.
  void flush_batch() {
    if (batch_.empty()) {
      return;
    }
    const auto closes = closes_.load(std::memory_order_acquire);
    if (closes != seen_closes_) {
      seen_closes_ = closes;
      std::erase_if(batch_, [this](const inbound& in) { return !deliverable(in.link); });
      if (batch_.empty()) {
        return;
      }
    }
    sink_.on_batch(std::exchange(batch_, {}));
  }

  struct drop_report {
    std::uint64_t pending = 0;
    clock::time_point last_report{};
  };

  const options& opts_;
  const options::curve_config* curve_;  // nullptr: CURVE off
  const detail::dealer_timing timing_;
  const std::string heartbeat_frame_;
  detail::outbound_queue& queue_;
  shared_counters& counters_;
  const std::atomic<std::uint64_t>& closes_;  // close_link() calls so far
  std::uint64_t seen_closes_ = 0;             // ... as flush_batch() last saw them
  sink& sink_;
  zmq::context_t ctx_;
  std::optional<zmq::socket_t> zap_;  // the ZAP handler (CURVE servers only)
  std::mt19937_64 rng_;
  const std::size_t static_links_;  // add_*() links: links_[0, static_links_), id - 1
  std::vector<std::unique_ptr<link_state>> links_;
  std::unordered_map<link_id, std::size_t> dynamic_pos_;  // open_dealer() links: id -> index in links_
  std::vector<zmq::message_t> frames_;
  std::string peer_;             // the routing id being handled (reused buffer)
  std::vector<inbound> batch_;   // read in this wake-up, not yet delivered
  detail::report_limiter refusals_;  // refused handshakes, per address
  std::map<link_id, drop_report> drops_;
};

// The checks start() makes before any socket exists, so that a
// misconfigured program says so at once instead of failing every handshake.
// The process's own pair may be absent only when nothing needs it: no server
// link, and every client link brings its own pair (a gateway whose links are
// all opened later with their charge points' pairs).
status check_curve(const options& opts, const std::vector<link_config>& links) {
  if (!opts.curve) {
    return ok_value;
  }
  const auto& curve = *opts.curve;
  if (has_pair(curve.own)) {
    if (auto problem = key_pair_problem(curve.own, "this process's own key pair")) {
      return error{errc::config, std::move(*problem)};
    }
  }
  for (const auto& l : links) {
    const bool server = l.kind == link_kind::router || l.kind == link_kind::publisher;
    if (server && !has_pair(curve.own)) {
      return error{errc::config, "CURVE is on but this process has no key pair of its own for " + l.endpoint};
    }
    if (server && !curve.ring) {
      return error{errc::config, "CURVE is on but no key ring says whom " + l.endpoint + " admits"};
    }
    if (!server) {
      if (auto problem = client_key_problem(curve, l)) {
        return error{errc::config, std::move(*problem)};
      }
    }
  }
  return ok_value;
}

} // namespace

struct transport::impl {
  explicit impl(options o) : opts(std::move(o)), queue(opts.max_queued_bytes) {}

  link_id add(link_kind kind, std::string endpoint, std::string extra, std::string server_key = {},
              std::optional<security::key_pair> own = std::nullopt) {
    links.push_back(link_config{kind, std::move(endpoint), std::move(extra), std::move(server_key), std::move(own)});
    gates.emplace_back();
    return static_cast<link_id>(links.size());
  }

  // An add_*() link; null for any other id.
  const link_config* find(link_id id) const {
    if (id == 0 || id > links.size()) {
      return nullptr;
    }
    return &links[id - 1];
  }

  // An open_dealer() link that close_link() has not closed; null otherwise.
  // The caller holds `dynamic_mutex` (shared is enough).
  detail::dynamic_link* find_dynamic(link_id id) const {
    const auto it = dynamic.find(id);
    return it == dynamic.end() ? nullptr : it->second.get();
  }

  options opts;
  std::vector<link_config> links;  // written before start(), read-only afterwards
  // One per link (used by DEALERs): a deque, because a gate holds a mutex
  // and must not move; grows only before start().
  std::deque<detail::session_gate> gates;
  detail::outbound_queue queue;
  shared_counters counters;
  std::mutex lifecycle;  // serialises start() and stop()
  bool started = false;
  std::thread thread;

  // Links opened at run time. Ids continue after the add_*() links and are
  // never reused (next_id only grows; 0 until start() succeeded), so a stale
  // id can never name a newer link. The registry is what send() and
  // close_link() consult on application threads; the transport thread keeps
  // its own table and learns of changes through the queue.
  std::atomic<link_id> next_id{0};
  mutable std::shared_mutex dynamic_mutex;
  std::unordered_map<link_id, std::shared_ptr<detail::dynamic_link>> dynamic;
  std::atomic<std::uint64_t> closes{0};  // close_link() calls that closed something (see flush_batch)
};

transport::transport(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

transport::~transport() {
  stop();
}

link_id transport::add_router(std::string bind_endpoint) {
  return impl_->add(link_kind::router, std::move(bind_endpoint), {});
}

link_id transport::add_dealer(std::string connect_endpoint, std::string identity_prefix, std::string server_key,
                              std::optional<security::key_pair> own) {
  return impl_->add(link_kind::dealer, std::move(connect_endpoint), std::move(identity_prefix), std::move(server_key),
                    std::move(own));
}

link_id transport::add_publisher(std::string bind_endpoint) {
  return impl_->add(link_kind::publisher, std::move(bind_endpoint), {});
}

link_id transport::add_subscriber(std::string connect_endpoint, std::string topic, std::string server_key) {
  return impl_->add(link_kind::subscriber, std::move(connect_endpoint), std::move(topic), std::move(server_key));
}

status transport::start(sink& s) {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->started || impl_->queue.closed()) {
    return error{errc::invalid_state, "the transport was already started or stopped"};
  }
  if (auto st = check_curve(impl_->opts, impl_->links); !st) {
    impl_->queue.close();
    return st;
  }
  impl_->started = true;
  std::promise<status> ready;
  auto result = ready.get_future();
  // The thread makes the sockets itself: a socket belongs to the thread that
  // created it, and bind errors travel back through the promise.
  impl_->thread = std::thread([im = impl_.get(), &s, ready = std::move(ready)]() mutable {
    // Named so that gdb and top show which thread is the network.
    ::pthread_setname_np(::pthread_self(), "evnet-transport");
    std::optional<worker> w;
    try {
      w.emplace(im->opts, im->links, im->gates, im->queue, im->counters, im->closes, s);
      auto st = w->open(clock::now());
      const bool ok = st.ok();
      ready.set_value(std::move(st));
      if (!ok) {
        return;
      }
    } catch (const std::exception& e) {
      ready.set_value(error{errc::transport_failed, std::string("cannot start the transport: ") + e.what()});
      return;
    }
    w->run();
  });
  auto st = result.get();
  if (!st) {
    impl_->queue.close();
    impl_->thread.join();
    return st;
  }
  // From here on open_dealer() may allocate ids.
  impl_->next_id.store(static_cast<link_id>(impl_->links.size() + 1), std::memory_order_release);
  return st;
}

link_id transport::open_dealer(std::string connect_endpoint, std::string identity_prefix, std::string server_key,
                               std::optional<security::key_pair> own) {
  auto& im = *impl_;
  // Allocated here, at once, so the caller can send() on it right away.
  // Before start() (0) or once the ids ran out there is no id to give.
  link_id id = im.next_id.load(std::memory_order_acquire);
  do {
    if (id == 0 || id == std::numeric_limits<link_id>::max()) {
      return 0;
    }
  } while (!im.next_id.compare_exchange_weak(id, id + 1, std::memory_order_acq_rel));
  auto shared = std::make_shared<detail::dynamic_link>();
  shared->endpoint = std::move(connect_endpoint);
  shared->identity_prefix = std::move(identity_prefix);
  shared->server_key = std::move(server_key);
  shared->own = std::move(own);
  {
    std::unique_lock lock(im.dynamic_mutex);
    im.dynamic.emplace(id, shared);
  }
  detail::outbound item;
  item.what = detail::outbound::op::open;
  item.link = id;
  item.opened = std::move(shared);
  if (!im.queue.push(std::move(item))) {
    std::unique_lock lock(im.dynamic_mutex);  // stopped: there is no link
    im.dynamic.erase(id);
    return 0;
  }
  return id;
}

void transport::close_link(link_id link) {
  auto& im = *impl_;
  std::shared_ptr<detail::dynamic_link> closing;
  {
    std::unique_lock lock(im.dynamic_mutex);
    const auto it = im.dynamic.find(link);
    if (it == im.dynamic.end()) {
      return;
    }
    closing = std::move(it->second);
    im.dynamic.erase(it);
  }
  // The order matters (see worker::flush_batch): the flag, then the close
  // in the queue, then the count that tells the transport thread to look.
  closing->closed.store(true, std::memory_order_release);
  detail::outbound item;
  item.what = detail::outbound::op::close;
  item.link = link;
  (void)im.queue.push(std::move(item));
  im.closes.fetch_add(1, std::memory_order_acq_rel);
}

bool transport::send(link_id link, const std::string& peer, const protocol::message& m) {
  const auto* cfg = impl_->find(link);
  if (cfg == nullptr) {
    // An open_dealer() link: its gate stamps the session as for any DEALER.
    std::optional<std::uint64_t> session;
    {
      std::shared_lock lock(impl_->dynamic_mutex);
      auto* dyn = impl_->find_dynamic(link);
      if (dyn == nullptr) {
        return false;  // never opened, or closed
      }
      session = dyn->gate.admit();
    }
    if (!session) {
      return !impl_->queue.closed();
    }
    detail::outbound item;
    item.link = link;
    item.session = *session;
    item.payload = protocol::encode(m);
    return impl_->queue.push(std::move(item));
  }
  if (cfg->kind != link_kind::router && cfg->kind != link_kind::dealer) {
    return false;
  }
  detail::outbound item;
  item.link = link;
  if (cfg->kind == link_kind::router) {
    item.address = peer;
  } else {
    // A DEALER frame belongs to the session up right now, or to none: then
    // it is dropped here, counted, and reported at the next `connected`.
    const auto session = impl_->gates[link - 1].admit();
    if (!session) {
      return !impl_->queue.closed();
    }
    item.session = *session;
  }
  item.payload = protocol::encode(m);
  return impl_->queue.push(std::move(item));
}

bool transport::publish(link_id link, const std::string& topic, const protocol::message& m) {
  const auto* cfg = impl_->find(link);
  if (cfg == nullptr || cfg->kind != link_kind::publisher) {
    return false;
  }
  detail::outbound item;
  item.link = link;
  item.address = topic;
  item.payload = protocol::encode(m);
  return impl_->queue.push(std::move(item));
}

void transport::reconnect(link_id link) {
  const auto* cfg = impl_->find(link);
  if (cfg == nullptr) {
    std::shared_lock lock(impl_->dynamic_mutex);
    if (impl_->find_dynamic(link) == nullptr) {
      return;
    }
  } else if (cfg->kind != link_kind::dealer) {
    return;
  }
  detail::outbound item;
  item.what = detail::outbound::op::reconnect;
  item.link = link;
  (void)impl_->queue.push(std::move(item));
}

void transport::subscribe(link_id link, std::string endpoint) {
  const auto* cfg = impl_->find(link);
  if (cfg == nullptr || cfg->kind != link_kind::subscriber) {
    return;
  }
  detail::outbound item;
  item.what = detail::outbound::op::subscribe;
  item.link = link;
  item.address = std::move(endpoint);
  (void)impl_->queue.push(std::move(item));
}

void transport::revoke(std::string identity) {
  detail::outbound item;
  item.what = detail::outbound::op::revoke;
  item.address = std::move(identity);
  (void)impl_->queue.push(std::move(item));
}

counters transport::stats() const {
  const auto& c = impl_->counters;
  counters out;
  out.queue_full = c.queue_full.load(std::memory_order_relaxed);
  out.not_admitted = c.not_admitted.load(std::memory_order_relaxed);
  out.cut_off_frames = c.cut_off_frames.load(std::memory_order_relaxed);
  out.cut_off_peers = c.cut_off_peers.load(std::memory_order_relaxed);
  out.admitted = c.admitted.load(std::memory_order_relaxed);
  out.refused = c.refused.load(std::memory_order_relaxed);
  return out;
}

void transport::stop() {
  impl_->queue.close();
  std::lock_guard lock(impl_->lifecycle);
  if (!impl_->thread.joinable()) {
    return;
  }
  if (impl_->thread.get_id() == std::this_thread::get_id()) {
    // Called from a sink callback: the loop exits when the callback returns;
    // the destructor (on another thread) joins.
    return;
  }
  impl_->thread.join();
}

} // namespace evnet::transport

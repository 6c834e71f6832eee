#include "evnet/transport.hpp"

#include "dealer_liveness.hpp"
#include "outbound_queue.hpp"
#include "peer_table.hpp"
#include "session_gate.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

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
  }
  return "unknown";
}

namespace {

using detail::clock;
using std::chrono::milliseconds;

enum class link_kind { router, dealer, publisher, subscriber };

struct link_config {
  link_kind kind = link_kind::router;
  std::string endpoint;
  std::string extra;  // DEALER: identity prefix; SUB: topic
};

// More frames than any valid message has: enough to count, not to store a
// hostile peer's thousand-part message.
constexpr std::size_t max_kept_frames = 3;
// Messages read from one socket per loop turn, so that one busy peer cannot
// starve the other sockets, the outbound queue or the timers.
constexpr int recv_batch = 256;
constexpr milliseconds idle_poll{1000};
// A DEALER does one thing per due() answer; a turn needs at most close, or
// open then heartbeat. The cap only guards against a loop that never settles.
constexpr int max_dealer_actions = 4;

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

// Everything the transport thread owns. Constructed, used and destroyed on
// that thread only; the context is declared first so it outlives the sockets.
// This is the one place that reads the clock: once per loop turn, passed as
// `now` to every decision (dealer_liveness, peer_table, rejection_limiter).
class worker {
public:
  worker(const options& opts, const std::vector<link_config>& links, std::deque<detail::session_gate>& gates,
         detail::outbound_queue& queue, sink& s)
      : opts_(opts),
        timing_(detail::dealer_timing_for(opts)),
        heartbeat_frame_(protocol::encode(protocol::make(opts.sender_name, protocol::heartbeat{}))),
        queue_(queue),
        sink_(s),
        ctx_(1),
        rng_(std::random_device{}()) {
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
    for (auto& l : links_) {
      auto st = open_link(*l, now);
      if (!st) {
        return st;
      }
    }
    return ok_value;
  }

  void run() {
    std::vector<zmq_pollitem_t> items;
    std::vector<link_state*> owners;
    auto now = clock::now();
    for (;;) {
      items.clear();
      owners.clear();
      items.push_back(zmq_pollitem_t{nullptr, queue_.fd(), ZMQ_POLLIN, 0});
      for (auto& l : links_) {
        if (l->socket && l->config.kind != link_kind::publisher) {
          items.push_back(zmq_pollitem_t{l->socket->handle(), 0, ZMQ_POLLIN, 0});
          owners.push_back(l.get());
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
      // DEALER sockets, which would invalidate the poll items.
      for (std::size_t i = 1; i < items.size(); ++i) {
        if ((items[i].revents & ZMQ_POLLIN) != 0) {
          drain_inbound(*owners[i - 1], now);
        }
      }
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

    link_id id;
    link_config config;
    std::optional<zmq::socket_t> socket;  // DEALER: empty while waiting to reconnect

    // DEALER (client half of the Paranoid Pirate pattern).
    std::string routing_id;
    detail::dealer_liveness live;
    detail::session_gate& gate;  // shared with send() on application threads

    // ROUTER (server half).
    detail::peer_table peers;

    // DEALER and SUB have one peer: rate-limit its rejections here.
    detail::rejection_limiter rejections;
  };

  void configure(zmq::socket_t& s) const {
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(opts_.max_frame_size));
    s.set(zmq::sockopt::reconnect_ivl, static_cast<int>(opts_.reconnect_min.count()));
    s.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(opts_.reconnect_max.count()));
    s.set(zmq::sockopt::sndhwm, opts_.send_hwm);
  }

  status open_link(link_state& l, clock::time_point now) {
    const auto& ep = l.config.endpoint;
    try {
      switch (l.config.kind) {
        case link_kind::router: {
          l.socket.emplace(ctx_, zmq::socket_type::router);
          configure(*l.socket);
          // A send to an unknown or departed peer must fail loudly
          // (EHOSTUNREACH), not vanish.
          l.socket->set(zmq::sockopt::router_mandatory, 1);
          break;
        }
        case link_kind::publisher: {
          l.socket.emplace(ctx_, zmq::socket_type::pub);
          configure(*l.socket);
          break;
        }
        case link_kind::subscriber: {
          l.socket.emplace(ctx_, zmq::socket_type::sub);
          configure(*l.socket);
          l.socket->set(zmq::sockopt::subscribe, l.config.extra);
          break;
        }
        case link_kind::dealer: {
          return open_dealer(l, now);
        }
      }
    } catch (const zmq::error_t& e) {
      return error{errc::socket_failed, "cannot create a socket for " + ep + ": " + zmq_error_text(e.num())};
    }
    try {
      if (l.config.kind == link_kind::subscriber) {
        l.socket->connect(ep);
      } else {
        l.socket->bind(ep);
      }
    } catch (const zmq::error_t& e) {
      l.socket.reset();
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
      // One socket, one TCP connection, one server session. libzmq would
      // otherwise reconnect a broken connection by itself, under the old
      // identity, and deliver what it had queued to whatever listens there
      // now (a restarted server that refuses it). Without that, a broken
      // connection falls silent, the liveness check closes the socket and
      // the next one starts a new session under a new identity.
      l.socket->set(zmq::sockopt::reconnect_ivl, -1);
      l.socket->set(zmq::sockopt::routing_id, l.routing_id);
      l.socket->connect(ep);
    } catch (const zmq::error_t& e) {
      l.socket.reset();
      return error{errc::connect_failed, "cannot connect to " + ep + ": " + zmq_error_text(e.num())};
    }
    l.live.opened(now);
    return ok_value;
  }

  milliseconds poll_timeout(clock::time_point now) const {
    auto deadline = now + idle_poll;
    for (const auto& l : links_) {
      if (l->config.kind == link_kind::dealer) {
        deadline = std::min(deadline, l->live.next_deadline());
      } else if (l->config.kind == link_kind::router) {
        deadline = std::min(deadline, l->peers.next_scan());
      }
    }
    if (deadline <= now) {
      return milliseconds{0};
    }
    // Round up: waking a fraction of a millisecond early would spin.
    return std::chrono::ceil<milliseconds>(deadline - now);
  }

  void on_timers(clock::time_point now) {
    for (auto& lp : links_) {
      auto& l = *lp;
      if (l.config.kind == link_kind::dealer) {
        dealer_timers(l, now);
      } else if (l.config.kind == link_kind::router && l.peers.scan_due(now)) {
        for (auto& peer : l.peers.expire(now)) {
          emit(l, event_kind::peer_gone, std::move(peer),
               "silent for more than " + std::to_string(l.peers.timeout().count()) + " ms");
        }
      }
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
          close_dealer(l);
          const auto wait = l.live.closed(now);
          std::string detail = "no answer from " + l.config.endpoint + " for " +
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
    l.socket.reset();
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
    if (item.link == 0 || item.link > links_.size()) {
      return;
    }
    auto& l = *links_[item.link - 1];
    if (item.what == detail::outbound::op::reconnect) {
      if (l.config.kind == link_kind::dealer) {
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
        if (!send_to_peer(l, item.address, item.payload, why)) {
          emit(l, event_kind::send_failed, std::move(item.address), std::move(why));
        }
        break;
      }
      case link_kind::dealer: {
        send_dealer(l, item);
        break;
      }
      case link_kind::publisher: {
        // PUB never blocks and drops on a full queue by design; nothing to report.
        (void)l.socket->send(zmq::buffer(item.address), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        (void)l.socket->send(zmq::buffer(item.payload), zmq::send_flags::dontwait);
        break;
      }
      case link_kind::subscriber: {
        break;
      }
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

  // [identity, payload] without ever blocking. With router_mandatory the
  // first frame fails for an unknown peer (EHOSTUNREACH) or a full queue
  // (EAGAIN); once it is accepted the rest of the message always is.
  bool send_to_peer(link_state& l, const std::string& peer, const std::string& payload, std::string& why) {
    try {
      if (!l.socket->send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        why = "send queue full";
        return false;
      }
      (void)l.socket->send(zmq::buffer(payload), zmq::send_flags::dontwait);
      return true;
    } catch (const zmq::error_t& e) {
      why = e.num() == EHOSTUNREACH ? "peer unknown or gone" : zmq_error_text(e.num());
      return false;
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

  void on_router_message(link_state& l, std::size_t count, clock::time_point now) {
    std::string peer = frames_[0].to_string();
    // A peer heard again after peer_gone is simply new: the application
    // forgot it and will ask it to say hello again.
    (void)l.peers.heard(peer, now);
    if (count != 2) {
      reject_router(l, peer, error{errc::malformed, "expected one frame, got " + std::to_string(count - 1)}, now);
      return;
    }
    auto decoded = protocol::decode(frames_[1].data(), frames_[1].size());
    if (!decoded) {
      reject_router(l, peer, decoded.err(), now);
      return;
    }
    if (decoded->is<protocol::heartbeat>()) {
      std::string ignored;
      (void)send_to_peer(l, peer, heartbeat_frame_, ignored);
      return;
    }
    sink_.on_message(inbound{l.id, std::move(peer), std::move(decoded).value()});
  }

  // Tells the peer what was wrong (it may be a buggy client worth helping)
  // and the application once per flood.
  void reject_router(link_state& l, std::string peer, const error& err, clock::time_point now) {
    const auto reply = protocol::encode(protocol::make(opts_.sender_name, protocol::error_reply{err.code, err.message}));
    std::string ignored;
    (void)send_to_peer(l, peer, reply, ignored);
    if (auto text = l.peers.admit_rejection(peer, rejection_text(err), now)) {
      emit(l, event_kind::rejected, std::move(peer), std::move(*text));
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
      emit(l, event_kind::connected, {}, "connected to " + l.config.endpoint + " as " + l.routing_id);
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
    sink_.on_message(inbound{l.id, {}, std::move(decoded).value()});
  }

  void on_subscriber_message(link_state& l, std::size_t count, clock::time_point now) {
    if (count != 2) {
      reject_single(l,
                    error{errc::malformed, "expected [topic, payload], got " + std::to_string(count) + " frames"},
                    now);
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
    sink_.on_message(inbound{l.id, {}, std::move(decoded).value()});
  }

  // DEALER and SUB cannot answer; only the application hears about it.
  void reject_single(link_state& l, const error& err, clock::time_point now) {
    if (auto text = l.rejections.admit(rejection_text(err), now)) {
      emit(l, event_kind::rejected, {}, std::move(*text));
    }
  }

  void emit(const link_state& l, event_kind kind, std::string peer, std::string detail) {
    sink_.on_event(link_event{l.id, kind, std::move(peer), std::move(detail)});
  }

  const options& opts_;
  const detail::dealer_timing timing_;
  const std::string heartbeat_frame_;
  detail::outbound_queue& queue_;
  sink& sink_;
  zmq::context_t ctx_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<link_state>> links_;
  std::vector<zmq::message_t> frames_;
};

} // namespace

struct transport::impl {
  explicit impl(options o) : opts(std::move(o)) {}

  link_id add(link_kind kind, std::string endpoint, std::string extra) {
    links.push_back(link_config{kind, std::move(endpoint), std::move(extra)});
    gates.emplace_back();
    return static_cast<link_id>(links.size());
  }

  const link_config* find(link_id id) const {
    if (id == 0 || id > links.size()) {
      return nullptr;
    }
    return &links[id - 1];
  }

  options opts;
  std::vector<link_config> links;  // written before start(), read-only afterwards
  // One per link (used by DEALERs): a deque, because a gate holds a mutex
  // and must not move; grows only before start().
  std::deque<detail::session_gate> gates;
  detail::outbound_queue queue;
  std::mutex lifecycle;  // serialises start() and stop()
  bool started = false;
  std::thread thread;
};

transport::transport(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

transport::~transport() {
  stop();
}

link_id transport::add_router(std::string bind_endpoint) {
  return impl_->add(link_kind::router, std::move(bind_endpoint), {});
}

link_id transport::add_dealer(std::string connect_endpoint, std::string identity_prefix) {
  return impl_->add(link_kind::dealer, std::move(connect_endpoint), std::move(identity_prefix));
}

link_id transport::add_publisher(std::string bind_endpoint) {
  return impl_->add(link_kind::publisher, std::move(bind_endpoint), {});
}

link_id transport::add_subscriber(std::string connect_endpoint, std::string topic) {
  return impl_->add(link_kind::subscriber, std::move(connect_endpoint), std::move(topic));
}

status transport::start(sink& s) {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->started || impl_->queue.closed()) {
    return error{errc::invalid_state, "the transport was already started or stopped"};
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
      w.emplace(im->opts, im->links, im->gates, im->queue, s);
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
  }
  return st;
}

bool transport::send(link_id link, const std::string& peer, const protocol::message& m) {
  const auto* cfg = impl_->find(link);
  if (cfg == nullptr || (cfg->kind != link_kind::router && cfg->kind != link_kind::dealer)) {
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
  if (cfg == nullptr || cfg->kind != link_kind::dealer) {
    return;
  }
  detail::outbound item;
  item.what = detail::outbound::op::reconnect;
  item.link = link;
  (void)impl_->queue.push(std::move(item));
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

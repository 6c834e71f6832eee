#pragma once

// What the socket tests share: free ports, fast timings, a sink that
// records everything and lets a test wait (bounded) for what it expects,
// an echo server, a client, and raw ZeroMQ sockets playing misbehaving peers.

#include "evnet/security/key_ring.hpp"
#include "evnet/transport.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tr = evnet::transport;
namespace proto = evnet::protocol;
using namespace std::chrono_literals;

namespace harness {

constexpr auto patience = 5s;  // upper bound for anything that should happen

// A port nobody listens on right now: the kernel picks it for a throwaway socket.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline std::string endpoint(int port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

inline tr::options fast_options(std::string name) {
  tr::options o;
  o.heartbeat_interval = 100ms;
  o.liveness = 3;
  o.peer_timeout = 300ms;
  o.reconnect_min = 100ms;
  o.reconnect_max = 800ms;
  o.sender_name = std::move(name);
  return o;
}

// Records everything the transport reports; tests wait on it with a bound
// instead of sleeping.
class recorder : public tr::sink {
public:
  struct view {
    const std::vector<tr::inbound>& messages;
    const std::vector<tr::link_event>& events;

    std::size_t count(tr::event_kind k, std::string_view peer = {}) const {
      return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const auto& e) {
        return e.kind == k && (peer.empty() || e.peer == peer);
      }));
    }
  };

  void on_message(tr::inbound in) override {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(in));
    cv_.notify_all();
  }

  void on_event(tr::link_event ev) override {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(ev));
    cv_.notify_all();
  }

  bool wait_for(const std::function<bool(const view&)>& pred, std::chrono::milliseconds timeout = patience) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pred(view{messages_, events_}); });
  }

  bool wait_event(tr::event_kind k, std::size_t n = 1, std::chrono::milliseconds timeout = patience) {
    return wait_for([&](const view& v) { return v.count(k) >= n; }, timeout);
  }

  std::vector<tr::inbound> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  std::vector<tr::link_event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

  std::size_t count(tr::event_kind k, std::string_view peer = {}) {
    std::lock_guard lock(mutex_);
    return view{messages_, events_}.count(k, peer);
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<tr::inbound> messages_;
  std::vector<tr::link_event> events_;
};

// A ROUTER transport that answers every request with an ack carrying the
// request's correlation, addressed to the requesting peer.
class echo_sink : public recorder {
public:
  void attach(tr::transport* t, tr::link_id link) {
    transport_ = t;
    link_ = link;
  }

  void on_message(tr::inbound in) override {
    if (transport_ != nullptr && in.link == link_) {
      transport_->send(link_, in.peer, proto::make("central", proto::ack{true, in.peer}, in.msg.correlation));
    }
    recorder::on_message(std::move(in));
  }

private:
  tr::transport* transport_ = nullptr;
  tr::link_id link_ = 0;
};

// An echo server; CURVE tests pass options with their keys.
struct echo_server {
  explicit echo_server(int port, tr::options o = fast_options("central")) : t(std::move(o)) {
    link = t.add_router(endpoint(port));
    sink.attach(&t, link);
    auto st = t.start(sink);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string{} : st.err().message));
  }

  echo_sink sink;
  tr::transport t;
  tr::link_id link = 0;
};

struct client {
  client(int port, std::string prefix) : t(fast_options(prefix)) {
    link = t.add_dealer(endpoint(port), std::move(prefix));
    auto st = t.start(sink);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string{} : st.err().message));
  }

  recorder sink;
  tr::transport t;
  tr::link_id link = 0;
};

// A plain ZeroMQ socket playing a misbehaving peer.
struct raw_socket {
  raw_socket(zmq::socket_type type, const std::string& routing_id) : socket(ctx, type) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(std::chrono::milliseconds(patience).count()));
    if (!routing_id.empty()) {
      socket.set(zmq::sockopt::routing_id, routing_id);
    }
  }

  zmq::context_t ctx;
  zmq::socket_t socket;
};

inline bool is_ack_for(const tr::inbound& in, std::uint64_t correlation) {
  return in.msg.is<proto::ack>() && in.msg.correlation == correlation;
}

inline bool has_ack_for(const recorder::view& v, std::uint64_t correlation) {
  return std::any_of(v.messages.begin(), v.messages.end(), [&](const auto& in) { return is_ack_for(in, correlation); });
}

inline bool has_event(const recorder::view& v, tr::event_kind kind,
                      const std::function<bool(const tr::link_event&)>& pred) {
  return std::any_of(v.events.begin(), v.events.end(), [&](const auto& e) { return e.kind == kind && pred(e); });
}

// ---- CURVE -----------------------------------------------------------------------

inline evnet::security::key_pair fresh_pair() {
  char pub[41] = {};
  char secret[41] = {};
  BOOST_REQUIRE(zmq_curve_keypair(pub, secret) == 0);
  return evnet::security::key_pair{pub, secret};
}

inline tr::options curve_options(std::string name, const evnet::security::key_pair& own,
                                 std::shared_ptr<const evnet::security::key_ring> ring = {}) {
  auto o = fast_options(std::move(name));
  o.curve = tr::options::curve_config{own, std::move(ring)};
  return o;
}

} // namespace harness

namespace evnet::transport {
// Lets Boost.Test print event kinds in failed assertions.
inline std::ostream& operator<<(std::ostream& os, event_kind k) {
  return os << to_string(k);
}
} // namespace evnet::transport

using namespace harness;

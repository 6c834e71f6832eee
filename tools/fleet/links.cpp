#include "links.hpp"

#include "evnet/protocol.hpp"

#include <cerrno>

namespace evnet::fleet {

std::string tcp_endpoint(const std::string& host, std::uint32_t port) {
  std::string h = host.empty() ? std::string("127.0.0.1") : host;
  if (h.find(':') != std::string::npos && h.front() != '[') {
    h = "[" + h + "]";
  }
  return "tcp://" + h + ":" + std::to_string(port);
}

namespace {

// IPv6 only where the address needs it. With ZMQ_IPV6 on, libzmq 4.3.4
// names a connection's endpoint differently when the TCP connection breaks
// (reconnect_ivl -1), fails to match it, and keeps the dead pipe: POLLOUT
// then never goes away and a closed connection is only noticed by its
// silence (3 s). An IPv4 literal (127.0.0.1, the bench) keeps it off.
bool needs_ipv6(const std::string& endpoint) {
  const auto host_start = endpoint.find("://");
  const auto colon = endpoint.rfind(':');
  if (host_start == std::string::npos || colon == std::string::npos || colon <= host_start + 3) {
    return true;
  }
  const std::string host = endpoint.substr(host_start + 3, colon - host_start - 3);
  return host.empty() || host.find_first_not_of("0123456789.") != std::string::npos;
}

void common_options(zmq::socket_t& s, const socket_settings& set, const std::string& endpoint) {
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(protocol::max_frame_size));
  s.set(zmq::sockopt::ipv6, needs_ipv6(endpoint) ? 1 : 0);
  if (set.own != nullptr) {
    s.set(zmq::sockopt::curve_serverkey, set.server_key);
    s.set(zmq::sockopt::curve_publickey, set.own->public_key);
    s.set(zmq::sockopt::curve_secretkey, set.own->secret_key);
  }
}

} // namespace

std::unique_ptr<zmq::socket_t> open_dealer(zmq::context_t& ctx, const std::string& endpoint, const socket_settings& s,
                                           int& error_out) {
  try {
    auto sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    common_options(*sock, s, endpoint);
    sock->set(zmq::sockopt::reconnect_ivl, -1);
    sock->set(zmq::sockopt::routing_id, s.routing_id);
    if (!s.monitor_endpoint.empty() &&
        zmq_socket_monitor(sock->handle(), s.monitor_endpoint.c_str(), attempt_events) != 0) {
      throw zmq::error_t();
    }
    sock->connect(endpoint);
    error_out = 0;
    return sock;
  } catch (const zmq::error_t& e) {
    error_out = e.num();
    return nullptr;
  }
}

std::unique_ptr<zmq::socket_t> open_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                                               const socket_settings& s, int& error_out) {
  try {
    auto sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::sub);
    common_options(*sock, s, endpoint);
    sock->set(zmq::sockopt::reconnect_ivl, 1000);
    sock->set(zmq::sockopt::reconnect_ivl_max, 32000);
    sock->set(zmq::sockopt::subscribe, "cp");
    sock->connect(endpoint);
    error_out = 0;
    return sock;
  } catch (const zmq::error_t& e) {
    error_out = e.num();
    return nullptr;
  }
}

int send_frame(zmq::socket_t& s, const void* data, std::size_t size) {
  for (;;) {
    if (zmq_send(s.handle(), data, size, ZMQ_DONTWAIT) >= 0) {
      return 0;
    }
    if (errno != EINTR) {
      return errno;
    }
  }
}

int socket_events(zmq::socket_t& s) {
  int events = 0;
  std::size_t size = sizeof events;
  for (;;) {
    if (zmq_getsockopt(s.handle(), ZMQ_EVENTS, &events, &size) == 0) {
      return events;
    }
    if (errno != EINTR) {
      return 0;
    }
  }
}

} // namespace evnet::fleet

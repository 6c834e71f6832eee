#pragma once

// A plain TCP relay on loopback that records every byte it carries, for
// the test that shows what an eavesdropper on the network sees. It listens
// on one port, and for each connection it accepts it opens one to the
// target and copies bytes both ways until either side closes. One thread,
// poll(2). What it copied is kept per stream (one per connection and
// direction), each in order, so that a pattern split across two reads of
// one stream is still found, and bytes of different connections never run
// into each other.
//
// Header-only: only the test that needs it compiles it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace evnet::testing {

class tcp_relay {
public:
  // Listens on listen_address:listen_port (an IPv4 loopback address such as
  // "127.0.0.2", so a relay may use the same port number as the server it
  // stands in front of) and forwards to 127.0.0.1:target_port.
  tcp_relay(std::uint16_t listen_port, std::uint16_t target_port, const char* listen_address = "127.0.0.1")
      : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) {
      throw std::runtime_error("relay: socket failed");
    }
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = loopback(listen_port);
    if (::inet_pton(AF_INET, listen_address, &addr.sin_addr) != 1) {
      ::close(listener_);
      throw std::runtime_error(std::string("relay: bad listen address ") + listen_address);
    }
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 64) != 0) {
      ::close(listener_);
      throw std::runtime_error("relay: cannot listen on port " + std::to_string(listen_port));
    }
    thread_ = std::thread([this] { run(); });
  }

  ~tcp_relay() {
    stop_ = true;
    thread_.join();
    for (const auto& p : pairs_) {
      ::close(p.in);
      ::close(p.out);
    }
    ::close(listener_);
  }

  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  // Every byte carried so far: each stream's bytes in order, one stream
  // after another.
  std::string recorded() const {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& s : streams_) {
      all += s;
    }
    return all;
  }
  // Each stream (connection and direction) so far.
  std::vector<std::string> streams() const {
    std::lock_guard lock(mutex_);
    return streams_;
  }
  // Did any one stream carry `needle`?
  bool carried(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    for (const auto& s : streams_) {
      if (s.find(needle) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& s : streams_) {
      n += s.size();
    }
    return n;
  }
  std::size_t connections() const { return connections_.load(); }

private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  void accept_one() {
    const int in = ::accept(listener_, nullptr, nullptr);
    if (in < 0) {
      return;
    }
    const int out = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = loopback(target_port_);
    if (out < 0 || ::connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(in);
      if (out >= 0) {
        ::close(out);
      }
      return;
    }
    {
      std::lock_guard lock(mutex_);
      streams_.emplace_back();
      streams_.emplace_back();
      pairs_.push_back(relay_pair{in, out, streams_.size() - 2, streams_.size() - 1});
    }
    ++connections_;
  }

  // Copies what is readable on `from` to `to`, recording it in stream
  // `stream`; false when the pair is done.
  bool copy(int from, int to, std::size_t stream) {
    char buf[16384];
    const auto n = ::read(from, buf, sizeof buf);
    if (n <= 0) {
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      streams_[stream].append(buf, static_cast<std::size_t>(n));
    }
    std::size_t sent = 0;
    while (sent < static_cast<std::size_t>(n)) {
      // send(MSG_NOSIGNAL), not write(): a side that went away must end
      // the pair, not raise SIGPIPE in the test process.
      const auto w = ::send(to, buf + sent, static_cast<std::size_t>(n) - sent, MSG_NOSIGNAL);
      if (w <= 0) {
        return false;
      }
      sent += static_cast<std::size_t>(w);
    }
    return true;
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back(pollfd{listener_, POLLIN, 0});
      for (const auto& p : pairs_) {
        fds.push_back(pollfd{p.in, POLLIN, 0});
        fds.push_back(pollfd{p.out, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) {
        continue;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        accept_one();
      }
      std::vector<relay_pair> alive;
      for (std::size_t i = 0; i < (fds.size() - 1) / 2; ++i) {
        const auto p = pairs_[i];
        bool ok = true;
        if ((fds[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          ok = copy(p.in, p.out, p.upstream);
        }
        if (ok && (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          ok = copy(p.out, p.in, p.downstream);
        }
        if (ok) {
          alive.push_back(p);
        } else {
          ::close(p.in);
          ::close(p.out);
        }
      }
      // Pairs accepted in this turn come after the polled ones.
      for (std::size_t i = (fds.size() - 1) / 2; i < pairs_.size(); ++i) {
        alive.push_back(pairs_[i]);
      }
      pairs_ = std::move(alive);
    }
  }

  // One relayed connection: the accepted socket, the one to the target, and
  // the streams recording each direction.
  struct relay_pair {
    int in = -1;
    int out = -1;
    std::size_t upstream = 0;    // in -> out (client to server)
    std::size_t downstream = 0;  // out -> in
  };

  std::uint16_t target_port_;
  int listener_ = -1;
  std::vector<relay_pair> pairs_;  // relay thread only (and the destructor after join)
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> streams_;  // guarded by mutex_
  std::thread thread_;
};

} // namespace evnet::testing

#pragma once

// A raw ZeroMQ DEALER for hostile-input tests: it sends whatever bytes a test
// gives it (garbage, truncated or oversized frames, other versions, unknown
// types, several frames) or well-formed messages a real peer would never
// send, and reads the replies. It does no heartbeating, so a ROUTER forgets
// it after its peer timeout; tests use it for short exchanges.
//
// Header-only, so that only the tests that need ZeroMQ link it.

#include "evnet/protocol.hpp"

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::testing {

class raw_dealer {
public:
  explicit raw_dealer(const std::string& endpoint, std::string identity = {}) : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (!identity.empty()) {
      socket_.set(zmq::sockopt::routing_id, identity);
    }
    socket_.connect(endpoint);
  }

  void send_bytes(std::string_view bytes) { socket_.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none); }

  void send_parts(const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      socket_.send(zmq::buffer(parts[i]), i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

  void send(const protocol::message& m) { send_bytes(protocol::encode(m)); }

  template <class T>
  void send(T body, std::uint64_t correlation = 0, std::string sender = "raw") {
    send(protocol::make(std::move(sender), std::move(body), correlation));
  }

  // The next message that is not a heartbeat, or nullopt after `timeout`.
  // A frame that does not decode throws (failing the test case with the
  // decoder's message), so a test sees it rather than a timeout; no error
  // code of the vocabulary could stand for it without matching some
  // expected reply.
  std::optional<protocol::message> receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, left);
      if ((item.revents & ZMQ_POLLIN) == 0) {
        continue;
      }
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) {
        continue;
      }
      auto decoded = protocol::decode(frame.data(), frame.size());
      if (!decoded) {
        throw std::runtime_error("undecodable frame from the server: " + decoded.err().message);
      }
      if (decoded->is<protocol::heartbeat>()) {
        continue;
      }
      return std::move(decoded).value();
    }
  }

  // The next message of type T (others are skipped), or nullopt after `timeout`.
  template <class T>
  std::optional<T> receive_a(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto m = receive(left);
      if (!m) {
        return std::nullopt;
      }
      if (m->is<T>()) {
        return m->as<T>();
      }
    }
  }

private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// An envelope built by hand, for what protocol::encode() cannot produce
// (a type name no message has).
inline std::string raw_envelope(std::uint64_t version, const std::string& type, const std::string& sender = "raw") {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(5);
  packer.pack(version);
  packer.pack(type);
  packer.pack(sender);
  packer.pack(std::uint64_t{0});
  packer.pack_map(0);
  return std::string(buffer.data(), buffer.size());
}

} // namespace evnet::testing

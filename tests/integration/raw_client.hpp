#pragma once

// Raw ZeroMQ clients for hostile-input and trust tests.
//
// raw_dealer sends whatever bytes a test gives it (garbage, truncated or
// oversized frames, other versions, unknown types, several frames) or
// well-formed messages a real peer would never send, and reads the replies.
// It does no heartbeating of its own, so a ROUTER forgets it after its peer
// timeout; tests use it for short exchanges, or call heartbeat() while they
// wait.
//
// raw_subscriber reads Central's CP stream ([topic, payload] frames) the way
// an outsider would, keeping every frame's bytes for inspection.
//
// Either may be a CURVE client (curve_client: its own pair and the server's
// public key, all Z85) or, without one, a plaintext client, which a server
// with CURVE on must refuse at the handshake.
//
// Header-only, so that only the tests that need ZeroMQ link it. Not
// thread-safe: each object belongs to the test thread that made it.

#include "evnet/protocol.hpp"

#include <zmq.h>
#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::testing {

// What a raw socket needs to be a CURVE client.
struct curve_client {
  std::string public_key;  // own pair, Z85
  std::string secret_key;
  std::string server_key;  // the server's public key, Z85
};

// The Z85 key held by a key file (DIR/<name>.pub or DIR/<name>.key): its
// first line. Throws when the file is missing or holds no 40-character key.
inline std::string read_key_file(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw std::runtime_error("cannot read key file " + path);
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  if (line.size() != 40) {
    throw std::runtime_error("no Z85 key in " + path);
  }
  return line;
}

// The pair `name` ("cp-ALC1", "driver-D1") of key directory `dir`, as a
// client of the server whose public key is in DIR/<server_name>.pub
// ("central", or "cp-ALC1" for that CP's Engine).
inline curve_client client_keys(const std::string& dir, const std::string& name,
                                const std::string& server_name = "central") {
  return curve_client{read_key_file(dir + "/" + name + ".pub"), read_key_file(dir + "/" + name + ".key"),
                      read_key_file(dir + "/" + server_name + ".pub")};
}

// A fresh pair nobody registered, as a client of `server_key`.
inline curve_client unregistered_keys(const std::string& server_key) {
  char pub[41] = {};
  char sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0) {
    throw std::runtime_error("zmq_curve_keypair failed (no CURVE in this libzmq?)");
  }
  return curve_client{pub, sec, server_key};
}

namespace detail {

inline void make_curve_client(zmq::socket_t& s, const std::optional<curve_client>& curve) {
  if (!curve) {
    return;
  }
  s.set(zmq::sockopt::curve_serverkey, curve->server_key);
  s.set(zmq::sockopt::curve_publickey, curve->public_key);
  s.set(zmq::sockopt::curve_secretkey, curve->secret_key);
}

inline std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
}

// Waits until `s` has a message to read; false once `deadline` has passed.
inline bool wait_readable(zmq::socket_t& s, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = left_until(deadline);
    if (left.count() <= 0) {
      return false;
    }
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, left);
    if ((item.revents & ZMQ_POLLIN) != 0) {
      return true;
    }
  }
}

} // namespace detail

class raw_dealer {
public:
  explicit raw_dealer(const std::string& endpoint, std::string identity = {},
                      std::optional<curve_client> curve = std::nullopt)
      : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (!identity.empty()) {
      socket_.set(zmq::sockopt::routing_id, identity);
    }
    detail::make_curve_client(socket_, curve);
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

  // One heartbeat, so that the server keeps this peer while a test waits.
  void heartbeat() { send(protocol::heartbeat{}); }

  // The next message that is not a heartbeat, or nullopt after `timeout`.
  // A frame that does not decode throws (failing the test case with the
  // decoder's message), so a test sees it rather than a timeout; no error
  // code of the vocabulary could stand for it without matching some
  // expected reply.
  std::optional<protocol::message> receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!detail::wait_readable(socket_, deadline)) {
        return std::nullopt;
      }
      zmq::message_t frame;
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) {
        continue;
      }
      last_frame_.assign(static_cast<const char*>(frame.data()), frame.size());
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
      auto m = receive(detail::left_until(deadline));
      if (!m) {
        return std::nullopt;
      }
      if (m->is<T>()) {
        return m->as<T>();
      }
    }
  }

  // The bytes of the last frame receive() read (heartbeats included).
  const std::string& last_frame() const { return last_frame_; }

private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string last_frame_;
};

class raw_subscriber {
public:
  // One frame of the stream: its topic, its payload's bytes, and the payload decoded.
  struct frame {
    std::string topic;
    std::string payload;
    protocol::message msg;
  };

  explicit raw_subscriber(const std::string& endpoint, std::string topic = "cp",
                          std::optional<curve_client> curve = std::nullopt)
      : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::linger, 0);
    detail::make_curve_client(socket_, curve);
    socket_.set(zmq::sockopt::subscribe, topic);
    socket_.connect(endpoint);
  }

  // The next published message that is not a heartbeat (the transport's or
  // the stream's own, which carries nothing but a sequence number), or nullopt after
  // `timeout`. A message that is not [topic, payload] or whose payload does
  // not decode throws, as for raw_dealer.
  std::optional<frame> receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!detail::wait_readable(socket_, deadline)) {
        return std::nullopt;
      }
      std::vector<zmq::message_t> parts;
      for (bool more = true; more;) {
        zmq::message_t part;
        if (!socket_.recv(part, zmq::recv_flags::dontwait)) {
          break;
        }
        more = part.more();
        parts.push_back(std::move(part));
      }
      if (parts.empty()) {
        continue;
      }
      if (parts.size() != 2) {
        throw std::runtime_error("stream message of " + std::to_string(parts.size()) + " frames, expected 2");
      }
      frame f{parts[0].to_string(), parts[1].to_string(), {}};
      auto decoded = protocol::decode(f.payload);
      if (!decoded) {
        throw std::runtime_error("undecodable stream frame: " + decoded.err().message);
      }
      if (decoded->is<protocol::heartbeat>() || decoded->is<protocol::stream_heartbeat>()) {
        continue;
      }
      f.msg = std::move(decoded).value();
      return f;
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

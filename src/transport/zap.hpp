#pragma once

// The decisions behind CURVE admission, kept apart from the sockets so the
// tests can feed them canned input:
//  - judge_zap(): answers one ZAP request (ZeroMQ RFC 27) from the key ring;
//  - handshake_watch: turns a server socket's monitor events into refusals
//    the ZAP handler never sees (a plaintext client, a client that does not
//    hold our server key), each with the client's address when it can be
//    known.
//
// Thread-safety: none; used by the transport thread only. judge_zap() reads
// the key ring, which is itself thread-safe.

#include "evnet/security/key_ring.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace evnet::transport::detail {

// Each server socket's ZAP domain names its link, so that a ZAP request
// says which link it is about.
std::string zap_domain_for(std::uint32_t link);
std::uint32_t link_of_zap_domain(const std::string& domain);  // 0: not ours

struct zap_verdict {
  std::string request_id;
  bool admitted = false;
  std::string status_code;  // "200", "400", "500"
  std::string status_text;
  std::string user_id;      // the identity of an admitted key
  std::string domain;
  std::string address;      // the client's IP address
  std::string key;          // the client's public key, Z85; empty for other mechanisms
  std::string detail;       // why it was refused, for the application
};

// An address as people write it: an IPv4 client of a dual-stack socket
// ("::ffff:127.0.0.1", every socket has ZMQ_IPV6 on) is shown as IPv4
// ("127.0.0.1"); anything else is returned unchanged.
std::string plain_address(std::string address);

// `frames`: the request after the REP envelope: version, request id, domain,
// address, identity, mechanism, credentials...
zap_verdict judge_zap(const std::vector<std::string>& frames, const security::key_ring& ring);

// The reply frames for a verdict: version, request id, status code, status
// text, user id, metadata (empty).
std::vector<std::string> zap_reply(const zap_verdict& v);

// Z85 of a 32-byte CURVE key; empty when `raw` is not 32 bytes.
std::string z85_key(const std::string& raw);
// A valid Z85 CURVE key (40 characters that decode to 32 bytes).
bool valid_z85_key(const std::string& z85);

class handshake_watch {
public:
  using clock = std::chrono::steady_clock;
  // How long a failure may wait for the DISCONNECTED event that names its
  // connection before it is reported without an address.
  static constexpr std::chrono::milliseconds max_wait{100};

  struct failure {
    std::string address;
    std::string detail;
  };

  // The monitor events to subscribe to.
  static int events();

  // One monitor event (event id, value as ZeroMQ gives them). `peer_of`
  // reads the peer address of an accepted fd. Returns failures to report now.
  std::vector<failure> on_event(std::uint16_t event, std::uint32_t value,
                                const std::function<std::string(int)>& peer_of, clock::time_point now);

  // A failure whose connection was not named within max_wait, without an address.
  std::vector<failure> flush(clock::time_point now);
  clock::time_point next_flush() const;

  std::size_t connections() const noexcept { return address_by_fd_.size(); }

private:
  struct pending {
    std::string detail;
    clock::time_point since;
  };
  std::unordered_map<int, std::string> address_by_fd_;
  std::optional<pending> pending_;
};

std::string handshake_failure_text(std::uint16_t event, std::uint32_t value);

} // namespace evnet::transport::detail

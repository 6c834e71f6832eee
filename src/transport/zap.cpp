#include "zap.hpp"

#include "evnet/text.hpp"

#include <zmq.h>

#include <cstdio>
#include <cstring>
#include <utility>

namespace evnet::transport::detail {

namespace {

constexpr std::size_t curve_key_bytes = 32;
constexpr std::size_t z85_key_chars = 40;
const std::string domain_prefix = "evnet.";

} // namespace

std::string zap_domain_for(std::uint32_t link) {
  return domain_prefix + std::to_string(link);
}

std::uint32_t link_of_zap_domain(const std::string& domain) {
  if (domain.size() <= domain_prefix.size() || domain.compare(0, domain_prefix.size(), domain_prefix) != 0 ||
      domain.size() > domain_prefix.size() + 9) {
    return 0;
  }
  std::uint32_t link = 0;
  for (std::size_t i = domain_prefix.size(); i < domain.size(); ++i) {
    const char c = domain[i];
    if (c < '0' || c > '9') {
      return 0;
    }
    link = link * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return link;
}

std::string z85_key(const std::string& raw) {
  if (raw.size() != curve_key_bytes) {
    return {};
  }
  char out[z85_key_chars + 1] = {};
  if (zmq_z85_encode(out, reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()) == nullptr) {
    return {};
  }
  return std::string(out, z85_key_chars);
}

bool valid_z85_key(const std::string& z85) {
  if (z85.size() != z85_key_chars) {
    return false;
  }
  std::uint8_t out[curve_key_bytes];
  return zmq_z85_decode(out, z85.c_str()) != nullptr;
}

std::string plain_address(std::string address) {
  constexpr std::string_view mapped = "::ffff:";
  if (address.size() > mapped.size() && address.compare(0, mapped.size(), mapped) == 0 &&
      address.find('.', mapped.size()) != std::string::npos && address.find(':', mapped.size()) == std::string::npos) {
    address.erase(0, mapped.size());
  }
  return address;
}

zap_verdict judge_zap(const std::vector<std::string>& frames, const security::key_ring& ring) {
  zap_verdict v;
  v.status_code = "400";
  if (frames.size() >= 2) {
    v.request_id = frames[1];
  }
  if (frames.size() < 6 || frames[0] != "1.0") {
    // RFC 27: a malformed request gets 500; libzmq never sends one.
    v.status_code = "500";
    v.status_text = "malformed ZAP request";
    v.detail = v.status_text;
    return v;
  }
  v.domain = frames[2];
  v.address = plain_address(frames[3]);
  const std::string& mechanism = frames[5];
  if (mechanism != "CURVE") {
    v.status_text = "CURVE required";
    v.detail = "mechanism " + printable_id(mechanism) + " refused: CURVE required";
    return v;
  }
  if (frames.size() != 7 || (v.key = z85_key(frames[6])).empty()) {
    v.status_text = "malformed CURVE credentials";
    v.detail = v.status_text;
    return v;
  }
  if (auto identity = ring.identity_of(v.key)) {
    v.admitted = true;
    v.status_code = "200";
    v.status_text = "OK";
    v.user_id = std::move(*identity);
    return v;
  }
  v.status_text = "key not admitted";
  v.detail = "key not registered or revoked";
  return v;
}

std::vector<std::string> zap_reply(const zap_verdict& v) {
  return {"1.0", v.request_id, v.status_code, v.status_text, v.admitted ? v.user_id : std::string{}, std::string{}};
}

int handshake_watch::events() {
  return ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

std::string handshake_failure_text(std::uint16_t event, std::uint32_t value) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    switch (value) {
      case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: {
        return "handshake failed: the client does not speak CURVE (plaintext?)";
      }
      case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: {
        return "handshake failed: the client does not hold this server's public key";
      }
      default: {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(value));
        return std::string("handshake failed: protocol error ") + buf;
      }
    }
  }
  // Typically a client that is not speaking CURVE, or that found our key
  // wrong, hanging up before we noticed ourselves.
  return "handshake failed: the connection was closed during the handshake (" +
         std::string(zmq_strerror(static_cast<int>(value))) + ")";
}

std::vector<handshake_watch::failure> handshake_watch::on_event(std::uint16_t event, std::uint32_t value,
                                                                const std::function<std::string(int)>& peer_of,
                                                                clock::time_point now) {
  std::vector<failure> out;
  switch (event) {
    case ZMQ_EVENT_ACCEPTED: {
      const int fd = static_cast<int>(value);
      address_by_fd_[fd] = peer_of(fd);
      break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: {
      // libzmq reports the failure, then the DISCONNECTED that names the
      // connection's fd; an older failure still waiting goes out as it is.
      if (pending_) {
        out.push_back(failure{{}, std::move(pending_->detail)});
      }
      pending_ = pending{handshake_failure_text(event, value), now};
      break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
      // The ZAP handler refused it and has reported it already.
      break;
    }
    case ZMQ_EVENT_DISCONNECTED: {
      const int fd = static_cast<int>(value);
      auto it = address_by_fd_.find(fd);
      if (pending_) {
        out.push_back(failure{it != address_by_fd_.end() ? it->second : std::string{}, std::move(pending_->detail)});
        pending_.reset();
      }
      if (it != address_by_fd_.end()) {
        address_by_fd_.erase(it);
      }
      break;
    }
    default: {
      break;
    }
  }
  return out;
}

std::vector<handshake_watch::failure> handshake_watch::flush(clock::time_point now) {
  std::vector<failure> out;
  if (pending_ && now - pending_->since >= max_wait) {
    out.push_back(failure{{}, std::move(pending_->detail)});
    pending_.reset();
  }
  return out;
}

handshake_watch::clock::time_point handshake_watch::next_flush() const {
  return pending_ ? pending_->since + max_wait : clock::time_point::max();
}

} // namespace evnet::transport::detail

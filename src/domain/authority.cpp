#include "evnet/domain/authority.hpp"

#include "evnet/text.hpp"

#include <type_traits>

namespace evnet::domain {

namespace {

constexpr std::string_view cp_prefix = "cp:";
constexpr std::string_view driver_prefix = "driver:";

std::string describe(const key_claim& key) {
  switch (key.what) {
  case key_claim::kind::cp:
    return "the key of CP " + key.id;
  case key_claim::kind::driver:
    return "the key of driver " + key.id;
  case key_claim::kind::central:
    return "CENTRAL's own key";
  case key_claim::kind::none:
    break;
  }
  return "a key with no CP or driver identity";
}

// A key speaks for one CP: may a message naming CP `cp_id` come from it?
std::optional<std::string> as_cp(const key_claim& key, const std::string& cp_id, std::string_view type) {
  if (key.what != key_claim::kind::cp) {
    return describe(key) + " may not send " + std::string(type) + " (a CP's message)";
  }
  if (cp_id != key.id) {
    return describe(key) + " may not speak for CP " + printable_id(cp_id);
  }
  return std::nullopt;
}

std::optional<std::string> as_driver(const key_claim& key, const std::string& driver_id, std::string_view type) {
  if (key.what != key_claim::kind::driver) {
    return describe(key) + " may not send " + std::string(type) + " (a driver's message)";
  }
  if (driver_id != key.id) {
    return describe(key) + " may not speak for driver " + printable_id(driver_id);
  }
  return std::nullopt;
}

bool role_fits(const key_claim& key, const peer_identity& who) {
  const bool cp_role = who.role == peer_role::monitor || who.role == peer_role::engine;
  const bool kind_fits = cp_role ? key.what == key_claim::kind::cp : key.what == key_claim::kind::driver;
  return kind_fits && who.id == key.id;
}

} // namespace

key_claim parse_user_id(std::string_view user_id) {
  if (user_id == "central") {
    return key_claim{key_claim::kind::central, {}};
  }
  if (user_id.starts_with(cp_prefix) && is_safe_id(user_id.substr(cp_prefix.size()))) {
    return key_claim{key_claim::kind::cp, std::string(user_id.substr(cp_prefix.size()))};
  }
  if (user_id.starts_with(driver_prefix) && is_safe_id(user_id.substr(driver_prefix.size()))) {
    return key_claim{key_claim::kind::driver, std::string(user_id.substr(driver_prefix.size()))};
  }
  return {};
}

std::optional<std::string> forbidden(const key_claim& key, const peer_identity* bound, const protocol::body& body) {
  return std::visit(
      [&](const auto& m) -> std::optional<std::string> {
        using T = std::decay_t<decltype(m)>;
        constexpr std::string_view type = T::name;
        if constexpr (std::is_same_v<T, protocol::heartbeat> || std::is_same_v<T, protocol::error_reply> ||
                      std::is_same_v<T, protocol::snapshot_request>) {
          return std::nullopt;  // they name nobody (a snapshot is gated on the hello)
        } else if constexpr (std::is_same_v<T, protocol::cp_auth> || std::is_same_v<T, protocol::engine_hello>) {
          return as_cp(key, m.cp_id, type);
        } else if constexpr (std::is_same_v<T, protocol::driver_hello>) {
          return as_driver(key, m.driver_id, type);
        } else {
          // Everything else comes from a peer that introduced itself: the
          // role it holds must be the key's, and so must every id it names.
          if (bound != nullptr && !role_fits(key, *bound)) {
            return describe(key) + " holds no role as " + printable_id(bound->id);
          }
          if constexpr (std::is_same_v<T, protocol::cp_status> || std::is_same_v<T, protocol::authorize_reply> ||
                        std::is_same_v<T, protocol::decision_ack> || std::is_same_v<T, protocol::telemetry>) {
            return as_cp(key, m.cp_id, type);
          } else if constexpr (std::is_same_v<T, protocol::charge_finished>) {
            return as_cp(key, m.record.cp_id, type);
          } else if constexpr (std::is_same_v<T, protocol::ack>) {
            return as_cp(key, key.what == key_claim::kind::cp ? key.id : std::string{}, type);
          } else if constexpr (std::is_same_v<T, protocol::charge_request>) {
            // A Monitor asks under "@<its CP>" (a charge started at the CP).
            if (!m.driver_id.empty() && m.driver_id.front() == '@') {
              return as_cp(key, m.driver_id.substr(1), type);
            }
            return as_driver(key, m.driver_id, type);
          } else if constexpr (std::is_same_v<T, protocol::ticket_ack>) {
            // Whose ticket it is, the machine checks against what it owes.
            return as_driver(key, key.what == key_claim::kind::driver ? key.id : std::string{}, type);
          } else {
            // Central's own messages: no peer may send them; peer_directory
            // answers `unexpected`.
            return std::nullopt;
          }
        }
      },
      body);
}

} // namespace evnet::domain

#include "evnet/domain/peer_directory.hpp"

#include <type_traits>

namespace evnet::domain {

namespace {

// Charges started at the CP itself carry the pseudo driver "@<CP>".
std::string local_driver(const std::string& cp_id) { return "@" + cp_id; }

} // namespace

std::map<std::string, std::string>& peer_directory::slots(peer_role r) {
  return r == peer_role::monitor ? monitors_ : r == peer_role::engine ? engines_ : drivers_;
}

const std::map<std::string, std::string>& peer_directory::slots(peer_role r) const {
  return r == peer_role::monitor ? monitors_ : r == peer_role::engine ? engines_ : drivers_;
}

const peer_identity* peer_directory::who(const std::string& peer) const {
  const auto it = roles_.find(peer);
  return it == roles_.end() ? nullptr : &it->second;
}

namespace {
const std::string* holder(const std::map<std::string, std::string>& m, const std::string& id) {
  const auto it = m.find(id);
  return it == m.end() ? nullptr : &it->second;
}
} // namespace

const std::string* peer_directory::monitor_of(const std::string& cp_id) const { return holder(monitors_, cp_id); }
const std::string* peer_directory::engine_of(const std::string& cp_id) const { return holder(engines_, cp_id); }
const std::string* peer_directory::driver_peer(const std::string& driver_id) const {
  return holder(drivers_, driver_id);
}

bool peer_directory::is_monitor_of(const std::string& peer, const std::string& cp_id) const {
  const auto* p = monitor_of(cp_id);
  return p != nullptr && *p == peer;
}

peer_directory::binding peer_directory::bind(const std::string& peer, peer_identity who) {
  binding b;
  auto& slot = slots(who.role);
  const auto held = slot.find(who.id);
  b.is_new = held == slot.end() || held->second != peer;
  if (const auto it = roles_.find(peer); it != roles_.end() && it->second != who) {
    b.lost = forget(peer);
  }
  if (const auto again = slot.find(who.id); again != slot.end() && again->second != peer) {
    b.displaced = again->second;
    roles_.erase(again->second);
  }
  slot[who.id] = peer;
  roles_[peer] = std::move(who);
  return b;
}

std::optional<peer_identity> peer_directory::forget(const std::string& peer) {
  const auto it = roles_.find(peer);
  if (it == roles_.end()) {
    return std::nullopt;
  }
  peer_identity who = std::move(it->second);
  roles_.erase(it);
  auto& slot = slots(who.role);
  const auto held = slot.find(who.id);
  if (held == slot.end() || held->second != peer) {
    return std::nullopt;
  }
  slot.erase(held);
  return who;
}

verdict peer_directory::judge(const std::string& peer, const protocol::body& body) const {
  const peer_identity* who = this->who(peer);
  if (who == nullptr) {
    return verdict::unauthenticated;
  }
  const bool monitor = who->role == peer_role::monitor;
  const bool engine = who->role == peer_role::engine;
  const bool driver = who->role == peer_role::driver;
  return std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        bool ok = false;
        if constexpr (std::is_same_v<T, protocol::cp_status> || std::is_same_v<T, protocol::authorize_reply> ||
                      std::is_same_v<T, protocol::decision_ack>) {
          ok = monitor && m.cp_id == who->id;
        } else if constexpr (std::is_same_v<T, protocol::ack>) {
          ok = monitor;
        } else if constexpr (std::is_same_v<T, protocol::telemetry>) {
          ok = engine && m.cp_id == who->id;
        } else if constexpr (std::is_same_v<T, protocol::charge_finished>) {
          // Only the CP's own Engine may report its charges: anyone else
          // could bill a driver for energy never supplied.
          ok = engine && m.record.cp_id == who->id;
        } else if constexpr (std::is_same_v<T, protocol::ticket_ack>) {
          ok = driver;
        } else if constexpr (std::is_same_v<T, protocol::charge_request>) {
          if (!monitor && !driver) {
            return verdict::unexpected;
          }
          // A Monitor may only start charges at its own CP, under its name.
          const bool own = monitor ? m.cp_id == who->id && m.driver_id == local_driver(who->id)
                                   : m.driver_id == who->id;
          return own ? verdict::allowed : verdict::not_allowed;
        }
        return ok ? verdict::allowed : verdict::unexpected;
      },
      body);
}

} // namespace evnet::domain

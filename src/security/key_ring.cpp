#include "evnet/security/key_ring.hpp"

#include <mutex>
#include <utility>

namespace evnet::security {

namespace {

// Drops every key that stands for `identity` (normally one; a replace() fed
// two keys for one identity would otherwise leave a second one admitted).
template <typename Map>
void erase_identity(Map& by_key, std::string_view identity) {
  for (auto it = by_key.begin(); it != by_key.end();) {
    if (it->second == identity) {
      it = by_key.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace

void key_ring::replace(std::map<std::string, std::string> keys) {
  std::map<std::string, std::string, std::less<>> by_key;
  std::map<std::string, std::string, std::less<>> by_identity;
  for (auto& [key, identity] : keys) {
    // One identity, one key: a second key of the same identity replaces the
    // first (the store's schema makes this impossible; be safe anyway).
    if (auto old = by_identity.find(identity); old != by_identity.end()) {
      by_key.erase(old->second);
    }
    by_identity[identity] = key;
    by_key.emplace(key, identity);
  }
  std::unique_lock lock(mutex_);
  by_key_ = std::move(by_key);
  by_identity_ = std::move(by_identity);
}

void key_ring::admit(const std::string& public_key, const std::string& identity) {
  std::unique_lock lock(mutex_);
  erase_identity(by_key_, identity);
  // The key may have stood for someone else before: it no longer does.
  if (auto old = by_key_.find(public_key); old != by_key_.end()) {
    by_identity_.erase(old->second);
    by_key_.erase(old);
  }
  by_key_[public_key] = identity;
  by_identity_[identity] = public_key;
}

void key_ring::revoke(const std::string& identity) {
  std::unique_lock lock(mutex_);
  erase_identity(by_key_, identity);
  by_identity_.erase(identity);
}

std::optional<std::string> key_ring::identity_of(std::string_view public_key) const {
  std::shared_lock lock(mutex_);
  if (auto it = by_key_.find(public_key); it != by_key_.end()) {
    return it->second;
  }
  return std::nullopt;
}

bool key_ring::admits(std::string_view identity) const {
  if (identity.empty()) {
    return false;
  }
  std::shared_lock lock(mutex_);
  return by_identity_.find(identity) != by_identity_.end();
}

std::size_t key_ring::size() const {
  std::shared_lock lock(mutex_);
  return by_key_.size();
}

} // namespace evnet::security

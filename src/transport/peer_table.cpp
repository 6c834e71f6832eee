#include "peer_table.hpp"

#include <algorithm>

namespace evnet::transport::detail {

peer_table::peer_table(std::chrono::milliseconds timeout)
    : timeout_(std::max(timeout, std::chrono::milliseconds{1})),
      scan_interval_(std::clamp(timeout_ / 10, std::chrono::milliseconds{1}, max_scan_interval)) {}

bool peer_table::heard(const std::string& peer, clock::time_point now, std::string_view user_id) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    peers_.emplace(peer, peer_state{now, std::string(user_id)});
    return true;
  }
  it->second.last_heard = now;
  return false;
}

std::vector<std::string> peer_table::expire(clock::time_point now) {
  next_scan_ = now + scan_interval_;
  std::vector<std::string> gone;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_heard > timeout_) {
      gone.push_back(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = cut_off_.begin(); it != cut_off_.end();) {
    if (now - it->second > timeout_) {
      it = cut_off_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

bool peer_table::cut_off(const std::string& peer, clock::time_point now) {
  cut_off_[peer] = now;
  return peers_.erase(peer) > 0;
}

bool peer_table::is_cut_off(const std::string& peer, clock::time_point now) {
  auto it = cut_off_.find(peer);
  if (it == cut_off_.end()) {
    return false;
  }
  it->second = now;
  return true;
}

std::vector<std::string> peer_table::peers_of(std::string_view user_id) const {
  std::vector<std::string> out;
  for (const auto& [peer, st] : peers_) {
    if (st.user_id == user_id) {
      out.push_back(peer);
    }
  }
  return out;
}

std::string peer_table::user_of(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? std::string{} : it->second.user_id;
}

bool peer_table::forget(const std::string& peer) { return peers_.erase(peer) != 0; }

} // namespace evnet::transport::detail

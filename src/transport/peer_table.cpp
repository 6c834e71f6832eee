#include "peer_table.hpp"

#include <algorithm>

namespace evnet::transport::detail {

std::optional<std::string> rejection_limiter::admit(std::string_view detail, clock::time_point now) {
  const bool same = detail == last_ && last_reported_ != clock::time_point{};
  if (same && now - last_reported_ < window) {
    ++suppressed_;
    return std::nullopt;
  }
  std::string text(detail);
  if (same && suppressed_ > 0) {
    text += " (repeated " + std::to_string(suppressed_) + " times since the last report)";
  }
  last_ = detail;
  last_reported_ = now;
  suppressed_ = 0;
  return text;
}

peer_table::peer_table(std::chrono::milliseconds timeout)
    : timeout_(std::max(timeout, std::chrono::milliseconds{1})),
      scan_interval_(std::clamp(timeout_ / 10, std::chrono::milliseconds{1}, max_scan_interval)) {}

bool peer_table::heard(const std::string& peer, clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    peers_.emplace(peer, peer_state{now, {}});
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
  return gone;
}

std::optional<std::string> peer_table::admit_rejection(const std::string& peer, std::string_view detail,
                                                       clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    it = peers_.emplace(peer, peer_state{now, {}}).first;
  }
  return it->second.rejections.admit(detail, now);
}

} // namespace evnet::transport::detail

#include "evnet/domain/rate_limit.hpp"

#include <algorithm>
#include <iterator>

namespace evnet::domain {

std::optional<std::uint64_t> once_per::admit(const std::string& key, std::int64_t now) {
  auto [it, fresh] = keys_.try_emplace(key, entry{now, 0});
  if (fresh) {
    return 0;
  }
  entry& e = it->second;
  if (now - e.last < interval_ms_) {
    ++e.held;
    return std::nullopt;
  }
  const auto held = e.held;
  e = entry{now, 0};
  return held;
}

void once_per::prune(std::int64_t now) {
  // A key with events held back is kept until one more is let through, so
  // that the count is not lost... unless it has been quiet for a minute.
  std::erase_if(keys_, [&](const auto& kv) {
    const auto idle = now - kv.second.last;
    return idle >= interval_ms_ && (kv.second.held == 0 || idle >= 60 * interval_ms_);
  });
}

void token_bucket::refill(entry& e, std::int64_t now) const {
  if (e.tokens >= capacity_) {
    e.since = now;
    return;
  }
  const auto earned = (now - e.since) / refill_ms_;
  if (earned > 0) {
    e.tokens = std::min(capacity_, e.tokens + earned);
    e.since = e.tokens >= capacity_ ? now : e.since + earned * refill_ms_;
  }
}

bool token_bucket::take(const std::string& key, std::int64_t now) {
  auto [it, fresh] = keys_.try_emplace(key, entry{capacity_, now});
  entry& e = it->second;
  if (!fresh) {
    refill(e, now);
  }
  if (e.tokens <= 0) {
    return false;
  }
  if (e.tokens == capacity_) {
    e.since = now;  // the refill clock starts with the first token spent
  }
  --e.tokens;
  return true;
}

void token_bucket::prune(std::int64_t now) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= capacity_ ? keys_.erase(it) : std::next(it);
  }
}

} // namespace evnet::domain

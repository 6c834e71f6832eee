#pragma once

// Two small rate limits on simulated time (ms passed in, no clock).
//
// once_per: at most one event per key per interval (reports of refused or
// malformed messages, per peer; refused admissions, per key or address).
// A suppressed event is counted, and the next one let through says how
// many were held back.
//
// token_bucket: a burst of `capacity`, then one per `refill_ms` per key
// (snapshot requests: three at once, then three a second).
//
// Both forget idle keys in prune(), so a stream of ever new peers cannot
// grow them without bound: call it every tick.
//
// Thread-safety: none; owned by one machine.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace evnet::domain {

class once_per {
public:
  explicit once_per(std::int64_t interval_ms = 1000) : interval_ms_(interval_ms) {}

  // nullopt: suppressed (counted). Otherwise the number of events of this
  // key suppressed since the last one let through.
  std::optional<std::uint64_t> admit(const std::string& key, std::int64_t now);
  void prune(std::int64_t now);
  std::size_t size() const { return keys_.size(); }

private:
  struct entry {
    std::int64_t last = 0;
    std::uint64_t held = 0;
  };
  std::int64_t interval_ms_;
  std::map<std::string, entry> keys_;
};

class token_bucket {
public:
  token_bucket(std::int64_t capacity, std::int64_t refill_ms) : capacity_(capacity), refill_ms_(refill_ms) {}

  // Takes one token for `key`; false when it has none left.
  bool take(const std::string& key, std::int64_t now);
  // Forgets keys whose bucket is full again.
  void prune(std::int64_t now);
  std::size_t size() const { return keys_.size(); }

private:
  struct entry {
    std::int64_t tokens = 0;
    std::int64_t since = 0;  // when the next refill started counting
  };
  void refill(entry& e, std::int64_t now) const;

  std::int64_t capacity_;
  std::int64_t refill_ms_;
  std::map<std::string, entry> keys_;
};

} // namespace evnet::domain

#pragma once

// What a ROUTER link remembers about its peers: when each was last heard
// (the server half of the Paranoid Pirate pattern) and which rejection it
// last reported. One hash map and one periodic scan serve thousands of
// peers; there are no per-peer timers.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace evnet::transport::detail {

using clock = std::chrono::steady_clock;

// Turns a flood of identical rejections into one report per window, so that
// a peer sending garbage in a loop cannot flood the application's log.
class rejection_limiter {
public:
  static constexpr std::chrono::seconds window{10};

  // The text to report, or nothing while the same detail repeats within the
  // window. A report after a quiet spell says how many were held back.
  std::optional<std::string> admit(std::string_view detail, clock::time_point now);

private:
  std::string last_;
  clock::time_point last_reported_{};
  std::uint64_t suppressed_ = 0;
};

class peer_table {
public:
  explicit peer_table(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // Any frame from the peer counts as a sign of life.
  void heard(const std::string& peer, clock::time_point now);

  // Peers silent for longer than the timeout; they are forgotten, so each is
  // reported once per silence.
  std::vector<std::string> expire(clock::time_point now);

  // Rate-limits rejection reports per peer (see rejection_limiter).
  std::optional<std::string> admit_rejection(const std::string& peer, std::string_view detail,
                                             clock::time_point now);

  std::size_t size() const noexcept { return peers_.size(); }

private:
  struct peer_state {
    clock::time_point last_heard;
    rejection_limiter rejections;
  };

  std::chrono::milliseconds timeout_;
  std::unordered_map<std::string, peer_state> peers_;
};

} // namespace evnet::transport::detail

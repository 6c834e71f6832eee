#pragma once

// What a ROUTER link remembers about its peers: when each was last heard
// (the server half of the Paranoid Pirate pattern) and which rejection it
// last reported. One hash map and one periodic scan serve thousands of
// peers; there are no per-peer timers.
//
// Pure: nothing here reads a clock. The transport thread reads it once per
// loop turn and passes `now` in, so the tests drive it on simulated time.
//
// Thread-safety: none; owned by the transport thread.

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
  // The scan runs every timeout/10, at most every 100 ms: a silent peer is
  // reported at most `timeout + scan_interval()` after it was last heard
  // (3.6 s with the default 3.5 s), while a scan of thousands of peers still
  // costs a few microseconds ten times a second.
  static constexpr std::chrono::milliseconds max_scan_interval{100};

  explicit peer_table(std::chrono::milliseconds timeout);

  // Any frame from the peer counts as a sign of life. True when the peer was
  // not known: its first frame, or its first since expire() reported it gone
  // (to the application that is a new peer: it must say hello again).
  bool heard(const std::string& peer, clock::time_point now);

  // Whether a scan is due; next_scan() is the moment it becomes due (a poll
  // deadline for the transport thread).
  bool scan_due(clock::time_point now) const noexcept { return now >= next_scan_; }
  clock::time_point next_scan() const noexcept { return next_scan_; }

  // Peers silent for longer than the timeout; they are forgotten, so each is
  // reported once per silence. Schedules the next scan.
  std::vector<std::string> expire(clock::time_point now);

  // Rate-limits rejection reports per peer (see rejection_limiter).
  std::optional<std::string> admit_rejection(const std::string& peer, std::string_view detail,
                                             clock::time_point now);

  std::size_t size() const noexcept { return peers_.size(); }
  bool knows(const std::string& peer) const { return peers_.count(peer) != 0; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  std::chrono::milliseconds scan_interval() const noexcept { return scan_interval_; }

private:
  struct peer_state {
    clock::time_point last_heard;
    rejection_limiter rejections;
  };

  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds scan_interval_;
  clock::time_point next_scan_{};  // the epoch: the first scan is due at once
  std::unordered_map<std::string, peer_state> peers_;
};

} // namespace evnet::transport::detail

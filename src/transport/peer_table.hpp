#pragma once

// What a ROUTER link remembers about its peers: when each was last heard
// (the server half of the Paranoid Pirate pattern), the identity its key
// stands for, and which routing ids are cut off. One hash map and one
// periodic scan serve thousands of peers; there are no per-peer timers.
//
// A cut-off peer (its key was revoked or is no longer admitted, or it
// stopped reading) is no longer a peer: its frames are dropped, nothing is
// sent to it, and it is forgotten silently once it has been quiet for the
// timeout (its connection is gone by then; a client that comes back uses a
// new routing id and passes the ZAP handler again).
//
// Pure: nothing here reads a clock. The transport thread reads it once per
// loop turn and passes `now` in, so the tests drive it on simulated time.
//
// Thread-safety: none; owned by the transport thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace evnet::transport::detail {

using clock = std::chrono::steady_clock;

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
  // `user_id` is remembered from the first frame (a connection's key never
  // changes).
  bool heard(const std::string& peer, clock::time_point now, std::string_view user_id = {});

  // Whether a scan is due; next_scan() is the moment it becomes due (a poll
  // deadline for the transport thread).
  bool scan_due(clock::time_point now) const noexcept { return now >= next_scan_; }
  clock::time_point next_scan() const noexcept { return next_scan_; }

  // Peers silent for longer than the timeout; they are forgotten, so each is
  // reported once per silence. Cut-off peers silent that long are forgotten
  // without a report. Schedules the next scan.
  std::vector<std::string> expire(clock::time_point now);

  // The peer's connection closed: forgotten now (it is reported by the
  // caller, once). True when it was a known peer. A cut-off peer stays cut off.
  bool forget(const std::string& peer);

  // Cuts the peer off. True when it was a known peer (the application has
  // to forget it).
  bool cut_off(const std::string& peer, clock::time_point now);
  // True for a cut-off peer; a frame from it counts as heard for the expiry
  // of its cut-off entry, so a peer that keeps talking stays cut off.
  bool is_cut_off(const std::string& peer, clock::time_point now);
  // The same question on the way out: it does not count as heard.
  bool was_cut_off(const std::string& peer) const { return cut_off_.count(peer) != 0; }

  // The known peers whose key stands for `user_id`.
  std::vector<std::string> peers_of(std::string_view user_id) const;
  std::string user_of(const std::string& peer) const;

  std::size_t size() const noexcept { return peers_.size(); }
  std::size_t cut_off_count() const noexcept { return cut_off_.size(); }
  bool knows(const std::string& peer) const { return peers_.count(peer) != 0; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  std::chrono::milliseconds scan_interval() const noexcept { return scan_interval_; }

private:
  struct peer_state {
    clock::time_point last_heard;
    std::string user_id;
  };

  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds scan_interval_;
  clock::time_point next_scan_{};  // the epoch: the first scan is due at once
  std::unordered_map<std::string, peer_state> peers_;
  std::unordered_map<std::string, clock::time_point> cut_off_;  // routing id -> last heard
};

} // namespace evnet::transport::detail

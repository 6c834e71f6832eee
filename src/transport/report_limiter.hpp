#pragma once

// Turns a flood of reports about one source (a peer's rejected frames, an
// address's refused handshakes) into at most one report per window: the
// first at once, the rest held and counted, and when the window ends the
// last one held is reported with how many more it stands for. A hostile
// peer alternating between kinds of garbage gains nothing: the key is the
// source, not the text.
//
// Pure: nothing here reads a clock; the transport thread passes `now` in
// and calls flush() when next_flush() is due.
//
// Thread-safety: none; owned by the transport thread.

#include "evnet/transport.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace evnet::transport::detail {

class report_limiter {
public:
  using clock = std::chrono::steady_clock;

  // Sources remembered at once; beyond that (a flood from many sources) the
  // reports of new sources share one key, "*".
  static constexpr std::size_t max_sources = 4096;

  explicit report_limiter(std::chrono::milliseconds window = std::chrono::milliseconds{1000});

  // The event to report now, or nothing: it is held and counted.
  std::optional<link_event> admit(const std::string& source, link_event ev, clock::time_point now);

  // Reports held whose window has ended: the last event of each source, its
  // detail ending in " (N more since the last report)" when it stands for
  // more than itself.
  std::vector<link_event> flush(clock::time_point now);

  // When flush() has something to say; time_point::max() when nothing is held.
  clock::time_point next_flush() const;

  std::size_t sources() const noexcept { return sources_.size(); }

private:
  struct source_state {
    clock::time_point last_report{};
    std::uint64_t held = 0;
    link_event last;
  };

  void sweep(clock::time_point now);

  std::chrono::milliseconds window_;
  std::unordered_map<std::string, source_state> sources_;
  std::set<std::string> pending_;  // sources with held > 0
};

} // namespace evnet::transport::detail

#pragma once

// Which application frames a DEALER link may carry. A link carries a frame
// only on the session that was up when the frame was offered: from the
// `connected` that opened it to the silence (or reconnect) that ended it.
// Anything offered while the link is down, connecting or reconnecting is
// dropped and counted, and so is a frame whose session ended before the
// transport thread got to it. Nothing is ever kept for a later session: a
// server that restarted, or that forgot us, refuses what was meant for the
// old one, and the application re-sends what matters after it has said hello
// again.
//
// One count per outage: the drops since the link was last up are handed
// over once, when it comes up again, so that the application hears one
// `send_failed` per outage and not one per frame.
//
// Thread-safety: admit() is called by any thread (transport::send()); every
// other member only by the transport thread. One mutex orders admit()
// against the transitions, so a frame offered before `connected` is counted
// in the report that `connected` follows, never in a later one.

#include <cstdint>
#include <mutex>
#include <optional>

namespace evnet::transport::detail {

class session_gate {
public:
  // Any thread: the session a frame offered now belongs to (stamp it on the
  // frame), or nothing when the link is not up; then it is counted as dropped.
  std::optional<std::uint64_t> admit();

  // Transport thread, about to hand a stamped frame to the socket: true when
  // that session is still the live one; otherwise the frame is counted.
  bool still_live(std::uint64_t session);

  // Transport thread: the link came up (a new session). Returns the frames
  // dropped since it was last up and starts counting afresh.
  std::uint64_t opened();

  // Transport thread: the session ended.
  void closed();

  bool up() const;

private:
  mutable std::mutex mutex_;
  std::uint64_t session_ = 0;  // bumped on every transition: odd while up
  std::uint64_t dropped_ = 0;
};

} // namespace evnet::transport::detail

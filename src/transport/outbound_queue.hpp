#pragma once

// The only path from application threads to the transport thread: a locked
// deque of already-encoded frames plus an eventfd that the transport thread
// polls together with its sockets. Callers encode before pushing so that the
// transport thread only moves bytes.

#include "wakeup_fd.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace evnet::transport::detail {

struct outbound {
  enum class op : std::uint8_t { send, reconnect };
  op what = op::send;
  std::uint32_t link = 0;
  std::string address;  // ROUTER: peer routing id; PUB: topic; otherwise unused
  std::string payload;  // one encoded frame
  std::uint64_t session = 0;  // DEALER: the session it was offered on (see session_gate)
};

class outbound_queue {
public:
  // False once close() has been called: the item is dropped.
  bool push(outbound item);

  // Refuses every later push and wakes the transport thread so that it sees
  // closed() on its next turn.
  void close();
  bool closed() const;

  // Transport thread: everything queued so far, oldest first.
  std::deque<outbound> take_all();

  int fd() const noexcept { return wakeup_.fd(); }

private:
  mutable std::mutex mutex_;
  std::deque<outbound> items_;
  bool closed_ = false;
  wakeup_fd wakeup_;
};

} // namespace evnet::transport::detail

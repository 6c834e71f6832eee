#pragma once

// The only path from application threads to the transport thread: a locked
// deque of already-encoded frames plus an eventfd that the transport thread
// polls together with its sockets. Callers encode before pushing so that the
// transport thread only moves bytes.
//
// Bounded in bytes: a frame that would take the queue over max_bytes is
// dropped and counted per link (a stuck transport thread or a flooding
// application cannot grow memory without limit); take_dropped() hands the
// counts to the transport thread, which reports them. Control operations
// (reconnect, revoke, subscribe, open, close) are never dropped.
//
// Thread-safety: push(), close() and closed() from any thread; take_all()
// and take_dropped() from the transport thread.

#include "wakeup_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace evnet::transport::detail {

// A link opened while the transport runs (transport::open_dealer): its
// configuration and what the application threads share with the transport
// thread about it. Defined with the transport.
struct dynamic_link;

struct outbound {
  enum class op : std::uint8_t { send, reconnect, revoke, subscribe, open, close };
  op what = op::send;
  std::uint32_t link = 0;
  std::string address;  // ROUTER: peer routing id; PUB: topic; revoke: the identity;
                        // subscribe: the endpoint
  std::string payload;  // one encoded frame
  std::uint64_t session = 0;  // DEALER: the session it was offered on (see session_gate)
  std::shared_ptr<dynamic_link> opened;  // open: the link to open
};

class outbound_queue {
public:
  explicit outbound_queue(std::size_t max_bytes = std::size_t{64} * 1024 * 1024) : max_bytes_(max_bytes) {}

  // False once close() has been called: the item is dropped. True otherwise,
  // also when the item was dropped for want of room (then it is counted).
  bool push(outbound item);

  // Refuses every later push and wakes the transport thread so that it sees
  // closed() on its next turn.
  void close();
  bool closed() const;

  // Transport thread: everything queued so far, oldest first.
  std::deque<outbound> take_all();

  // Transport thread: frames dropped for want of room since the last call,
  // per link.
  std::map<std::uint32_t, std::uint64_t> take_dropped();

  // What an item counts against the bound.
  static std::size_t cost(const outbound& item) noexcept {
    return sizeof(outbound) + item.address.size() + item.payload.size();
  }

  int fd() const noexcept { return wakeup_.fd(); }

private:
  mutable std::mutex mutex_;
  std::deque<outbound> items_;
  std::size_t bytes_ = 0;
  const std::size_t max_bytes_;
  std::map<std::uint32_t, std::uint64_t> dropped_;
  bool closed_ = false;
  wakeup_fd wakeup_;
};

} // namespace evnet::transport::detail

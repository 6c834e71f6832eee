#include "outbound_queue.hpp"

#include <utility>

namespace evnet::transport::detail {

bool outbound_queue::push(outbound item) {
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    const auto size = cost(item);
    if (item.what == outbound::op::send && bytes_ + size > max_bytes_) {
      // Counted and reported by the transport thread. A non-empty queue has
      // a wake-up pending already; an empty one (a single oversized frame)
      // needs one so that the drop is reported soon.
      ++dropped_[item.link];
      notify = items_.empty();
    } else {
      bytes_ += size;
      // take_all() drains the eventfd before it swaps the deque, so a
      // non-empty deque always has a wake-up pending: one write per batch
      // is enough.
      notify = items_.empty();
      items_.push_back(std::move(item));
    }
  }
  if (notify) {
    wakeup_.notify();
  }
  return true;
}

void outbound_queue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  wakeup_.notify();
}

bool outbound_queue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::deque<outbound> outbound_queue::take_all() {
  wakeup_.drain();
  std::deque<outbound> taken;
  std::lock_guard lock(mutex_);
  taken.swap(items_);
  bytes_ = 0;
  return taken;
}

std::map<std::uint32_t, std::uint64_t> outbound_queue::take_dropped() {
  std::map<std::uint32_t, std::uint64_t> taken;
  std::lock_guard lock(mutex_);
  taken.swap(dropped_);
  return taken;
}

} // namespace evnet::transport::detail

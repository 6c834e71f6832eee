#include "outbound_queue.hpp"

#include <utility>

namespace evnet::transport::detail {

bool outbound_queue::push(outbound item) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    was_empty = items_.empty();
    items_.push_back(std::move(item));
  }
  // take_all() drains the eventfd before it swaps the deque, so a non-empty
  // deque always has a wake-up pending: one write per batch is enough.
  if (was_empty) {
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
  return taken;
}

} // namespace evnet::transport::detail

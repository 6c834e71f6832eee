#pragma once

// An eventfd that lets any thread wake the transport thread out of
// zmq::poll(): zmq_pollitem_t can watch a raw fd next to the sockets, and an
// eventfd is one fd that coalesces any number of notifications.

namespace evnet::transport::detail {

class wakeup_fd {
public:
  wakeup_fd();  // throws std::system_error when the kernel refuses
  ~wakeup_fd();

  wakeup_fd(const wakeup_fd&) = delete;
  wakeup_fd& operator=(const wakeup_fd&) = delete;

  int fd() const noexcept { return fd_; }

  // Safe from any thread; never blocks (the counter saturates long after
  // the reader has drained it).
  void notify() noexcept;

  // Resets the counter so that the next poll sleeps until the next notify().
  void drain() noexcept;

private:
  int fd_ = -1;
};

} // namespace evnet::transport::detail

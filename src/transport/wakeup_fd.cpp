#include "wakeup_fd.hpp"

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace evnet::transport::detail {

wakeup_fd::wakeup_fd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
}

wakeup_fd::~wakeup_fd() {
  ::close(fd_);
}

void wakeup_fd::notify() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the reader will wake anyway.
  while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void wakeup_fd::drain() noexcept {
  std::uint64_t value = 0;
  while (::read(fd_, &value, sizeof value) < 0 && errno == EINTR) {
  }
}

} // namespace evnet::transport::detail

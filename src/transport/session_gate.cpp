#include "session_gate.hpp"

namespace evnet::transport::detail {

namespace {
bool is_up(std::uint64_t session) {
  return session % 2 == 1;
}
} // namespace

std::optional<std::uint64_t> session_gate::admit() {
  std::lock_guard lock(mutex_);
  if (!is_up(session_)) {
    ++dropped_;
    return std::nullopt;
  }
  return session_;
}

bool session_gate::still_live(std::uint64_t session) {
  std::lock_guard lock(mutex_);
  if (session != session_ || !is_up(session_)) {
    ++dropped_;
    return false;
  }
  return true;
}

std::uint64_t session_gate::opened() {
  std::lock_guard lock(mutex_);
  if (!is_up(session_)) {
    ++session_;
  }
  const auto dropped = dropped_;
  dropped_ = 0;
  return dropped;
}

void session_gate::closed() {
  std::lock_guard lock(mutex_);
  if (is_up(session_)) {
    ++session_;
  }
}

bool session_gate::up() const {
  std::lock_guard lock(mutex_);
  return is_up(session_);
}

} // namespace evnet::transport::detail

#pragma once

// Errors as values at every boundary (network input, files, arguments).
// C++20 has no std::expected, so evnet uses this small equivalent.

#include "evnet/vocabulary.hpp"

#include <string>
#include <utility>
#include <variant>

namespace evnet {

// A failure that can be shown to a user: a machine-readable code (decisions
// are made on it) and a human sentence (shown, never compared).
struct error {
  errc code = errc::invalid_state;
  std::string message;
};

// Either a T or an error. Thread-compatible, like any value type.
template <class T>
class result {
public:
  result(T value) : state_(std::move(value)) {}
  result(error err) : state_(std::move(err)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }

  const evnet::error& err() const { return std::get<1>(state_); }

private:
  std::variant<T, evnet::error> state_;
};

// result<void>: success carries nothing.
struct ok_t {};
inline constexpr ok_t ok_value{};
using status = result<ok_t>;

} // namespace evnet

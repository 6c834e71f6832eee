#include "naming.hpp"

#include <algorithm>

namespace evnet::fleet {

naming naming::for_counts(int cps, int drivers, std::string cp_prefix, std::string driver_prefix) {
  naming n;
  n.cp_prefix = std::move(cp_prefix);
  n.driver_prefix = std::move(driver_prefix);
  int digits = 1;
  for (int v = std::max({cps, drivers, 1}) - 1; v >= 10; v /= 10) {
    ++digits;
  }
  n.width = std::max(5, digits);
  return n;
}

std::string naming::padded(int index) const {
  std::string digits = std::to_string(index);
  if (static_cast<int>(digits.size()) < width) {
    digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  }
  return digits;
}

int naming::index_of(std::string_view id, std::string_view prefix) const {
  if (id.size() != prefix.size() + static_cast<std::size_t>(width) || id.substr(0, prefix.size()) != prefix) {
    return -1;
  }
  int value = 0;
  for (char c : id.substr(prefix.size())) {
    if (c < '0' || c > '9' || value > 100'000'000) {
      return -1;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

} // namespace evnet::fleet

#include "evnet/runtime/clock.hpp"

#include <ctime>

namespace evnet::runtime {

std::string format_time(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&secs, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  return buf;
}

} // namespace evnet::runtime

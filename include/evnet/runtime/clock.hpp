#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace evnet::runtime {

// Wall-clock milliseconds since the Unix epoch: what tickets and charge
// records carry, so every host agrees on the meaning.
inline std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "2026-11-26 14:03:05" in local time, for humans.
std::string format_time(std::int64_t ms);

} // namespace evnet::runtime

#include "evnet/runtime/log.hpp"

#include "evnet/runtime/clock.hpp"

#include <cstdio>
#include <mutex>

namespace evnet::runtime {

namespace {

std::mutex log_mutex;
std::FILE* log_file = nullptr;  // nullptr: stderr

} // namespace

bool open_log(const std::string& path) {
  std::lock_guard<std::mutex> guard{log_mutex};
  if (path.empty()) {
    return true;
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) {
    return false;
  }
  if (log_file != nullptr) {
    std::fclose(log_file);
  }
  log_file = f;
  return true;
}

void log_line(std::string_view component, std::string_view text) {
  std::string stamp = format_time(now_ms());
  std::lock_guard<std::mutex> guard{log_mutex};
  std::FILE* out = log_file != nullptr ? log_file : stderr;
  std::fprintf(out, "%s %.*s: %.*s\n", stamp.c_str(), static_cast<int>(component.size()), component.data(),
               static_cast<int>(text.size()), text.data());
  std::fflush(out);
}

} // namespace evnet::runtime

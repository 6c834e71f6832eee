#pragma once

// ev_bench's handle on an ev_fleet it started with --control --json: it
// writes commands to the fleet's stdin and reads its JSON lines, keeping the
// latest `progress`, waiting (boundedly) for the event a step needs, and
// keeping `limit` and `error` events as notes for the report.
//
// Thread-safety: none.

#include "process.hpp"

#include "evnet/json.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace evnet::bench {

class fleet_client {
public:
  fleet_client() = default;
  ~fleet_client() { stop(); }
  fleet_client(const fleet_client&) = delete;
  fleet_client& operator=(const fleet_client&) = delete;

  // The fleet's stderr goes to `stderr_file`; every line it prints is kept
  // in `log_file` too ("" for none).
  bool start(const std::vector<std::string>& argv, const std::string& stderr_file, const std::string& log_file = {});
  void send(const std::string& command);
  // The next `event` line, or nullopt when the fleet ended or `timeout` passed.
  std::optional<json::value> wait_for(const std::string& event, std::chrono::milliseconds timeout);
  // Reads what arrives for `how_long`.
  void pump(std::chrono::milliseconds how_long);
  // Asks the fleet to quit and waits for it (bounded); kills it after that.
  void stop();

  const json::value& last_progress() const { return progress_; }
  const std::vector<std::string>& notes() const { return notes_; }
  pid_t pid() const { return proc_.pid; }

private:
  void read_some(int timeout_ms);
  void on_line(const std::string& line);

  child_process proc_;
  std::string buffer_;
  std::deque<json::value> events_;
  json::value progress_ = json::object{};
  std::vector<std::string> notes_;
  bool ended_ = false;
  std::FILE* log_ = nullptr;
};

} // namespace evnet::bench

#pragma once

// Test harness for integration tests: real processes, real sockets on
// 127.0.0.1, ports the test picks. A `process` runs one evnet program in
// --headless mode, collects its JSON event lines on a reader thread, and
// lets the test wait (always with a bound) for the event it expects.

#include "evnet/json.hpp"

#include <chrono>
#include <condition_variable>
#include <sys/types.h>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace evnet::testing {

using namespace std::chrono_literals;

// Where the built programs are (meson passes EVNET_BUILD_ROOT).
std::string program_path(const std::string& name);

// A scratch directory removed when the object dies.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that is free now, with `span` free ports from it
// (Central needs port and port+1).
std::uint16_t free_port(int span = 1);

using predicate = std::function<bool(const json::value&)>;

// Matches events by name and, optionally, string/number/bool fields.
predicate event_is(std::string name, json::object fields = {});

class process {
public:
  process(std::string name, std::vector<std::string> argv, std::string cwd = {});
  ~process();  // SIGKILL if still running
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

  // Writes one command line to the program's stdin.
  void send(const std::string& line);

  // Waits until an event after the cursor matches; advances the cursor past it.
  // Returns nullopt after `timeout`.
  std::optional<json::value> wait_for(const predicate& p, std::chrono::milliseconds timeout = 15s);
  // As wait_for, but fails the current Boost test with the program's recent output.
  json::value expect(const predicate& p, std::chrono::milliseconds timeout = 15s, const std::string& what = {});
  // Every event so far (not only after the cursor) matching p.
  std::vector<json::value> all(const predicate& p);
  // Moves the cursor to the end: later waits only see new events.
  void skip_to_end();

  void kill_hard();                 // SIGKILL, then reap
  int terminate(std::chrono::milliseconds timeout = 10s);  // SIGTERM; returns exit status (or -1)
  int wait_exit(std::chrono::milliseconds timeout);        // -1 on timeout
  bool running();

  // Raw stdout lines that were not JSON, and stderr, for diagnostics.
  std::string recent_output() const;

private:
  void read_loop(int fd, bool is_stdout);

  std::string name_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::thread out_thread_;
  std::thread err_thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<json::value> events_;
  std::size_t cursor_ = 0;
  std::vector<std::string> noise_;
  bool exited_ = false;
  int status_ = -1;
};

// Runs a program to completion (for --help and bad-argument checks).
struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
run_result run_to_end(std::vector<std::string> argv, std::chrono::milliseconds timeout = 10s);

// A whole network: Central plus N CPs (Engine + Monitor), each headless,
// in a temp dir with its own db.json.
struct cp_spec {
  std::string id;
  std::string location;
  double price;
};

class network {
public:
  explicit network(std::vector<cp_spec> cps, std::vector<std::string> drivers = {"D1", "D2", "D3"});
  ~network();

  process& start_central();
  process& start_engine(const std::string& cp_id);
  process& start_monitor(const std::string& cp_id);
  process& start_cp(const std::string& cp_id);  // engine + monitor; waits until Central shows it ACTIVE
  process& start_driver(const std::string& driver_id, std::vector<std::string> extra = {});

  process& central() { return *central_; }
  process& engine(const std::string& cp_id);
  process& monitor(const std::string& cp_id);
  void stop_engine(const std::string& cp_id, bool hard = true);
  void stop_monitor(const std::string& cp_id, bool hard = true);
  void stop_central(bool hard = true);

  std::uint16_t central_port() const { return central_port_; }
  std::uint16_t engine_port(const std::string& cp_id) const;
  const temp_dir& dir() const { return dir_; }
  double price(const std::string& cp_id) const;

private:
  temp_dir dir_;
  std::vector<cp_spec> cps_;
  std::uint16_t central_port_;
  std::vector<std::pair<std::string, std::uint16_t>> engine_ports_;
  std::unique_ptr<process> central_;
  std::vector<std::pair<std::string, std::unique_ptr<process>>> engines_;
  std::vector<std::pair<std::string, std::unique_ptr<process>>> monitors_;
  std::vector<std::unique_ptr<process>> drivers_;
};

// Field access for events.
std::string str(const json::value& ev, const std::string& key);
double num(const json::value& ev, const std::string& key);
bool flag(const json::value& ev, const std::string& key);

} // namespace evnet::testing

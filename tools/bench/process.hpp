#pragma once

// Child processes for ev_bench: start one (stdin from a pipe or /dev/null,
// stdout to a pipe or a file), signal it, wait for it with a bound, and read
// what the kernel says it costs (/proc/<pid>/stat and status). ev_bench only
// ever signals the processes it started itself.
//
// Thread-safety: none; ev_bench is single-threaded.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace evnet::bench {

struct child_process {
  pid_t pid = -1;
  int stdin_fd = -1;   // when asked for: we write
  int stdout_fd = -1;  // when asked for: we read
};

struct spawn_options {
  bool pipe_stdin = false;
  bool pipe_stdout = false;
  std::string stdout_file;  // append stdout here (when not piped); "" -> /dev/null
  std::string stderr_file;  // "" -> our own stderr
  std::string cwd;          // "" -> ours
};

// fork + exec; nullopt when the program cannot be started (exit 127 in the child).
std::optional<child_process> spawn(const std::vector<std::string>& argv, const spawn_options& o);

// Sends `sig`, then waits up to `wait` for the process to end; SIGKILL after
// that. Returns the wait status (or -1).
int stop(child_process& c, int sig, std::chrono::milliseconds wait);
// Waits up to `wait` without signalling; true when it ended.
bool wait_exit(child_process& c, std::chrono::milliseconds wait);

// Resident memory (VmRSS) in KiB, -1 when unknown.
long rss_kib(pid_t pid);
// utime + stime in seconds (all threads), -1 when unknown.
double cpu_seconds(pid_t pid);

std::int64_t monotonic_ns();

// The directory of this executable (…/build/tools).
std::string own_directory();

} // namespace evnet::bench

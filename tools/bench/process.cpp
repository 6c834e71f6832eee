#include "process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace evnet::bench {

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::optional<child_process> spawn(const std::vector<std::string>& argv, const spawn_options& o) {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if ((o.pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) || (o.pipe_stdout && ::pipe2(out, O_CLOEXEC) != 0)) {
    return std::nullopt;
  }
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    return std::nullopt;
  }
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(o.pipe_stdin ? in[0] : null, 0);
    if (o.pipe_stdout) {
      ::dup2(out[1], 1);
    } else if (!o.stdout_file.empty()) {
      const int f = ::open(o.stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(f >= 0 ? f : null, 1);
    } else {
      ::dup2(null, 1);
    }
    if (!o.stderr_file.empty()) {
      const int f = ::open(o.stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (f >= 0) {
        ::dup2(f, 2);
      }
    }
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) {
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  child_process c;
  c.pid = pid;
  if (o.pipe_stdin) {
    ::close(in[0]);
    c.stdin_fd = in[1];
  }
  if (o.pipe_stdout) {
    ::close(out[1]);
    c.stdout_fd = out[0];
    ::fcntl(c.stdout_fd, F_SETFL, O_NONBLOCK);
  }
  return c;
}

bool wait_exit(child_process& c, std::chrono::milliseconds wait) {
  if (c.pid <= 0) {
    return true;
  }
  const auto deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.pid = -1;
      return true;
    }
    if (monotonic_ns() >= deadline) {
      return false;
    }
    ::usleep(10'000);
  }
}

int stop(child_process& c, int sig, std::chrono::milliseconds wait) {
  if (c.stdin_fd >= 0) {
    ::close(c.stdin_fd);
    c.stdin_fd = -1;
  }
  int status = -1;
  if (c.pid > 0) {
    ::kill(c.pid, sig);
    const auto deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    for (;;) {
      const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
      if (r == c.pid || (r < 0 && errno == ECHILD)) {
        break;
      }
      if (monotonic_ns() >= deadline) {
        ::kill(c.pid, SIGKILL);
        ::waitpid(c.pid, &status, 0);
        break;
      }
      ::usleep(10'000);
    }
    c.pid = -1;
  }
  if (c.stdout_fd >= 0) {
    ::close(c.stdout_fd);
    c.stdout_fd = -1;
  }
  return status;
}

long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) {
    return -1.0;
  }
  std::istringstream fields{all.substr(close + 2)};
  std::string skip;
  for (int i = 0; i < 11; ++i) {
    fields >> skip;
  }
  long utime = 0;
  long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string own_directory() {
  char buf[PATH_MAX];
  const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) {
    return ".";
  }
  std::string path(buf, static_cast<std::size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

} // namespace evnet::bench

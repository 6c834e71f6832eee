#include "fleet_client.hpp"

#include <cerrno>
#include <csignal>

#include <poll.h>
#include <unistd.h>

namespace evnet::bench {

bool fleet_client::start(const std::vector<std::string>& argv, const std::string& stderr_file,
                         const std::string& log_file) {
  if (!log_file.empty()) {
    log_ = std::fopen(log_file.c_str(), "a");
  }
  spawn_options o;
  o.pipe_stdin = true;
  o.pipe_stdout = true;
  o.stderr_file = stderr_file;
  auto c = spawn(argv, o);
  if (!c) {
    return false;
  }
  proc_ = *c;
  ended_ = false;
  return true;
}

void fleet_client::send(const std::string& command) {
  if (proc_.stdin_fd < 0) {
    return;
  }
  const std::string line = command + "\n";
  (void)::write(proc_.stdin_fd, line.data(), line.size());
}

void fleet_client::on_line(const std::string& line) {
  if (log_ != nullptr) {
    std::fprintf(log_, "%s\n", line.c_str());
  }
  auto v = json::parse(line);
  if (!v || !v->is_object()) {
    return;
  }
  const auto* ev = json::find(*v, "event");
  if (ev == nullptr || !ev->is_string()) {
    return;
  }
  const auto name = ev->get<std::string>();
  if (name == "progress") {
    progress_ = std::move(*v);
    return;
  }
  if (name == "limit" || name == "error") {
    const auto* d = json::find(*v, "detail");
    notes_.push_back("fleet " + name + ": " + (d != nullptr && d->is_string() ? d->get<std::string>() : line));
  }
  events_.push_back(std::move(*v));
}

void fleet_client::read_some(int timeout_ms) {
  if (proc_.stdout_fd < 0 || ended_) {
    if (timeout_ms > 0) {
      ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
    }
    return;
  }
  pollfd p{proc_.stdout_fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) {
    return;
  }
  char buf[65536];
  for (;;) {
    const auto n = ::read(proc_.stdout_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      break;  // EAGAIN
    }
    if (n == 0) {
      ended_ = true;
      break;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  for (auto pos = buffer_.find('\n'); pos != std::string::npos; pos = buffer_.find('\n')) {
    on_line(buffer_.substr(0, pos));
    buffer_.erase(0, pos + 1);
  }
}

std::optional<json::value> fleet_client::wait_for(const std::string& event, std::chrono::milliseconds timeout) {
  const auto deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if ((*it)["event"] == event) {
        json::value v = std::move(*it);
        events_.erase(it);
        return v;
      }
    }
    const auto left = deadline - monotonic_ns();
    if (left <= 0 || ended_) {
      return std::nullopt;
    }
    read_some(static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 200)));
  }
}

void fleet_client::pump(std::chrono::milliseconds how_long) {
  const auto deadline = monotonic_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(how_long).count();
  for (auto left = deadline - monotonic_ns(); left > 0; left = deadline - monotonic_ns()) {
    read_some(static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 200)));
  }
}

void fleet_client::stop() {
  if (proc_.pid > 0) {
    send("quit");
    if (!wait_exit(proc_, std::chrono::seconds{30})) {
      (void)bench::stop(proc_, SIGTERM, std::chrono::seconds{10});
    }
  }
  if (proc_.stdin_fd >= 0) {
    ::close(proc_.stdin_fd);
    proc_.stdin_fd = -1;
  }
  if (proc_.stdout_fd >= 0) {
    ::close(proc_.stdout_fd);
    proc_.stdout_fd = -1;
  }
  if (log_ != nullptr) {
    std::fclose(log_);
    log_ = nullptr;
  }
}

} // namespace evnet::bench

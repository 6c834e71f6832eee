#include "supervisor.hpp"

#include "books.hpp"
#include "naming.hpp"
#include "plan.hpp"
#include "setup.hpp"
#include "worker.hpp"

#include "evnet/json.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace evnet::fleet {

namespace {

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t wall_minus_monotonic_us() {
  timespec mono{};
  timespec wall{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &wall);
  return (static_cast<std::int64_t>(wall.tv_sec) - mono.tv_sec) * 1'000'000 + (wall.tv_nsec - mono.tv_nsec) / 1000;
}

std::string base36(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  do {
    s.insert(s.begin(), digits[v % 36]);
    v /= 36;
  } while (v != 0);
  return s;
}

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct child {
  pid_t pid = -1;
  int control = -1;  // we write
  int reports = -1;  // we read
  std::string buffer;
  bool alive = true;
  json::value progress;
};

double ms(double us) { return us / 1000.0; }

std::uint64_t u64(const json::value& v, const char* key) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->is_number_unsigned() ? f->get<std::uint64_t>() : 0;
}
std::int64_t i64(const json::value& v, const char* key) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->is_number_integer() ? f->get<std::int64_t>() : 0;
}
double dbl(const json::value& v, const char* key) {
  const auto* f = json::find(v, key);
  return f != nullptr && f->is_number() ? f->get<double>() : 0.0;
}

class supervisor {
public:
  explicit supervisor(const fleet_options& o) : o_(o) {}
  int run();

private:
  bool spawn(const fd_budget& budget);
  void loop();
  void send_all(const std::string& line);
  void on_line(std::size_t w, const std::string& line);
  void collect(const std::string& event, std::size_t w, json::value v);
  void emit(json::object o);
  void say(const std::string& text);
  void merged(const std::string& event, std::vector<json::value>& parts);
  void print_progress();
  void script_step();
  std::size_t alive() const;

  const fleet_options& o_;
  naming names_;
  std::optional<fleet_keys> keys_;
  std::vector<slice> slices_;
  std::vector<child> children_;
  std::map<std::string, std::vector<std::optional<json::value>>> pending_;
  std::int64_t started_ns_ = 0;
  std::int64_t storm_t0_ns_ = 0;
  std::string stdin_buffer_;
  bool stdin_open_ = true;
  bool quitting_ = false;
  // the script without --control
  enum class stage { wait_ready, running, wait_window, wait_drain, wait_books, done } stage_ = stage::wait_ready;
  std::int64_t stage_at_ = 0;
};

void supervisor::emit(json::object o) {
  if (!o_.json) {
    return;
  }
  std::printf("%s\n", json::dump(json::value(std::move(o))).c_str());
  std::fflush(stdout);
}

void supervisor::say(const std::string& text) {
  if (o_.json) {
    return;
  }
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

std::size_t supervisor::alive() const {
  return static_cast<std::size_t>(std::count_if(children_.begin(), children_.end(), [](const child& c) { return c.alive; }));
}

int supervisor::run() {
  names_ = naming::for_counts(o_.cps, o_.drivers, o_.cp_prefix, o_.driver_prefix);
  const auto budget = plan_fd_budget(o_.cps, o_.drivers, o_.workers);
  const auto machine = check_machine(o_.cps, o_.drivers, budget.workers);
  if (!machine.blocking.empty()) {
    emit(json::object{{"event", "limit"}, {"what", "machine"}, {"detail", machine.blocking}});
    std::fprintf(stderr, "ev_fleet: this machine cannot hold the fleet: %s\n", machine.blocking.c_str());
    return 3;
  }
  if (!o_.insecure) {
    auto k = load_fleet_keys(o_.keys_dir, names_, o_.cps, o_.drivers);
    if (!k) {
      std::fprintf(stderr, "ev_fleet: %s\n", k.err().message.c_str());
      return 1;
    }
    keys_ = std::move(*k);
  }
  slices_ = split(o_.cps, o_.drivers, budget.workers);
  started_ns_ = now_ns();
  emit(json::object{{"event", "started"},
                    {"cps", o_.cps},
                    {"drivers", o_.drivers},
                    {"rate", o_.rate},
                    {"seed", o_.seed},
                    {"central", o_.host + ":" + std::to_string(o_.port)},
                    {"curve", !o_.insecure},
                    {"workers", budget.workers},
                    {"fd_limit", budget.limit},
                    {"fds_needed", budget.needed},
                    {"fds_per_worker", budget.per_worker},
                    {"started_ns", started_ns_},
                    {"warning", machine.warning}});
  say("ev_fleet: " + std::to_string(o_.cps) + " CPs, " + std::to_string(o_.drivers) + " drivers, " +
      std::to_string(budget.workers) + " worker process(es) (open-file limit " + std::to_string(budget.limit) +
      " per process, " + std::to_string(budget.needed) + " descriptors needed)" +
      (machine.warning.empty() ? "" : "; " + machine.warning));
  if (!spawn(budget)) {
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  loop();
  int worst = 0;
  for (auto& c : children_) {
    int status = 0;
    if (c.pid > 0 && ::waitpid(c.pid, &status, 0) == c.pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        worst = std::max(worst, WEXITSTATUS(status));
      } else if (WIFSIGNALED(status)) {
        worst = std::max(worst, 1);
      }
    }
  }
  return worst;
}

bool supervisor::spawn(const fd_budget& budget) {
  plan_settings ps;
  ps.cps = o_.cps;
  ps.drivers = o_.drivers;
  ps.slices = slices_;
  ps.rate = o_.rate;
  ps.min_duration_s = o_.min_duration_s;
  ps.max_duration_s = o_.max_duration_s;
  ps.fault_rate = o_.fault_rate;
  ps.seed = o_.seed;
  sim_context ctx;
  ctx.nonce = base36(static_cast<std::uint64_t>(std::time(nullptr)) * 1000 + static_cast<std::uint64_t>(::getpid()) % 1000);
  ctx.epoch_offset_us = wall_minus_monotonic_us();
  ctx.cp_prefix = o_.cp_prefix;
  ctx.driver_prefix = o_.driver_prefix;
  std::fflush(stdout);
  for (int w = 0; w < budget.workers; ++w) {
    int control[2];
    int reports[2];
    if (::pipe2(control, O_CLOEXEC) != 0 || ::pipe2(reports, O_CLOEXEC) != 0) {
      std::fprintf(stderr, "ev_fleet: cannot make pipes: %s\n", std::strerror(errno));
      return false;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "ev_fleet: cannot fork worker %d: %s\n", w, std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      for (auto& c : children_) {
        ::close(c.control);
        ::close(c.reports);
      }
      ::close(control[1]);
      ::close(reports[0]);
      ::fcntl(control[0], F_SETFL, O_NONBLOCK);
      std::signal(SIGINT, SIG_IGN);  // the parent decides when we stop
      std::signal(SIGPIPE, SIG_IGN);
      worker_settings ws;
      ws.index = w;
      ws.share = slices_[static_cast<std::size_t>(w)];
      ws.plan = ps;
      ws.names = names_;
      ws.ctx = ctx;
      ws.host = o_.host;
      ws.port = o_.port;
      ws.keys = keys_ ? &*keys_ : nullptr;
      ws.control_fd = control[0];
      ws.report_fd = reports[1];
      ws.books_dir = o_.books_dir;
      ws.io_threads = o_.io_threads;
      ws.heartbeat_ms = o_.heartbeat_ms;
      ws.max_connecting = o_.max_connecting;
      ws.max_sockets = static_cast<int>(budget.per_worker / 2);
      const int rc = run_worker(ws);
      ::_exit(rc);
    }
    ::close(control[0]);
    ::close(reports[1]);
    child c;
    c.pid = pid;
    c.control = control[1];
    c.reports = reports[0];
    children_.push_back(std::move(c));
  }
  return true;
}

void supervisor::send_all(const std::string& line) {
  for (auto& c : children_) {
    if (!c.alive) {
      continue;
    }
    const std::string l = line + "\n";
    if (::write(c.control, l.data(), l.size()) < 0) {
      c.alive = false;
    }
  }
}

void supervisor::loop() {
  std::int64_t next_progress = now_ns() + 1'000'000'000;
  stage_at_ = now_ns();
  while (alive() > 0) {
    if (stop_requested != 0 && !quitting_) {
      quitting_ = true;
      send_all("quit");
    }
    std::vector<pollfd> fds;
    std::vector<std::size_t> who;
    for (std::size_t w = 0; w < children_.size(); ++w) {
      if (children_[w].alive) {
        fds.push_back(pollfd{children_[w].reports, POLLIN, 0});
        who.push_back(w);
      }
    }
    if (o_.control && stdin_open_) {
      fds.push_back(pollfd{0, POLLIN, 0});
      who.push_back(children_.size());
    }
    (void)::poll(fds.data(), fds.size(), 100);
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[65536];
      const auto n = ::read(fds[k].fd, buf, sizeof buf);
      if (who[k] == children_.size()) {
        if (n <= 0) {
          stdin_open_ = false;
          if (!quitting_) {
            quitting_ = true;
            send_all("quit");  // whoever drove us is gone
          }
          continue;
        }
        stdin_buffer_.append(buf, static_cast<std::size_t>(n));
        for (auto pos = stdin_buffer_.find('\n'); pos != std::string::npos; pos = stdin_buffer_.find('\n')) {
          std::string line = stdin_buffer_.substr(0, pos);
          stdin_buffer_.erase(0, pos + 1);
          if (line.rfind("storm", 0) == 0) {
            storm_t0_ns_ = std::strtoll(line.c_str() + 5, nullptr, 10);
          }
          if (line == "quit") {
            quitting_ = true;
          }
          send_all(line);
        }
        continue;
      }
      auto& c = children_[who[k]];
      if (n <= 0) {
        if (n < 0 && errno == EINTR) {
          continue;
        }
        c.alive = false;
        int status = 0;
        std::string how = "exited";
        if (::waitpid(c.pid, &status, 0) == c.pid) {
          how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                    : "exited with status " + std::to_string(WEXITSTATUS(status));
          c.pid = -1;
        }
        if (!quitting_) {
          emit(json::object{{"event", "error"}, {"detail", "worker " + std::to_string(who[k]) + " " + how}});
          std::fprintf(stderr, "ev_fleet: worker %zu %s\n", who[k], how.c_str());
        }
        continue;
      }
      c.buffer.append(buf, static_cast<std::size_t>(n));
      for (auto pos = c.buffer.find('\n'); pos != std::string::npos; pos = c.buffer.find('\n')) {
        const std::string line = c.buffer.substr(0, pos);
        c.buffer.erase(0, pos + 1);
        on_line(who[k], line);
      }
    }
    const auto now = now_ns();
    if (now >= next_progress) {
      next_progress = now + 1'000'000'000;
      print_progress();
    }
    if (!o_.control) {
      script_step();
    }
  }
}

void supervisor::on_line(std::size_t w, const std::string& line) {
  auto parsed = json::parse(line);
  if (!parsed || !parsed->is_object()) {
    return;
  }
  const auto* ev = json::find(*parsed, "event");
  if (ev == nullptr || !ev->is_string()) {
    return;
  }
  const auto event = ev->get<std::string>();
  if (event == "progress") {
    children_[w].progress = std::move(*parsed);
    return;
  }
  if (event == "limit") {
    json::object o;
    for (const auto& [k, v] : parsed->items()) {
      o.emplace(k, json::value(v));
    }
    emit(std::move(o));
    std::fprintf(stderr, "ev_fleet: worker %zu hit a machine limit (%s): %s\n", w,
                 json::find(*parsed, "what")->get<std::string>().c_str(),
                 json::find(*parsed, "detail")->get<std::string>().c_str());
    return;
  }
  collect(event, w, std::move(*parsed));
}

void supervisor::collect(const std::string& event, std::size_t w, json::value v) {
  auto& slots = pending_[event];
  slots.resize(children_.size());
  slots[w] = std::move(v);
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (children_[i].alive && !slots[i]) {
      return;
    }
  }
  std::vector<json::value> parts;
  for (auto& s : slots) {
    if (s) {
      parts.push_back(std::move(*s));
    }
  }
  pending_.erase(event);
  merged(event, parts);
}

void supervisor::merged(const std::string& event, std::vector<json::value>& parts) {
  if (event == "ready") {
    std::int64_t at = 0;
    for (const auto& p : parts) {
      at = std::max(at, i64(p, "at_ns"));
    }
    const double t = static_cast<double>(at - started_ns_) / 1e9;
    emit(json::object{{"event", "ready"}, {"cps", o_.cps}, {"drivers", o_.drivers}, {"t_s", t}, {"at_ns", at}});
    char text[160];
    std::snprintf(text, sizeof text, "all %d CPs and %d drivers in after %.2f s", o_.cps, o_.drivers, t);
    say(text);
    if (!o_.control && stage_ == stage::wait_ready) {
      send_all("go");
      stage_ = stage::running;
      stage_at_ = now_ns();
    }
    return;
  }
  if (event == "window" || event == "books") {
    counters c;
    double seconds = 0.0;
    double cpu = 0.0;
    json::object extra;
    for (const auto& p : parts) {
      if (const auto* k = json::find(p, "counters")) {
        c.merge(counters::from_json(*k));
      }
      seconds = std::max(seconds, dbl(p, "seconds"));
      cpu += dbl(p, "cpu_s");
      if (event == "books") {
        for (const char* key : {"records", "unsettled", "unacknowledged", "no_ticket", "doubled",
                                "tickets_mismatched", "tickets_unknown", "doubled_yeses", "billed_after_no", "other_charge",
                                "stale_views"}) {
          const auto sum = (extra.count(key) != 0 ? extra[key].get<std::uint64_t>() : 0) + u64(p, key);
          extra[key] = sum;
        }
      }
    }
    json::object refusals;
    for (const auto& [k, n] : c.refusals) {
      refusals.emplace(k, n);
    }
    json::object o{{"event", event}};
    if (event == "window") {
      o.emplace("seconds", seconds);
      o.emplace("requests_per_s", seconds > 0 ? static_cast<double>(c.requests) / seconds : 0.0);
      o.emplace("fleet_cpu_pct", seconds > 0 ? 100.0 * cpu / seconds : 0.0);
    } else {
      for (auto& [k, v] : extra) {
        o.emplace(k, json::value(v));
      }
      o.emplace("fleet_cpu_s", cpu);
    }
    o.emplace("requests", c.requests);
    o.emplace("authorized", c.authorized);
    o.emplace("refused", c.refused);
    o.emplace("unanswered", c.unanswered);
    o.emplace("refusals", std::move(refusals));
    o.emplace("auth_samples", c.auth_us.count());
    o.emplace("auth_p50_ms", c.auth_us.percentile_ms(0.50));
    o.emplace("auth_p99_ms", c.auth_us.percentile_ms(0.99));
    o.emplace("auth_max_ms", ms(static_cast<double>(c.auth_us.max_us())));
    o.emplace("telemetry_samples", c.telemetry_us.count());
    o.emplace("telemetry_p50_ms", c.telemetry_us.percentile_ms(0.50));
    o.emplace("telemetry_p99_ms", c.telemetry_us.percentile_ms(0.99));
    o.emplace("telemetry_max_ms", ms(static_cast<double>(c.telemetry_us.max_us())));
    json::value all = c.to_json();
    all.erase("auth_us");
    all.erase("telemetry_us");
    o.emplace("counters", std::move(all));
    char text[400];
    if (event == "window") {
      std::snprintf(text, sizeof text,
                    "window %.1f s: %llu requests (%.1f/s), %llu authorized, %llu refused; authorisation p50 %.2f ms "
                    "p99 %.2f ms; telemetry p50 %.2f ms p99 %.2f ms",
                    seconds, static_cast<unsigned long long>(c.requests),
                    seconds > 0 ? static_cast<double>(c.requests) / seconds : 0.0,
                    static_cast<unsigned long long>(c.authorized), static_cast<unsigned long long>(c.refused),
                    c.auth_us.percentile_ms(0.5), c.auth_us.percentile_ms(0.99), c.telemetry_us.percentile_ms(0.5),
                    c.telemetry_us.percentile_ms(0.99));
    } else {
      std::snprintf(text, sizeof text,
                    "books: %llu requests, %llu authorized, %llu refused, %llu charges supplied, %llu tickets; "
                    "unsettled %llu, doubled %llu",
                    static_cast<unsigned long long>(c.requests), static_cast<unsigned long long>(c.authorized),
                    static_cast<unsigned long long>(c.refused), static_cast<unsigned long long>(c.records),
                    static_cast<unsigned long long>(c.tickets), static_cast<unsigned long long>(u64(o, "unsettled")),
                    static_cast<unsigned long long>(u64(o, "doubled")));
    }
    emit(std::move(o));
    say(text);
    for (const auto& [k, n] : c.refusals) {
      say("  refused " + std::to_string(n) + " x " + k);
    }
    if (!o_.control && event == "window" && stage_ == stage::wait_window) {
      send_all("drain");
      stage_ = stage::wait_drain;
    } else if (!o_.control && event == "books" && stage_ == stage::wait_books) {
      send_all("quit");
      quitting_ = true;
      stage_ = stage::done;
    }
    return;
  }
  if (event == "blast") {
    std::uint64_t messages = 0;
    std::uint64_t missing = 0;
    std::uint64_t links = 0;
    std::int64_t start = INT64_MAX;
    std::int64_t end = 0;
    for (const auto& p : parts) {
      messages += u64(p, "messages");
      missing += u64(p, "missing");
      links += u64(p, "links");
      start = std::min(start, i64(p, "start_ns"));
      end = std::max(end, i64(p, "end_ns"));
    }
    const double seconds = end > start ? static_cast<double>(end - start) / 1e9 : 0.0;
    const double rate = seconds > 0 ? static_cast<double>(messages) / seconds : 0.0;
    emit(json::object{{"event", "blast"},
                      {"links", links},
                      {"messages", messages},
                      {"missing", missing},
                      {"seconds", seconds},
                      {"per_s", rate}});
    say("blast: " + std::to_string(messages) + " messages on " + std::to_string(links) + " links in " +
        std::to_string(seconds) + " s: " + std::to_string(static_cast<long>(rate)) + " per second");
    return;
  }
  if (event == "storm") {
    std::int64_t cps_back = 0;
    std::int64_t drivers_back = 0;
    for (const auto& p : parts) {
      cps_back = std::max(cps_back, i64(p, "cps_back_ns"));
      drivers_back = std::max(drivers_back, i64(p, "drivers_back_ns"));
    }
    const double cps_s = static_cast<double>(cps_back - storm_t0_ns_) / 1e9;
    const double drivers_s = static_cast<double>(drivers_back - storm_t0_ns_) / 1e9;
    emit(json::object{{"event", "storm"}, {"cps_back_s", cps_s}, {"drivers_back_s", drivers_s}});
    char text[160];
    std::snprintf(text, sizeof text, "every CP authenticated again %.2f s after T0, every driver %.2f s", cps_s,
                  drivers_s);
    say(text);
    return;
  }
  if (event == "drained") {
    bool complete = true;
    std::uint64_t waiting = 0;
    std::uint64_t busy = 0;
    std::uint64_t due = 0;
    for (const auto& p : parts) {
      const auto* c = json::find(p, "complete");
      complete = complete && c != nullptr && c->is_boolean() && c->get<bool>();
      waiting += u64(p, "requests_waiting");
      busy += u64(p, "cps_busy");
      due += u64(p, "tickets_due");
    }
    emit(json::object{{"event", "drained"},
                      {"complete", complete},
                      {"requests_waiting", waiting},
                      {"cps_busy", busy},
                      {"tickets_due", due}});
    say(complete ? "drained: every charge ended, acknowledged and ticketed"
                 : "drain gave up: " + std::to_string(waiting) + " requests unanswered, " + std::to_string(busy) +
                       " CPs busy, " + std::to_string(due) + " tickets due");
    if (!o_.control && stage_ == stage::wait_drain) {
      send_all("books");
      stage_ = stage::wait_books;
    }
  }
}

void supervisor::print_progress() {
  json::object sum{{"event", "progress"}, {"t_s", static_cast<double>(now_ns() - started_ns_) / 1e9}};
  double lag = 0.0;
  double cpu = 0.0;
  bool storm = false;
  for (const auto& c : children_) {
    if (!c.progress.is_object()) {
      continue;
    }
    for (const auto& [k, v] : c.progress.items()) {
      if (k == "lag_ms") {
        lag = std::max(lag, v.get<double>());
      } else if (k == "cpu_s") {
        cpu += v.get<double>();
      } else if (v.is_number_unsigned() && k != "worker") {
        const auto before = sum.count(k) != 0 ? sum[k].get<std::uint64_t>() : 0;
        sum[k] = before + v.get<std::uint64_t>();
      }
      storm = storm || k == "storm_back";
    }
  }
  sum["lag_ms"] = lag;
  sum["cpu_s"] = cpu;
  (void)storm;
  if (o_.json) {
    emit(sum);
    return;
  }
  auto get = [&](const char* k) { return sum.count(k) != 0 ? sum[k].get<std::uint64_t>() : 0; };
  char text[300];
  std::snprintf(text, sizeof text,
                "t=%5.1fs  CPs %llu/%d in (engines %llu), drivers %llu/%d ready, %llu busy; requests %llu, "
                "authorized %llu, refused %llu, tickets %llu; loop lag %.0f ms",
                sum["t_s"].get<double>(), static_cast<unsigned long long>(get("authenticated")), o_.cps,
                static_cast<unsigned long long>(get("engines")), static_cast<unsigned long long>(get("drivers_ready")),
                o_.drivers, static_cast<unsigned long long>(get("busy")),
                static_cast<unsigned long long>(get("requests")), static_cast<unsigned long long>(get("authorized")),
                static_cast<unsigned long long>(get("refused")), static_cast<unsigned long long>(get("tickets")), lag);
  say(text);
}

// Without --control: every CP in (or 120 s), go, --seconds, window, drain,
// books, quit.
void supervisor::script_step() {
  const auto now = now_ns();
  if (stage_ == stage::wait_ready && now - stage_at_ > 120'000'000'000LL) {
    emit(json::object{{"event", "limit"},
                      {"what", "time"},
                      {"detail", "not every CP and driver got in within 120 s; starting anyway"}});
    say("not every CP and driver got in within 120 s; starting anyway");
    send_all("go");
    stage_ = stage::running;
    stage_at_ = now;
  }
  if (stage_ == stage::running && static_cast<double>(now - stage_at_) / 1e9 >= o_.seconds) {
    send_all("window");
    stage_ = stage::wait_window;
  }
}

} // namespace

int run_fleet(const fleet_options& o) {
  supervisor s{o};
  return s.run();
}

} // namespace evnet::fleet

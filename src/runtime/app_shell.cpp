#include "evnet/runtime/app_shell.hpp"

#include "evnet/runtime/actor_sink.hpp"
#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/console.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/runtime/view.hpp"

#include <cstdio>
#include <filesystem>
#include <sys/resource.h>
#include <unistd.h>

namespace evnet::runtime {

namespace {

caf::actor_system_config& configured(caf::actor_system_config& cfg) {
  // Two cores on the target machines; CAF's default is one thread per core
  // anyway, but logging and the middleman stay off.
  cfg.set("scheduler.max-threads", 2);
  // Work sharing: idle workers sleep on a condition variable and an enqueue
  // wakes one. CAF's default (work stealing) polls while idle, sleeping 50 us
  // at a time (about 1,000 wake-ups a second per thread in an idle Central,
  // measured in docs/PERFORMANCE.md); our processes run a handful of actors,
  // so stealing buys nothing.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

} // namespace

struct app_shell::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor view;
  std::string component;
};

void ensure_parent_dir(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
  }
}

app_shell::app_shell(std::string component, bool headless, std::string log_path, panel_factory panel)
    : impl_(std::make_unique<impl>()), headless_(headless || !panel || ::isatty(STDOUT_FILENO) == 0) {
  block_shutdown_signals();
  if (!headless && headless_ && panel) {
    std::fprintf(stderr, "%s: stdout is not a terminal; running --headless\n", component.c_str());
  }
  if (!headless_ && log_path.empty()) {
    log_path = "var/" + component + ".log";
  }
  if (!log_path.empty()) {
    ensure_parent_dir(log_path);
    if (!open_log(log_path)) {
      std::fprintf(stderr, "warning: cannot write log file %s; logging to stderr\n", log_path.c_str());
    }
  }
  impl_->component = std::move(component);
  impl_->sys = std::make_unique<caf::actor_system>(configured(impl_->cfg));
  impl_->view = headless_ ? spawn_headless_view(*impl_->sys) : panel(*impl_->sys);
}

app_shell::~app_shell() = default;

caf::actor_system& app_shell::system() { return *impl_->sys; }

const caf::actor& app_shell::view() const { return impl_->view; }

int app_shell::run(const caf::actor& core, transport::transport& net) { return run(core, net, [] { return status(ok_value); }); }

int app_shell::run(const caf::actor& core, transport::transport& net, const std::function<status()>& started) {
  actor_sink sink{core};
  auto st = net.start(sink);
  if (st) {
    st = started();
  }
  if (!st) {
    caf::anon_send(impl_->view, quit_atom::value);
    caf::anon_send_exit(core, caf::exit_reason::user_shutdown);
    impl_->sys->await_all_actors_done();
    net.stop();
    std::fprintf(stderr, "%s: %s\n", impl_->component.c_str(), st.err().message.c_str());
    return 1;
  }
  caf::anon_send(impl_->view, attach_atom::value, core);
  signal_watcher signals{core};
  std::unique_ptr<stdin_reader> commands;
  if (headless_) {
    commands = std::make_unique<stdin_reader>(core);
  }
  log_line(impl_->component, "started");
  impl_->sys->await_all_actors_done();
  net.stop();
  log_line(impl_->component, "stopped");
  return 0;
}

std::uint64_t raise_open_file_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return 0;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      rl = raised;
    }
  }
  return static_cast<std::uint64_t>(rl.rlim_cur);
}

} // namespace evnet::runtime

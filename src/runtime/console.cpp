#include "evnet/runtime/console.hpp"

#include "evnet/runtime/atoms.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <string>
#include <thread>

namespace evnet::runtime {

namespace {

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// The reader threads outlive the actors they feed (a blocked read cannot be
// interrupted), so they hold only a weak reference: a strong one would keep
// the core alive, and with it the detached view, and the actor system's
// destructor would wait for them forever.
void send_to(const caf::actor_addr& target, auto&&... xs) {
  if (auto strong = caf::actor_cast<caf::actor>(target)) {
    caf::anon_send(strong, std::forward<decltype(xs)>(xs)...);
  }
}

} // namespace

void block_shutdown_signals() {
  sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a pipe must not kill us; writes report EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
}

struct signal_watcher::impl {
  std::thread thread;
};

signal_watcher::signal_watcher(caf::actor target) : impl_(std::make_unique<impl>()) {
  // Detached on purpose: sigwait() cannot be cancelled cleanly, and the
  // thread only ever sends a message to an actor reference it owns.
  impl_->thread = std::thread([target = target.address()] {
    sigset_t set = shutdown_signals();
    int count = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) {
        return;
      }
      if (++count > 1) {
        std::_Exit(130);
      }
      send_to(target, quit_atom::value);
    }
  });
  impl_->thread.detach();
}

signal_watcher::~signal_watcher() = default;

struct stdin_reader::impl {
  std::thread thread;
};

stdin_reader::stdin_reader(caf::actor target) : impl_(std::make_unique<impl>()) {
  impl_->thread = std::thread([target = target.address()] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      send_to(target, command_atom::value, line);
    }
  });
  impl_->thread.detach();
}

stdin_reader::~stdin_reader() = default;

} // namespace evnet::runtime

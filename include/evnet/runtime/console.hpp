#pragma once

// The process's edges that are not sockets: command lines on stdin, and
// SIGINT/SIGTERM/SIGHUP. Each runs on its own small thread and only ever
// sends messages to an actor.

#include <caf/all.hpp>

#include <memory>

namespace evnet::runtime {

// Blocks SIGINT, SIGTERM, SIGHUP and SIGPIPE in the calling thread. Call it in main
// before any other thread starts, so that every thread inherits the mask and
// only the signal watcher receives them.
void block_shutdown_signals();

// Sends (quit_atom) to `target` when a shutdown signal arrives. A second
// signal while the first is being handled exits at once.
class signal_watcher {
public:
  explicit signal_watcher(caf::actor target);
  ~signal_watcher();
  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Reads stdin line by line and sends (command_atom, line) to `target`.
// End of input just ends the reader: a headless process started with
// stdin closed keeps running until told to quit or signalled.
class stdin_reader {
public:
  explicit stdin_reader(caf::actor target);
  ~stdin_reader();  // detaches: a blocked read() cannot be interrupted portably
  stdin_reader(const stdin_reader&) = delete;
  stdin_reader& operator=(const stdin_reader&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::runtime

#pragma once

// What every evnet program does around its core actor: the actor system,
// the view (headless JSON lines or an ncurses panel), stdin commands,
// shutdown signals, the transport's start and the orderly stop. Mains hold
// only wiring; this is the wiring they share.
//
// Use: construct (blocks shutdown signals first), declare transport links,
// spawn the core with view(), then run(core, transport).

#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace evnet::runtime {

using panel_factory = std::function<caf::actor(caf::actor_system&)>;

class app_shell {
public:
  // `component` names the program in logs. In headless mode logs go to
  // stderr unless `log_path` is set; with a panel they go to `log_path`
  // (default var/<component>.log).
  app_shell(std::string component, bool headless, std::string log_path, panel_factory panel);
  ~app_shell();

  caf::actor_system& system();
  const caf::actor& view() const;
  bool headless() const { return headless_; }

  // Starts the transport with `core` as its sink, then serves until the
  // core quits. Returns the process exit code: 0, or 1 when the transport
  // cannot start (the reason is printed as one line on stderr).
  int run(const caf::actor& core, transport::transport& net);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  bool headless_;
};

// Creates the parent directory of `path` if it is missing.
void ensure_parent_dir(const std::string& path);

} // namespace evnet::runtime

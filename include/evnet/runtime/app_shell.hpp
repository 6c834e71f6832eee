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

#include <cstdint>
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
  // The same, with `started` called once the transport runs and before
  // anything else is served: what must not start before the transport
  // (EV_OCPP's WebSocket server, whose upgrades open links on it). An
  // error it returns stops everything, printed like the transport's.
  int run(const caf::actor& core, transport::transport& net, const std::function<status()>& started);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  bool headless_;
};

// Creates the parent directory of `path` if it is missing.
void ensure_parent_dir(const std::string& path);

// Raises the soft limit on open files to the hard one, for a process that
// holds connections per CP (Central, EV_OCPP): the soft limit is often
// 1,024. Returns the limit in force afterwards (0 when it cannot be read).
std::uint64_t raise_open_file_limit();

} // namespace evnet::runtime

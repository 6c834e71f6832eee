#pragma once

// What a domain machine wants done, collected while it handles one input
// and drained by its driver: the actor (which hands messages to the
// transport and events to the view) or the simulator (which delivers them
// through its fake network). Machines never send anything themselves: the
// sans-I/O shape (quinn-proto, h11) that lets the same rules run under real
// sockets, under unit tests and under the deterministic simulation.
//
// Thread-safety: none; owned by the machine's owner.

#include "evnet/json.hpp"
#include "evnet/protocol.hpp"

#include <string>
#include <utility>
#include <vector>

namespace evnet::domain {

// A message for one peer. `to` is a routing id on a server (Central, the
// Engine) or the name of a client's link ("central", "engine").
struct outgoing {
  std::string to;
  protocol::body body;
  std::uint64_t correlation = 0;
};

// An event for the view: a headless JSON line, a panel update.
struct notice {
  std::string name;
  json::object fields;
};

class outbox {
public:
  template <class T>
  void send(std::string to, T body, std::uint64_t correlation = 0) {
    sends_.push_back(outgoing{std::move(to), protocol::body{std::move(body)}, correlation});
  }
  void publish(protocol::cp_update u) { updates_.push_back(std::move(u)); }
  void notify(std::string name, json::object fields = {}) {
    notices_.push_back(notice{std::move(name), std::move(fields)});
  }

  std::vector<outgoing> take_sends() { return std::exchange(sends_, {}); }
  std::vector<protocol::cp_update> take_updates() { return std::exchange(updates_, {}); }
  std::vector<notice> take_notices() { return std::exchange(notices_, {}); }
  bool empty() const { return sends_.empty() && updates_.empty() && notices_.empty(); }

private:
  std::vector<outgoing> sends_;
  std::vector<protocol::cp_update> updates_;
  std::vector<notice> notices_;
};

} // namespace evnet::domain

#pragma once

// The skeleton every program's core actor shares, so that each program's
// actor is only wiring: decode, ask its domain machine, send what the
// machine says. The core provides
//  - events to the view (emit),
//  - one periodic tick, re-armed after each run, with the time passed in,
//  - the one clock read of the process's decisions (now()), which the
//    actor hands to its domain machine as a parameter,
//  - correlation ids for outgoing requests,
//  - an orderly quit (the view is told first),
//  - recognising "unauthenticated" from Central: Central restarted or
//    expired us, so the program introduces itself again (reintroduce()).
//
// Thread-safety: an actor; everything here runs on its own message handlers.

#include "evnet/json.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace evnet::runtime {

class core_actor : public caf::event_based_actor {
public:
  core_actor(caf::actor_config& cfg, caf::actor view, std::chrono::milliseconds tick_period);

  caf::behavior make_behavior() final;

protected:
  // Called once before the first message; the place for a "started" event.
  virtual void on_start() {}
  virtual void on_inbound(transport::inbound& in) = 0;
  virtual void on_link_event(const transport::link_event& ev) = 0;
  virtual void on_command(const std::string& line) = 0;
  virtual void on_tick(std::int64_t now) = 0;
  // Central asked us to authenticate again (error_reply unauthenticated).
  virtual void reintroduce(std::int64_t /*now*/) {}
  // After every handler: a place to flush what the domain produced.
  virtual void after_each() {}
  // A shutdown signal or the view asked to quit. The default quits at once;
  // a program with something to say first overrides it.
  virtual void on_quit() { quit_now(); }

  void emit(std::string name, json::object fields = {});
  void quit_now();  // tells the view, then quits
  std::int64_t now() const;
  std::uint64_t next_correlation() { return ++correlation_; }
  const caf::actor& view() const { return view_; }

private:
  caf::actor view_;
  std::chrono::milliseconds tick_period_;
  std::uint64_t correlation_ = 0;
};

} // namespace evnet::runtime

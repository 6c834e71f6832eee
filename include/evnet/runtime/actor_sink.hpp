#pragma once

// Bridges the transport thread to an actor: every decoded message and link
// event is sent to `target` as a CAF message (inbound / link_event). Sending
// to an actor is thread-safe, so the transport never blocks on an actor.

#include "evnet/runtime/atoms.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

namespace evnet::runtime {

class actor_sink final : public transport::sink {
public:
  explicit actor_sink(caf::actor target) : target_(std::move(target)) {}

  void on_message(transport::inbound in) override { caf::anon_send(target_, std::move(in)); }
  void on_event(transport::link_event ev) override { caf::anon_send(target_, std::move(ev)); }

private:
  caf::actor target_;
};

} // namespace evnet::runtime

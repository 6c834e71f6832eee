#pragma once

// Bridges the transport thread to an actor: every decoded message and link
// event is sent to `target` as a CAF message (inbound / link_event), and
// everything the transport read in one poll wake-up as one inbound_batch,
// so that an actor may handle a burst at once (Central commits its store
// once per batch: core_actor's group commit). Sending to an actor is
// thread-safe, so the transport never blocks on an actor.

#include "evnet/runtime/atoms.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <utility>
#include <vector>

namespace evnet::runtime {

// The messages of one transport wake-up, in the order they were read.
struct inbound_batch {
  std::vector<transport::inbound> msgs;
};

class actor_sink final : public transport::sink {
public:
  explicit actor_sink(caf::actor target) : target_(std::move(target)) {}

  void on_message(transport::inbound in) override { caf::anon_send(target_, std::move(in)); }
  void on_event(transport::link_event ev) override { caf::anon_send(target_, std::move(ev)); }
  void on_batch(std::vector<transport::inbound> msgs) override {
    if (msgs.size() == 1) {
      caf::anon_send(target_, std::move(msgs.front()));
      return;
    }
    caf::anon_send(target_, inbound_batch{std::move(msgs)});
  }

private:
  caf::actor target_;
};

} // namespace evnet::runtime

// Like inbound: only ever exchanged inside one process, never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::runtime::inbound_batch)

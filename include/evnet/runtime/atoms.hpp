#pragma once

// The messages that cross between actors of one process. Network messages
// are protocol::message values wrapped by the transport; everything else is
// one of these atoms plus plain values.

#include "evnet/json.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

namespace evnet::runtime {

// (command_atom, std::string line): a command line from stdin or the UI.
using command_atom = caf::atom_constant<caf::atom("command")>;
// (event_atom, json::value): an event for the view (headless line or panel).
using event_atom = caf::atom_constant<caf::atom("event")>;
// (attach_atom, caf::actor core): tells a view where to send commands.
using attach_atom = caf::atom_constant<caf::atom("attach")>;
// Periodic work, re-armed in its handler (delayed_send).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using next_atom = caf::atom_constant<caf::atom("next")>;
// Orderly shutdown: the receiver finishes what it owes and quits.
using quit_atom = caf::atom_constant<caf::atom("quit")>;

} // namespace evnet::runtime

// Actors of one process exchange these by value; nothing is serialised
// (we never load CAF's middleman), so the unsafe declaration is sound.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::transport::inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::transport::link_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::json::value)

#pragma once

// EV_Central's core actor: wiring between the transport (decoded messages
// in, messages out), the view (events out, operator commands in) and
// domain::central_machine, which makes every decision. The durable store is
// the machine's charge_book.
//
// Group commit (runtime::core_actor's group_inputs): the messages, link
// events, operator commands and ticks waiting together in the mailbox are
// handled as one batch of the store (one transaction, one fsync), and what
// the machine produced for them leaves only after that commit; a record_ack,
// a ticket or a yes never leaves before the write behind it is durable.
// What a batch produced before its first write leaves at once. A failed
// commit is shown (an `error` event) and the batch's replies are withheld:
// their senders retry. Writes nobody waits for (the audit rows of admitted
// CURVE handshakes) are committed together within 50 ms.

#include "evnet/domain/network.hpp"
#include "evnet/security/key_ring.hpp"
#include "evnet/store/central_store.hpp"
#include "evnet/transport.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace evnet::central {

struct central_links {
  transport::transport* net = nullptr;
  transport::link_id router = 0;    // Monitors, Engines, Drivers (request/reply)
  transport::link_id publisher = 0; // CP table stream (Clone pattern)
  // The keys the transport admits (null with --insecure): the actor keeps it
  // in step with the store and with revocations.
  std::shared_ptr<security::key_ring> ring;
};

struct central_settings {
  std::uint16_t port = 0;
  std::string db_path;
  std::uint16_t pub_port = 0;  // the CP stream (PUB); 0: port + 1
  std::string bind = "*";      // the address both ports bind
};

caf::actor spawn_central(caf::actor_system& sys, central_links links, central_settings settings,
                         std::unique_ptr<store::central_store> db, domain::network model, caf::actor view);

} // namespace evnet::central

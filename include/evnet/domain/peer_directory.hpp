#pragma once

// Central's directory of peers: who each routing id is (the Monitor of CP X,
// the Engine of CP X, driver D), which routing id currently speaks for each
// CP's Monitor and Engine and for each driver, and what each of them may
// send. Pure: the Central machine asks it for a verdict on every message
// and acts on the answer.
//
// What each role may send (anything else is `unexpected`; a peer that has
// not introduced itself is `unauthenticated`; introductions (cp_auth,
// engine_hello, driver_hello), snapshot_request and error_reply are open to
// anyone and are not judged here):
//   Monitor of X: cp_status, authorize_reply, decision_ack for X; ack;
//                 charge_request for driver "@X" at X (else `not_allowed`)
//   Engine of X:  telemetry and charge_finished for X
//   driver D:     charge_request as D (else `not_allowed`); ticket_ack
// Only the peer that currently holds a role speaks for it: a routing id that
// was replaced by a newer one for the same role is forgotten.
//
// Thread-safety: none; owned by one machine.

#include "evnet/protocol.hpp"

#include <map>
#include <optional>
#include <string>

namespace evnet::domain {

enum class peer_role : std::uint8_t { monitor, engine, driver };

struct peer_identity {
  peer_role role = peer_role::driver;
  std::string id;  // CP id (monitor, engine) or driver id
  bool operator==(const peer_identity&) const = default;
};

enum class verdict : std::uint8_t {
  allowed,
  unexpected,       // this peer may not send this message
  unauthenticated,  // introduce yourself first
  not_allowed,      // a charge_request outside what this identity may ask for
};

class peer_directory {
public:
  // Who `peer` is, or nullptr.
  const peer_identity* who(const std::string& peer) const;
  // The routing id currently holding a role, or nullptr.
  const std::string* monitor_of(const std::string& cp_id) const;
  const std::string* engine_of(const std::string& cp_id) const;
  const std::string* driver_peer(const std::string& driver_id) const;

  // True when `peer` already is the Monitor of `cp_id`: a re-authentication
  // on the same link keeps its session.
  bool is_monitor_of(const std::string& peer, const std::string& cp_id) const;

  struct binding {
    bool is_new = false;                    // the role changed hands (or was vacant)
    std::optional<peer_identity> lost;      // a role `peer` held before, now vacant
    std::optional<std::string> displaced;   // the routing id that held the role before
  };
  // `peer` now speaks as `who`. A previous role of `peer` is given up (lost),
  // a previous holder of `who` is forgotten (displaced).
  binding bind(const std::string& peer, peer_identity who);

  // The link to `peer` is gone. Returns the role it held, if it was the
  // current holder (a Monitor lost means its CP is DISCONNECTED).
  std::optional<peer_identity> forget(const std::string& peer);

  // May `peer` send `body`? (see the table above)
  verdict judge(const std::string& peer, const protocol::body& body) const;

private:
  std::map<std::string, std::string>& slots(peer_role r);
  const std::map<std::string, std::string>& slots(peer_role r) const;

  std::map<std::string, peer_identity> roles_;      // routing id -> who
  std::map<std::string, std::string> monitors_;     // cp -> routing id
  std::map<std::string, std::string> engines_;      // cp -> routing id
  std::map<std::string, std::string> drivers_;      // driver -> routing id
};

} // namespace evnet::domain

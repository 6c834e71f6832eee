#pragma once

// Who a key speaks for, and what it may say.
//
// With CURVE on, the transport's ZAP handler names the key behind every
// message in its User-Id: "central", "cp:<ID>" or "driver:<ID>" (see
// security/keys.hpp; parsed here again so that the domain needs no ZeroMQ).
// A CP's key acts only as that CP, as its Monitor or its Engine; a driver's
// key only as that driver; Central's own key speaks for nobody. claims()
// answers, for one decoded message, whether its key may send it from a peer
// bound as `bound` (nullptr: the peer has not introduced itself); every id
// the body names must be the key's own. What a bound role may send at all
// (a Monitor's telemetry) is peer_directory's verdict, not this one's.
//
// Thread-safety: pure functions.

#include "evnet/domain/peer_directory.hpp"
#include "evnet/protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace evnet::domain {

struct key_claim {
  enum class kind : std::uint8_t { none, central, cp, driver };
  kind what = kind::none;
  std::string id;  // CP or driver id; empty for central and none
  bool operator==(const key_claim&) const = default;
};

// "central" -> central; "cp:ALC1" -> cp ALC1; "driver:D1" -> driver D1;
// anything else (empty: CURVE off; an id outside the safe alphabet) -> none.
key_claim parse_user_id(std::string_view user_id);

// Why the key `key` may not send `body` from a peer bound as `bound`, or
// nullopt when it may. Introductions must claim the key's own CP or driver;
// heartbeat, error_reply and snapshot_request name nobody and pass.
std::optional<std::string> forbidden(const key_claim& key, const peer_identity* bound, const protocol::body& body);

} // namespace evnet::domain

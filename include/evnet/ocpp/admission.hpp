#pragma once

// What a WebSocket upgrade waiting for Central becomes, from the `auth`
// event of the gateway's Monitor for it (Central's answer to its cp_auth):
// admitted; refused (HTTP 401: unknown or revoked CP, wrong password); or
// waiting, when Central still holds the charge point's previous Monitor
// connection (`already_connected`: the Monitor asks again every 3 s, and
// Central sees a closed connection go at once). A decision, so it is here
// and tested, not in the actor.
//
// Thread-safety: pure functions.

#include "evnet/domain/outbox.hpp"
#include "evnet/json.hpp"

#include <string>
#include <string_view>

namespace evnet::ocpp {

enum class admission { admit, wait, refuse };

struct admission_verdict {
  admission what = admission::refuse;
  std::string reason;  // for the refusal or the wait, as Central said it
};

admission_verdict admission_for(const json::object& auth_event);

// What a notice of a gateway session's Monitor asks of the gateway besides
// being shown: Central answered its cp_auth (`auth`: the admission above),
// or Central refused a charge the charge point started itself
// (`local_charge` not ok: the held Authorize or StartTransaction is
// refused, with Central's reason).
struct monitor_notice_meaning {
  enum class kind { shown_only, central_answered, charge_refused };
  kind what = kind::shown_only;
  admission_verdict admission;  // central_answered
  std::string reason;           // charge_refused
};
monitor_notice_meaning meaning_of(const domain::notice& n);

// EV_OCPP's console commands (stdin when headless).
enum class gateway_command { none, list, quit, unknown };
gateway_command parse_gateway_command(std::string_view line);

} // namespace evnet::ocpp

#pragma once

// What a WebSocket upgrade waiting for Central becomes, from the `auth`
// event of the gateway's Monitor for it (Central's answer to its cp_auth):
// admitted; refused (HTTP 401: unknown or revoked CP, wrong password); or
// waiting, when Central still holds the charge point's previous Monitor
// connection (`already_connected`: the Monitor asks again every 3 s, and
// Central sees a closed connection go at once). A decision, so it is here
// and tested, not in the actor.
//
// Thread-safety: a pure function.

#include "evnet/json.hpp"

#include <string>

namespace evnet::ocpp {

enum class admission { admit, wait, refuse };

struct admission_verdict {
  admission what = admission::refuse;
  std::string reason;  // for the refusal or the wait, as Central said it
};

admission_verdict admission_for(const json::object& auth_event);

} // namespace evnet::ocpp

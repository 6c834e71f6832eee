#pragma once

// The table that decides which of the five states (evnet::cp_state, in the
// vocabulary) a charging point shows. Pure: no sockets, no terminal.

#include "evnet/vocabulary.hpp"

namespace evnet::domain {

using evnet::cp_state;

// What Central knows about a CP. The visible state is derived from it, never
// stored, so it cannot disagree with the facts:
//   monitor down                  -> DISCONNECTED (whatever the Engine)
//   monitor up, engine KO         -> BROKEN
//   monitor up, engine OK, stopped
//     or out of service           -> OUT_OF_ORDER
//   ... charging                  -> BUSY
//   otherwise                     -> ACTIVE
struct cp_condition {
  bool monitor_ok = false;
  bool engine_ok = true;
  bool stopped = false;         // by Central's operator
  bool charging = false;
  bool out_of_service = false;  // by the CP itself (an OCPP charge point's Unavailable)
};

cp_state derive_state(const cp_condition& c);

} // namespace evnet::domain

#pragma once

// evnet's one vocabulary: the closed sets of words that decisions are made
// on. Protocol, domain, UI and JSON output all use these enums; a string
// spelling exists only at the edges (the wire, JSON lines, the screen), and
// it is produced and parsed here, once. No decision compares strings.
//
// Every enum has to_string() (its stable spelling, as JSON and the wire
// carry it) and parse_<enum>() (nullopt for anything else).
//
// Thread-safety: pure functions over constants.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace evnet {

// The longest charge anyone may ask for (a request file, a command line, a
// charge_request on the wire). 0 on the wire means "until unplugged".
inline constexpr std::int64_t max_duration_s = 24 * 3600;

// The five states a charging point shows (colours: green, blue, red,
// orange, grey).
enum class cp_state : std::uint8_t { active, busy, broken, out_of_order, disconnected };

// An operator's order to one CP, relayed Central -> Monitor -> Engine.
enum class cp_order : std::uint8_t { stop, resume };

// Why a charge ended; a ticket carries it.
enum class end_reason : std::uint8_t {
  completed,         // its duration was reached
  unplugged,         // the vehicle was unplugged
  stopped,           // an operator STOP ("stopped by CENTRAL")
  engine_fault,      // the Engine failed
  monitor_lost,      // the Engine lost its Monitor and would not supply unwatched
  engine_restarted,  // the Engine process died mid-charge and settled on return
  never_plugged,     // authorised and confirmed, but no vehicle was plugged in
  revoked,           // the operator revoked the CP's (or the driver's) key mid-charge
};

// Machine-readable error codes: in result<> errors, on the wire
// (error_reply, refusals) and in JSON "error" events.
enum class errc : std::uint8_t {
  // input and arguments
  usage,
  bad_command,
  file,
  config,
  json,
  // wire
  malformed,
  too_large,
  bad_version,
  unknown_type,
  invalid_field,
  unauthenticated,  // "say hello again": the peer does not know us (any more)
  unexpected,       // a message this peer may not send here
  not_allowed,      // a request outside what this identity may ask for
  forbidden,        // a message its key may not send (it speaks for another CP or driver)
  revoked,          // the key is revoked: nothing more is accepted from it
  too_many,         // rate limit: the peer asks too often
  // transport
  bind_failed,
  connect_failed,
  socket_failed,
  transport_failed,
  rejected,
  unreachable,
  // registry and charges
  unknown_cp,
  unknown_driver,
  already_connected,
  disconnected,
  broken,
  out_of_order,
  busy,
  bad_duration,
  not_configured,
  wrong_cp,
  already_plugged,
  no_charge,
  no_answer,          // the CP (or Central) did not answer in time
  refused,            // the CP refused an authorisation
  reservation_expired,// a confirmation arrived after the CP dropped its reservation
  invalid_state,
  engine,
  // storage
  store,
};

std::string_view to_string(cp_state s);
std::string_view to_string(cp_order o);
std::string_view to_string(end_reason r);
std::string_view to_string(errc e);

std::optional<cp_state> parse_cp_state(std::string_view s);
std::optional<cp_order> parse_cp_order(std::string_view s);
std::optional<end_reason> parse_end_reason(std::string_view s);
std::optional<errc> parse_errc(std::string_view s);

// For test frameworks and logs.
std::ostream& operator<<(std::ostream& os, cp_state s);
std::ostream& operator<<(std::ostream& os, cp_order o);
std::ostream& operator<<(std::ostream& os, end_reason r);
std::ostream& operator<<(std::ostream& os, errc e);

} // namespace evnet

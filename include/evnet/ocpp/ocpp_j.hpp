#pragma once

// OCPP-J 1.6: the RPC framework that carries OCPP 1.6 over WebSocket text
// frames (OCPP-J 1.6 specification, section 4). Every frame is a JSON array:
//
//   CALL        [2, "<uniqueId>", "<Action>", {payload}]
//   CALLRESULT  [3, "<uniqueId>", {payload}]
//   CALLERROR   [4, "<uniqueId>", "<errorCode>", "<errorDescription>", {errorDetails}]
//
// parse() turns untrusted text into a typed frame or into a frame_error that
// says which CALLERROR answers it; encode() writes a frame back as compact
// JSON. Payloads stay JSON here: messages.hpp gives them types.
//
// Thread-safety: pure functions over values.

#include "evnet/json.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace evnet::ocpp {

// A frame longer than this is refused before it is parsed: no charge point
// message comes near it, and parsing costs memory proportional to the text.
inline constexpr std::size_t max_frame_bytes = 64 * 1024;

// The spec's limit on a uniqueId (a UUID's 36 characters).
inline constexpr std::size_t max_unique_id_size = 36;

// The id a CALLERROR carries when the offending frame's uniqueId could not
// be read (OCPP-J leaves it open; "-1" is what OCPP 2.x prescribes and what
// 1.6 central systems commonly send).
inline constexpr std::string_view unknown_id = "-1";

// The message type numbers of section 4.1.3.
enum class message_type : std::uint8_t { call = 2, call_result = 3, call_error = 4 };

// The errorCode values of a CALLERROR (OCPP-J 1.6 section 4.2.3, table 7).
// 1.6 spells two of them oddly and its errata keep them so ("will not be
// fixed"): FormationViolation, and OccurenceConstraintViolation with a
// single r. to_string() writes the 1.6 spelling; parse_call_error_code()
// also accepts "OccurrenceConstraintViolation" and "FormatViolation", which
// later OCPP versions (and some 1.6 stacks) send.
enum class call_error_code : std::uint8_t {
  not_implemented,                  // the Action is not known
  not_supported,                    // the Action is known but not supported
  internal_error,                   // the receiver failed while handling it
  protocol_error,                   // the payload is incomplete
  security_error,                   // refused for security reasons
  formation_violation,              // not a well-formed frame or payload
  property_constraint_violation,    // a field holds a value it may not hold
  occurrence_constraint_violation,  // a required field is missing (or too few items)
  type_constraint_violation,        // a field has the wrong JSON type
  generic_error,                    // anything else
};

std::string_view to_string(call_error_code c);
std::optional<call_error_code> parse_call_error_code(std::string_view s);
std::ostream& operator<<(std::ostream& os, call_error_code c);

// A request. `payload` is a JSON object.
struct call {
  std::string id;
  std::string action;
  json::value payload = json::object{};
};

// The answer to a CALL with the same id. `payload` is a JSON object.
struct call_result {
  std::string id;
  json::value payload = json::object{};
};

// The refusal of a CALL with the same id. `details` is a JSON object.
struct call_error {
  std::string id;
  call_error_code code = call_error_code::generic_error;
  std::string description;
  json::value details = json::object{};
};

using frame = std::variant<call, call_result, call_error>;

// Why a frame or a payload was refused, and so which CALLERROR answers it.
// `id` is the CALL's uniqueId when it could be read, unknown_id otherwise;
// payload validation (messages.hpp) leaves it empty for the caller to fill
// in with the CALL's id. `answer` is false when the refused frame was a
// CALLRESULT or CALLERROR: the spec never answers those (the receiver logs
// them and gives up on the call instead).
struct frame_error {
  std::string id;
  call_error_code code = call_error_code::generic_error;
  std::string description;
  bool answer = true;
};

// Either a T or a frame_error: evnet::result's shape, with an error that
// carries the CALLERROR to send. Thread-compatible, like any value type.
template <class T>
class outcome {
public:
  outcome(T value) : state_(std::move(value)) {}
  outcome(frame_error err) : state_(std::move(err)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  T& operator*() & { return std::get<0>(state_); }
  const T& operator*() const& { return std::get<0>(state_); }

  const frame_error& err() const { return std::get<1>(state_); }

private:
  std::variant<T, frame_error> state_;
};

// Parses one WebSocket text message. Never throws; what it refuses:
//  - over max_frame_bytes, not JSON (or nested deeper than json::max_depth,
//    or a repeated key), not an array, an empty array, a message type that
//    is not an integer, a uniqueId that is not a non-empty string of at most
//    max_unique_id_size characters: FormationViolation, id unknown_id.
//  - an integer message type other than 2, 3, 4: NotSupported with the
//    uniqueId when it can be read (1.6 has no dedicated code; 2.x added
//    MessageTypeNotSupported for exactly this).
//  - too few elements for the type: ProtocolError ("incomplete", in 1.6's
//    words); too many, or an element of the wrong JSON type (an Action or
//    errorCode that is not a non-empty string, a payload or errorDetails
//    that is not an object): FormationViolation.
// A CALLERROR whose errorCode is a string outside table 7 is accepted as
// generic_error, its description prefixed with the code it carried: the
// pending call it answers is failed either way.
outcome<frame> parse(std::string_view text);

// Compact JSON text of a frame. A payload or details that is not an object
// (a default-constructed json::value is null) is written as {}, so what
// goes out is always a valid OCPP-J frame. Never throws.
std::string encode(const frame& f);

// The CALLERROR that answers a refused CALL (details empty).
call_error to_call_error(const frame_error& e);

} // namespace evnet::ocpp

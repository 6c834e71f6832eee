#include "evnet/ocpp/ocpp_j.hpp"

#include <array>
#include <type_traits>

namespace evnet::ocpp {

namespace {

using code = call_error_code;

constexpr std::array<std::pair<code, std::string_view>, 10> code_names{{
    {code::not_implemented, "NotImplemented"},
    {code::not_supported, "NotSupported"},
    {code::internal_error, "InternalError"},
    {code::protocol_error, "ProtocolError"},
    {code::security_error, "SecurityError"},
    {code::formation_violation, "FormationViolation"},
    {code::property_constraint_violation, "PropertyConstraintViolation"},
    {code::occurrence_constraint_violation, "OccurenceConstraintViolation"},
    {code::type_constraint_violation, "TypeConstraintViolation"},
    {code::generic_error, "GenericError"},
}};

frame_error refuse(std::string id, code c, std::string description) {
  return frame_error{std::move(id), c, std::move(description), true};
}

// A refusal of the whole text: nothing in it can be trusted as an id.
frame_error malformed(std::string description) {
  return refuse(std::string(unknown_id), code::formation_violation, std::move(description));
}

// Elements each message type carries, its uniqueId included.
std::size_t element_count(message_type t) {
  switch (t) {
  case message_type::call:
    return 4;
  case message_type::call_result:
    return 3;
  case message_type::call_error:
    return 5;
  }
  return 0;
}

std::string_view type_name(message_type t) {
  switch (t) {
  case message_type::call:
    return "CALL";
  case message_type::call_result:
    return "CALLRESULT";
  case message_type::call_error:
    return "CALLERROR";
  }
  return "?";
}

// The frame's elements after its message type and id, checked for JSON
// types. `items` has the right count already.
outcome<frame> typed(message_type t, std::string id, json::array& items) {
  // A refusal of a CALLRESULT or CALLERROR is never answered.
  const auto wrong = [&](std::string description) {
    frame_error e = refuse(id, code::formation_violation, std::string(type_name(t)) + ": " + description);
    e.answer = t == message_type::call;
    return e;
  };
  switch (t) {
  case message_type::call: {
    if (!items[2].is_string() || items[2].get_ref<const std::string&>().empty()) {
      return wrong("the Action is not a non-empty string");
    }
    if (!items[3].is_object()) {
      return wrong("the payload is not a JSON object");
    }
    return frame{call{std::move(id), items[2].get<std::string>(), std::move(items[3])}};
  }
  case message_type::call_result: {
    if (!items[2].is_object()) {
      return wrong("the payload is not a JSON object");
    }
    return frame{call_result{std::move(id), std::move(items[2])}};
  }
  case message_type::call_error: {
    if (!items[2].is_string() || items[2].get_ref<const std::string&>().empty()) {
      return wrong("the errorCode is not a non-empty string");
    }
    if (!items[3].is_string()) {
      return wrong("the errorDescription is not a string");
    }
    if (!items[4].is_object()) {
      return wrong("the errorDetails are not a JSON object");
    }
    const auto& text = items[2].get_ref<const std::string&>();
    call_error e{std::move(id), code::generic_error, items[3].get<std::string>(), std::move(items[4])};
    if (const auto c = parse_call_error_code(text)) {
      e.code = *c;
    } else {
      // Keep what the peer said for the log; the call fails either way.
      e.description = "[" + text + "] " + e.description;
    }
    return frame{std::move(e)};
  }
  }
  return malformed("unknown message type");
}

// A payload to write: always an object.
const json::value& object_or_empty(const json::value& v) {
  static const json::value empty = json::object{};
  return v.is_object() ? v : empty;
}

} // namespace

std::string_view to_string(call_error_code c) {
  for (const auto& [v, name] : code_names) {
    if (v == c) {
      return name;
    }
  }
  // Only reachable with a value cast from outside the enum's range.
  return "?";
}

std::optional<call_error_code> parse_call_error_code(std::string_view s) {
  for (const auto& [v, name] : code_names) {
    if (name == s) {
      return v;
    }
  }
  // Later versions' corrected spellings, sent by some 1.6 stacks.
  if (s == "OccurrenceConstraintViolation") {
    return code::occurrence_constraint_violation;
  }
  if (s == "FormatViolation") {
    return code::formation_violation;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, call_error_code c) { return os << to_string(c); }

outcome<frame> parse(std::string_view text) {
  if (text.size() > max_frame_bytes) {
    return malformed("frame of " + std::to_string(text.size()) + " bytes, more than " +
                     std::to_string(max_frame_bytes));
  }
  auto parsed = json::parse(text);
  if (!parsed) {
    return malformed("not JSON: " + parsed.err().message);
  }
  json::value& doc = *parsed;
  if (!doc.is_array()) {
    return malformed("not a JSON array");
  }
  auto& items = doc.get_ref<json::array&>();
  if (items.empty()) {
    return malformed("an empty array");
  }
  if (!items[0].is_number_integer()) {
    return malformed("the message type is not an integer");
  }
  if (items.size() < 2) {
    return malformed("no uniqueId");
  }
  if (!items[1].is_string()) {
    return malformed("the uniqueId is not a string");
  }
  std::string id = items[1].get<std::string>();
  if (id.empty() || id.size() > max_unique_id_size) {
    return malformed("the uniqueId is not 1 to " + std::to_string(max_unique_id_size) + " characters long");
  }
  // Compare as numbers first: a huge unsigned value must not wrap into 2..4.
  const bool known = items[0].is_number_unsigned() && items[0].get<std::uint64_t>() >= 2 &&
                     items[0].get<std::uint64_t>() <= 4;
  if (!known) {
    return refuse(std::move(id), code::not_supported, "message type " + json::dump(items[0]) + " is not 2, 3 or 4");
  }
  const auto type = static_cast<message_type>(items[0].get<std::uint64_t>());
  const std::size_t expected = element_count(type);
  if (items.size() != expected) {
    frame_error e = refuse(std::move(id), items.size() < expected ? code::protocol_error : code::formation_violation,
                           std::string(type_name(type)) + " with " + std::to_string(items.size()) +
                               " elements instead of " + std::to_string(expected));
    e.answer = type == message_type::call;
    return e;
  }
  return typed(type, std::move(id), items);
}

std::string encode(const frame& f) {
  json::array out;
  std::visit(
      [&out](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, call>) {
          out = {static_cast<int>(message_type::call), m.id, m.action, object_or_empty(m.payload)};
        } else if constexpr (std::is_same_v<T, call_result>) {
          out = {static_cast<int>(message_type::call_result), m.id, object_or_empty(m.payload)};
        } else {
          out = {static_cast<int>(message_type::call_error), m.id, std::string(to_string(m.code)), m.description,
                 object_or_empty(m.details)};
        }
      },
      f);
  return json::dump(json::value(std::move(out)));
}

call_error to_call_error(const frame_error& e) {
  return call_error{e.id.empty() ? std::string(unknown_id) : e.id, e.code, e.description, json::object{}};
}

} // namespace evnet::ocpp

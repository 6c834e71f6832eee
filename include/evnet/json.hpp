#pragma once

// evnet's JSON vocabulary, on nlohmann-json (Debian nlohmann-json3-dev).
// evnet needs JSON in two places: config/db.json (read) and the --headless
// event stream (written, one object per line, docs/HEADLESS.md).
//
//   json::value   any JSON value (nlohmann::ordered_json): objects keep their
//                 insertion order, so a headless line lists its fields in
//                 the order the program wrote them.
//   json::object  an object's members in order; converts to a value.
//                   emit("x", {{"cp", id}, {"ok", false}});
//                   json::object{{"line", 3}, {"text", t}}
//   json::array   an array's items; converts to a value.
//                   json::array rows; rows.push_back(cp_json(cp));
//                 An empty object prints {}, an empty array [].
//
// The vocabulary enums (cp_state, cp_order, end_reason, errc) are written as
// their spelling ("ACTIVE", "stopped by CENTRAL", ...), never as numbers;
// read them back with parse_cp_state() and friends.
//
// Beware nlohmann's one surprise: braces around a single value make an
// array. Write json::value(obj), not json::value{obj}.
//
// Thread-safety: values are plain data; parse(), dump() and find() are
// reentrant.

#include "evnet/result.hpp"
#include "evnet/vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace evnet::json {

using value = nlohmann::ordered_json;
using object = value::object_t;
using array = value::array_t;

// The deepest nesting parse() accepts: deeper input is refused rather than
// risking the stack in a recursive copy or dump later.
inline constexpr int max_depth = 64;

// Parses one JSON document (RFC 8259, UTF-8). Never throws. An error carries
// errc::json and a message with its position ("... at line 3, column 7:
// ..."). Also refused: a repeated key in one object (config files are edited
// by hand; silently keeping one would hide the mistake), nesting deeper than
// max_depth, numbers out of double's range.
result<value> parse(std::string_view text);

// Compact single-line output (no newline). Never throws and always yields
// valid UTF-8 JSON: valid UTF-8 text (accents, emoji) passes through as is,
// control characters are escaped, each invalid UTF-8 byte sequence becomes
// U+FFFD, and a non-finite number becomes null.
std::string dump(const value& v);

// The member `key` of an object; nullptr when `v` is not an object or has no
// such member.
const value* find(const value& v, std::string_view key);

} // namespace evnet::json

// How the vocabulary enums are written into JSON: their spelling. Found by
// nlohmann through argument-dependent lookup; without these an enum would
// silently become a number.
namespace evnet {
inline void to_json(json::value& j, cp_state s) { j = std::string(to_string(s)); }
inline void to_json(json::value& j, cp_order o) { j = std::string(to_string(o)); }
inline void to_json(json::value& j, end_reason r) { j = std::string(to_string(r)); }
inline void to_json(json::value& j, errc e) { j = std::string(to_string(e)); }
} // namespace evnet

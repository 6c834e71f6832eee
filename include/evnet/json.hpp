#pragma once

// A small JSON value, parser and writer. evnet needs JSON in two places:
// config/db.json (read) and the --headless event stream (written, one
// object per line). The Debian stack we are held to ships no JSON library,
// so this is deliberately minimal: UTF-8 passes through, numbers are int64 or
// double, objects keep their insertion order (so headless output is stable).
//
// Thread-safety: values are plain data; parse() and dump() are reentrant.

#include "evnet/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace evnet::json {

class value;
using array = std::vector<value>;
using object = std::vector<std::pair<std::string, value>>;

class value {
public:
  using storage = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, array, object>;

  value() : v_(nullptr) {}
  value(std::nullptr_t) : v_(nullptr) {}
  value(bool b) : v_(b) {}
  value(int i) : v_(static_cast<std::int64_t>(i)) {}
  value(long i) : v_(static_cast<std::int64_t>(i)) {}
  value(long long i) : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned i) : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned long i) : v_(static_cast<std::int64_t>(i)) {}
  value(unsigned long long i) : v_(static_cast<std::int64_t>(i)) {}
  value(double d) : v_(d) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string s) : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(array a) : v_(std::move(a)) {}
  value(object o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<array>(v_); }
  bool is_object() const { return std::holds_alternative<object>(v_); }

  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const;   // doubles are truncated
  double as_double() const;      // ints are widened
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const array& as_array() const { return std::get<array>(v_); }
  array& as_array() { return std::get<array>(v_); }
  const object& as_object() const { return std::get<object>(v_); }
  object& as_object() { return std::get<object>(v_); }

  // Object member lookup; nullptr when this is not an object or has no such key.
  const value* find(std::string_view key) const;

  // Appends or replaces a member; turns a null value into an object first.
  value& set(std::string key, value v);

  const storage& raw() const { return v_; }

  friend bool operator==(const value&, const value&) = default;

private:
  storage v_;
};

// Parses one JSON document. Errors carry code "json" and a message with the
// byte offset. Nesting deeper than 64 levels is rejected.
result<value> parse(std::string_view text);

// Compact single-line output (no newline), with strings escaped as JSON.
std::string dump(const value& v);

} // namespace evnet::json

#include "evnet/json.hpp"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <system_error>

namespace evnet::json {

// ---- value ------------------------------------------------------------------

std::int64_t value::as_int() const {
  if (is_int()) {
    return std::get<std::int64_t>(v_);
  }
  const double d = std::get<double>(v_);
  // A plain cast is undefined outside int64's range, so clamp first.
  if (std::isnan(d)) {
    return 0;
  }
  if (d >= 9223372036854775808.0) {
    return std::numeric_limits<std::int64_t>::max();
  }
  if (d < -9223372036854775808.0) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(d);
}

double value::as_double() const {
  if (is_int()) {
    return static_cast<double>(std::get<std::int64_t>(v_));
  }
  return std::get<double>(v_);
}

const value* value::find(std::string_view key) const {
  if (!is_object()) {
    return nullptr;
  }
  for (const auto& [k, v] : std::get<object>(v_)) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

value& value::set(std::string key, value v) {
  if (is_null()) {
    v_ = object{};
  }
  auto& members = std::get<object>(v_);
  for (auto& [k, existing] : members) {
    if (k == key) {
      existing = std::move(v);
      return existing;
    }
  }
  members.emplace_back(std::move(key), std::move(v));
  return members.back().second;
}

// ---- parser -----------------------------------------------------------------

namespace {

constexpr int max_depth = 64;

class parser {
public:
  explicit parser(std::string_view text) : text_(text) {}

  result<value> run() {
    skip_ws();
    value v;
    if (!parse_value(v, 0)) {
      return fail_result();
    }
    skip_ws();
    if (pos_ != text_.size()) {
      fail("unexpected trailing characters");
      return fail_result();
    }
    return v;
  }

private:
  // Parsing functions return false after recording the first error; the
  // offset is where the offending token starts, so users can find it.
  bool fail(std::string what) {
    if (error_.empty()) {
      error_ = std::move(what);
      error_pos_ = pos_;
    }
    return false;
  }

  result<value> fail_result() const {
    return error{"json", error_ + " at byte " + std::to_string(error_pos_)};
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool parse_value(value& out, int depth) {
    if (at_end()) {
      return fail("unexpected end of input");
    }
    switch (peek()) {
    case '{':
      return parse_object(out, depth + 1);
    case '[':
      return parse_array(out, depth + 1);
    case '"': {
      std::string s;
      if (!parse_string(s)) {
        return false;
      }
      out = value(std::move(s));
      return true;
    }
    case 't':
      return parse_literal("true", value(true), out);
    case 'f':
      return parse_literal("false", value(false), out);
    case 'n':
      return parse_literal("null", value(nullptr), out);
    default:
      if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
        return parse_number(out);
      }
      return fail("unexpected character");
    }
  }

  bool parse_literal(std::string_view word, value v, value& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail("invalid literal");
    }
    pos_ += word.size();
    out = std::move(v);
    return true;
  }

  bool parse_array(value& out, int depth) {
    if (depth > max_depth) {
      return fail("nesting deeper than 64 levels");
    }
    ++pos_;  // '['
    array items;
    skip_ws();
    if (!at_end() && peek() == ']') {
      ++pos_;
      out = value(std::move(items));
      return true;
    }
    for (;;) {
      skip_ws();
      value item;
      if (!parse_value(item, depth)) {
        return false;
      }
      items.push_back(std::move(item));
      skip_ws();
      if (at_end()) {
        return fail("unterminated array");
      }
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        out = value(std::move(items));
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool parse_object(value& out, int depth) {
    if (depth > max_depth) {
      return fail("nesting deeper than 64 levels");
    }
    ++pos_;  // '{'
    object members;
    skip_ws();
    if (!at_end() && peek() == '}') {
      ++pos_;
      out = value(std::move(members));
      return true;
    }
    for (;;) {
      skip_ws();
      if (at_end() || peek() != '"') {
        return fail("expected a string key");
      }
      const std::size_t key_pos = pos_;
      std::string key;
      if (!parse_string(key)) {
        return false;
      }
      // Our inputs are hand-edited config files: a repeated key is almost
      // certainly a mistake, and silently picking one would hide it.
      for (const auto& member : members) {
        if (member.first == key) {
          pos_ = key_pos;
          return fail("duplicate key \"" + key + "\"");
        }
      }
      skip_ws();
      if (at_end() || peek() != ':') {
        return fail("expected ':'");
      }
      ++pos_;
      skip_ws();
      value v;
      if (!parse_value(v, depth)) {
        return false;
      }
      members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (at_end()) {
        return fail("unterminated object");
      }
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        out = value(std::move(members));
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool parse_hex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) {
      return fail("truncated \\u escape");
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return fail("invalid hex digit in \\u escape");
      }
    }
    pos_ += 4;
    return true;
  }

  static void append_utf8(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // pos_ is just past "\u".
  bool parse_unicode_escape(std::string& s) {
    const std::size_t escape_pos = pos_ - 2;
    std::uint32_t cp = 0;
    if (!parse_hex4(cp)) {
      return false;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      pos_ = escape_pos;
      return fail("unpaired low surrogate");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") {
        pos_ = escape_pos;
        return fail("unpaired high surrogate");
      }
      pos_ += 2;
      std::uint32_t low = 0;
      if (!parse_hex4(low)) {
        return false;
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = escape_pos;
        return fail("unpaired high surrogate");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(s, cp);
    return true;
  }

  bool parse_string(std::string& s) {
    ++pos_;  // opening quote
    for (;;) {
      if (at_end()) {
        return fail("unterminated string");
      }
      const char c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return fail("unescaped control character in string");
      }
      if (c != '\\') {
        s += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) {
        return fail("unterminated string");
      }
      const char e = peek();
      ++pos_;
      switch (e) {
      case '"':
        s += '"';
        break;
      case '\\':
        s += '\\';
        break;
      case '/':
        s += '/';
        break;
      case 'b':
        s += '\b';
        break;
      case 'f':
        s += '\f';
        break;
      case 'n':
        s += '\n';
        break;
      case 'r':
        s += '\r';
        break;
      case 't':
        s += '\t';
        break;
      case 'u':
        if (!parse_unicode_escape(s)) {
          return false;
        }
        break;
      default:
        pos_ -= 2;
        return fail("invalid escape");
      }
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool parse_number(value& out) {
    // Validate the JSON grammar by hand: from_chars alone accepts forms JSON
    // forbids ("01", "1.", ".5") and rejects a leading '+' only by accident.
    const std::size_t start = pos_;
    bool integral = true;
    if (peek() == '-') {
      ++pos_;
    }
    if (at_end() || !is_digit(peek())) {
      pos_ = start;
      return fail("invalid number");
    }
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && is_digit(peek())) {
        pos_ = start;
        return fail("invalid number: leading zero");
      }
    } else {
      while (!at_end() && is_digit(peek())) {
        ++pos_;
      }
    }
    if (!at_end() && peek() == '.') {
      integral = false;
      ++pos_;
      if (at_end() || !is_digit(peek())) {
        pos_ = start;
        return fail("invalid number: digit expected after '.'");
      }
      while (!at_end() && is_digit(peek())) {
        ++pos_;
      }
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) {
        ++pos_;
      }
      if (at_end() || !is_digit(peek())) {
        pos_ = start;
        return fail("invalid number: digit expected in exponent");
      }
      while (!at_end() && is_digit(peek())) {
        ++pos_;
      }
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      const auto [ptr, ec] = std::from_chars(first, last, i);
      if (ec == std::errc{} && ptr == last) {
        out = value(i);
        return true;
      }
      // Out of int64 range: fall through and keep it as a double.
    }
    double d = 0.0;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec != std::errc{} || ptr != last || !std::isfinite(d)) {
      pos_ = start;
      return fail("number out of range");
    }
    out = value(d);
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_pos_ = 0;
};

// ---- writer -----------------------------------------------------------------

void dump_string(std::string& out, const std::string& s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
        out += hex[static_cast<unsigned char>(c) & 0xF];
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

void dump_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Shortest round-trip digits: 2.45 prints as 2.45, not 2.4500000000000002.
  // Plain to_chars switches to exponents whenever they are shorter, so an
  // amount of 100000 EUR would read "1e+05"; keep everyday magnitudes fixed.
  const double magnitude = std::fabs(d);
  const bool everyday = magnitude == 0.0 || (magnitude >= 1e-5 && magnitude < 1e15);
  char buf[128];
  const auto [ptr, ec] = everyday ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                                  : std::to_chars(buf, buf + sizeof buf, d);
  const std::string_view text(buf, static_cast<std::size_t>(ptr - buf));
  out += text;
  // Keep doubles doubles: "3" would parse back as an int, "3.0" does not.
  if (text.find_first_of(".e") == std::string_view::npos) {
    out += ".0";
  }
}

void dump_value(std::string& out, const value& v) {
  const auto& raw = v.raw();
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    char buf[32];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, std::get<std::int64_t>(raw));
    out.append(buf, ptr);
  } else if (std::holds_alternative<double>(raw)) {
    dump_double(out, std::get<double>(raw));
  } else if (v.is_string()) {
    dump_string(out, v.as_string());
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) {
        out += ',';
      }
      first = false;
      dump_value(out, item);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [key, member] : v.as_object()) {
      if (!first) {
        out += ',';
      }
      first = false;
      dump_string(out, key);
      out += ':';
      dump_value(out, member);
    }
    out += '}';
  }
}

} // namespace

result<value> parse(std::string_view text) {
  return parser(text).run();
}

std::string dump(const value& v) {
  std::string out;
  dump_value(out, v);
  return out;
}

} // namespace evnet::json

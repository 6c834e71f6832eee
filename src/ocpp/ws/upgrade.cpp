#include "upgrade.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace evnet::ocpp::detail {

namespace {

constexpr std::string_view target_prefix = "/ocpp/";
constexpr std::size_t max_id_length = 48;

// OCPP 1.6 security whitepaper, identifierString.
bool is_identifier_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '*': case '-': case '_': case '=': case ':': case '+': case '|': case '@': case '.':
      return true;
    default:
      return false;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// Strict RFC 4648 base64 with padding (what RFC 7617 clients send).
std::optional<std::string> decode_base64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    std::array<int, 4> v{};
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) {  // data after padding
        return std::nullopt;
      }
      v[k] = base64_value(c);
      if (v[k] < 0) {
        return std::nullopt;
      }
    }
    const std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) {
      out.push_back(static_cast<char>((n >> 8) & 0xFF));
    }
    if (pad < 1) {
      out.push_back(static_cast<char>(n & 0xFF));
    }
  }
  return out;
}

} // namespace

std::optional<std::string> charge_point_id_from_target(std::string_view target) {
  if (target.substr(0, target_prefix.size()) != target_prefix) {
    return std::nullopt;
  }
  const std::string_view raw = target.substr(target_prefix.size());
  std::string id;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) {  // a truncated escape
        return std::nullopt;
      }
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    // Checked after decoding: an escaped '/', '?' or blank is refused too.
    if (!is_identifier_char(c) || id.size() == max_id_length) {
      return std::nullopt;
    }
    id.push_back(c);
  }
  if (id.empty()) {
    return std::nullopt;
  }
  return id;
}

bool offers_ocpp16(std::string_view header_value) {
  while (true) {
    const auto comma = header_value.find(',');
    if (trim(header_value.substr(0, comma)) == ocpp16_subprotocol) {
      return true;
    }
    if (comma == std::string_view::npos) {
      return false;
    }
    header_value.remove_prefix(comma + 1);
  }
}

std::optional<basic_credentials> parse_basic_auth(std::string_view header_value) {
  header_value = trim(header_value);
  const auto space = header_value.find(' ');
  if (space == std::string_view::npos || !iequals(header_value.substr(0, space), "Basic")) {
    return std::nullopt;
  }
  const auto decoded = decode_base64(trim(header_value.substr(space + 1)));
  if (!decoded) {
    return std::nullopt;
  }
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return basic_credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

} // namespace evnet::ocpp::detail

#include "evnet/text.hpp"

namespace evnet {

namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

} // namespace

bool is_safe_id(std::string_view s, std::size_t max_size) {
  if (s.empty() || s.size() > max_size) {
    return false;
  }
  for (char c : s) {
    if (!is_id_char(c)) {
      return false;
    }
  }
  return true;
}

std::string printable_id(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (!is_id_char(c) && c != ':' && c != '@') {
      plain = false;
      break;
    }
  }
  if (plain && s.size() <= 128) {
    return std::string(s);
  }
  static constexpr char digits[] = "0123456789abcdef";
  constexpr std::size_t shown = 64;
  std::string out = "0x";
  for (std::size_t i = 0; i < s.size() && i < shown; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    out += digits[b >> 4U];
    out += digits[b & 0xfU];
  }
  if (s.size() > shown) {
    out += "...";
  }
  return out;
}

std::string printable_text(std::string_view s, std::size_t max_size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_size; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += static_cast<char>(b);
    } else {
      out += "\\x";
      out += digits[b >> 4U];
      out += digits[b & 0xfU];
    }
  }
  if (s.size() > max_size) {
    out += "...";
  }
  return out;
}

} // namespace evnet

#include "evnet/domain/words.hpp"

namespace evnet::domain {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::vector<word> split_words(std::string_view line) {
  std::vector<word> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    if (i > start) {
      out.push_back(word{line.substr(start, i - start), start});
    }
  }
  return out;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

} // namespace evnet::domain

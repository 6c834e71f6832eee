#pragma once

// Splitting a typed or read line into words, the one way every parser of
// the domain does it (request files, console commands).
//
// Thread-safety: pure functions; the views point into the caller's line.

#include <cstddef>
#include <string_view>
#include <vector>

namespace evnet::domain {

// Blanks between words: space, tab, CR, LF, VT, FF.
bool is_blank(char c);

struct word {
  std::string_view text;
  std::size_t start = 0;  // offset in the line: "the rest of the line" starts here
};

std::vector<word> split_words(std::string_view line);

// `s` without trailing blanks.
std::string_view trim_end(std::string_view s);

} // namespace evnet::domain

#include "evnet/json.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace evnet::json {

namespace {

// What the parse callback refuses; nlohmann's own checks throw its
// exceptions.
struct refused {
  std::string what;
};

// Reads the text for nlohmann's parser and keeps count of how far it got,
// so that what the callback refuses (and a number beyond double, which
// nlohmann reports without a position) can say where it is.
class counting_iterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  counting_iterator(const char* at, std::size_t* consumed) : at_(at), consumed_(consumed) {}
  reference operator*() const { return *at_; }
  counting_iterator& operator++() {
    ++at_;
    ++*consumed_;
    return *this;
  }
  counting_iterator operator++(int) {
    counting_iterator before = *this;
    ++*this;
    return before;
  }
  friend bool operator==(const counting_iterator& a, const counting_iterator& b) { return a.at_ == b.at_; }

private:
  const char* at_;
  std::size_t* consumed_;
};

// " at line L, column C" after `consumed` bytes of `text`, counted as
// nlohmann counts them in its own messages.
std::string position(std::string_view text, std::size_t consumed) {
  consumed = std::min(consumed, text.size());
  const std::string_view read = text.substr(0, consumed);
  const auto lines = std::count(read.begin(), read.end(), '\n');
  const auto line_start = read.rfind('\n');
  const std::size_t column = line_start == std::string_view::npos ? consumed : consumed - line_start - 1;
  return " at line " + std::to_string(lines + 1) + ", column " + std::to_string(column);
}

// "[json.exception.parse_error.101] parse error at line 1, column 4: ..."
// reads better without the bracketed tag.
std::string without_tag(const char* what) {
  std::string text(what);
  if (!text.empty() && text.front() == '[') {
    if (const auto end = text.find("] "); end != std::string::npos) {
      text.erase(0, end + 2);
    }
  }
  return text;
}

} // namespace

result<value> parse(std::string_view text) {
  std::size_t consumed = 0;
  // Open objects' keys, innermost last, to refuse a repeated key.
  std::vector<std::set<std::string, std::less<>>> keys;
  const auto check = [&keys](int depth, value::parse_event_t event, value& parsed) {
    switch (event) {
    case value::parse_event_t::object_start:
    case value::parse_event_t::array_start:
      // `depth` counts the containers around this one.
      if (depth >= max_depth) {
        throw refused{"nesting deeper than " + std::to_string(max_depth) + " levels"};
      }
      if (event == value::parse_event_t::object_start) {
        keys.emplace_back();
      }
      break;
    case value::parse_event_t::key:
      if (const auto& key = parsed.get_ref<const std::string&>(); !keys.back().insert(key).second) {
        throw refused{"duplicate key \"" + key + "\""};
      }
      break;
    case value::parse_event_t::object_end:
      keys.pop_back();
      break;
    case value::parse_event_t::array_end:
    case value::parse_event_t::value:
      break;
    }
    return true;
  };
  const counting_iterator first(text.data(), &consumed);
  const counting_iterator last(text.data() + text.size(), &consumed);
  try {
    return value::parse(first, last, check, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const refused& r) {
    return error{errc::json, r.what + position(text, consumed)};
  } catch (const value::parse_error& e) {
    // nlohmann's message names the line and column itself.
    return error{errc::json, without_tag(e.what())};
  } catch (const value::exception& e) {
    // A number beyond double ("number overflow parsing '1e400'").
    return error{errc::json, without_tag(e.what()) + position(text, consumed)};
  }
}

std::string dump(const value& v) {
  return v.dump(-1, ' ', /*ensure_ascii=*/false, value::error_handler_t::replace);
}

const value* find(const value& v, std::string_view key) {
  if (!v.is_object()) {
    return nullptr;
  }
  const auto it = v.find(key);
  return it == v.end() ? nullptr : &*it;
}

} // namespace evnet::json

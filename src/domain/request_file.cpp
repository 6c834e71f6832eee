#include "evnet/domain/request_file.hpp"

#include "evnet/domain/registry.hpp"
#include "evnet/domain/words.hpp"
#include "evnet/vocabulary.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace evnet::domain {

namespace {

// Digits only: "+5", "5s" and "5.0" are refused rather than half-understood.
std::optional<std::int64_t> parse_seconds(std::string_view text) {
  // Twelve digits are far beyond the limit; stopping early avoids overflow.
  if (text.empty() || text.size() > 12) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > max_duration_s) {
    return std::nullopt;
  }
  return value;
}

} // namespace

request_plan parse_request_file(std::string_view content) {
  // Editors on Windows may prepend a UTF-8 byte order mark.
  if (content.substr(0, 3) == "\xEF\xBB\xBF") {
    content.remove_prefix(3);
  }
  request_plan plan;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    ++line_no;
    std::size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) {
      end = content.size();
    }
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }

    const auto w = split_words(line);
    if (w.empty() || w.front().text.front() == '#') {
      continue;
    }
    auto report = [&](std::string message) {
      plan.errors.push_back(line_error{line_no, std::string(line), std::move(message)});
    };
    if (w.size() > 2) {
      report("expected \"CP_ID\" or \"CP_ID SECONDS\", found extra words");
      continue;
    }
    if (!valid_id(w[0].text)) {
      report("\"" + std::string(w[0].text) + "\" is not a valid CP id (1 to 64 printable characters)");
      continue;
    }
    service s;
    s.cp_id = std::string(w[0].text);
    s.line = line_no;
    if (w.size() == 2) {
      const auto seconds = parse_seconds(w[1].text);
      if (!seconds) {
        report("\"" + std::string(w[1].text) + "\" is not a whole number of seconds between 1 and " +
               std::to_string(max_duration_s));
        continue;
      }
      s.duration_s = *seconds;
    }
    plan.services.push_back(std::move(s));
  }
  return plan;
}

result<request_plan> load_request_file(const std::string& path) {
  // A directory opens as a stream and reads as empty: refuse it explicitly.
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return error{errc::file, "cannot read the request file " + path};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return error{errc::file, "cannot read the request file " + path};
  }
  return parse_request_file(text.str());
}

} // namespace evnet::domain

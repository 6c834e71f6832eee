#include "evnet/domain/driver_command.hpp"

#include "evnet/domain/words.hpp"

#include "evnet/vocabulary.hpp"

#include <charconv>
#include <vector>

namespace evnet::domain {

namespace {

error unknown(std::string_view line) {
  return error{errc::bad_command, "unknown command '" + std::string(line) +
                                      "' (try: list, charge <CP> [SECONDS], file <PATH>, quit)"};
}

result<std::int64_t> parse_seconds(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > max_duration_s) {
    return error{errc::bad_command, "SECONDS must be a whole number of seconds between 1 and " +
                                        std::to_string(max_duration_s) + ", not '" + std::string(text) + "'"};
  }
  return value;
}

} // namespace

result<driver_command> parse_driver_command(std::string_view line) {
  const auto words = split_words(line);
  if (words.empty()) {
    return driver_command{driver_cmd::nothing{}};
  }
  const std::string_view verb = words[0].text;
  const std::size_t n = words.size();
  if (verb == "list" && n == 1) {
    return driver_command{driver_cmd::list{}};
  }
  if (verb == "quit" && n == 1) {
    return driver_command{driver_cmd::quit{}};
  }
  if (verb == "charge" && (n == 2 || n == 3)) {
    driver_cmd::charge c{std::string(words[1].text), std::nullopt};
    if (n == 3) {
      auto seconds = parse_seconds(words[2].text);
      if (!seconds) {
        return seconds.err();
      }
      c.duration_s = *seconds;
    }
    return driver_command{std::move(c)};
  }
  if (verb == "file" && n >= 2) {
    return driver_command{driver_cmd::file{std::string(trim_end(line.substr(words[1].start)))}};
  }
  return unknown(line);
}

} // namespace evnet::domain

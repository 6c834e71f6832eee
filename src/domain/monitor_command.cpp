#include "evnet/domain/monitor_command.hpp"

#include <charconv>
#include <sstream>
#include <string>
#include <vector>

namespace evnet::domain {

result<monitor_command> parse_monitor_command(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    words.push_back(w);
  }
  monitor_command cmd;
  if (words.empty()) {
    return cmd;
  }
  if (words[0] == "quit" && words.size() == 1) {
    cmd.verb = monitor_verb::quit;
    return cmd;
  }
  if (words[0] != "charge" || words.size() > 2) {
    return error{errc::bad_command, "unknown command '" + std::string(line) + "' (try: charge [SECONDS], quit)"};
  }
  cmd.verb = monitor_verb::charge;
  if (words.size() == 2) {
    const auto& text = words[1];
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > max_duration_s) {
      return error{errc::bad_duration, "SECONDS must be a whole number of seconds between 1 and " +
                                           std::to_string(max_duration_s) + ", not '" + text + "'"};
    }
    cmd.duration_s = value;
  }
  return cmd;
}

} // namespace evnet::domain

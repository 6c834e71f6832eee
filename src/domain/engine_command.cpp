#include "evnet/domain/engine_command.hpp"

#include <array>
#include <sstream>
#include <string>
#include <utility>

namespace evnet::domain {

namespace {

constexpr std::array<std::pair<std::string_view, engine_command>, 6> verbs{{
    {"plug", engine_command::plug},
    {"unplug", engine_command::unplug},
    {"fault", engine_command::fault},
    {"repair", engine_command::repair},
    {"toggle", engine_command::toggle},
    {"quit", engine_command::quit},
}};

std::string_view trimmed(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

} // namespace

result<engine_command> parse_engine_command(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::string verb;
  std::string extra;
  in >> verb >> extra;
  if (verb.empty()) {
    return engine_command::none;
  }
  for (const auto& [word, command] : verbs) {
    if (word != verb) {
      continue;
    }
    if (!extra.empty()) {
      return error{errc::bad_command, "'" + verb + "' takes no argument"};
    }
    return command;
  }
  return error{errc::bad_command,
               "unknown command '" + std::string(trimmed(line)) + "' (try: plug, unplug, fault, repair, quit)"};
}

} // namespace evnet::domain

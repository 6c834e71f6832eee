#include "operator_command.hpp"

#include "evnet/domain/registry.hpp"
#include "evnet/text.hpp"

#include <charconv>
#include <sstream>
#include <vector>

namespace evnet::central {

namespace {

error bad(std::string text) { return error{errc::bad_command, std::move(text)}; }

} // namespace

result<operator_command> parse_operator_command(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    words.push_back(w);
  }
  operator_command cmd;
  if (words.empty()) {
    return cmd;
  }
  const auto& verb = words[0];
  if (verb == "list" && words.size() == 1) {
    cmd.verb = operator_verb::list;
  } else if (verb == "quit" && words.size() == 1) {
    cmd.verb = operator_verb::quit;
  } else if (const auto order = parse_cp_order(verb); order && words.size() == 2) {
    cmd.verb = operator_verb::order;
    cmd.order = *order;
    cmd.all = words[1] == "all";
    if (!cmd.all) {
      cmd.target = words[1];
      if (!domain::valid_id(cmd.target)) {
        return bad("'" + cmd.target + "' is not a CP id");
      }
    }
  } else if (parse_cp_order(verb)) {
    return bad("usage: " + verb + " <CP_ID|all>");
  } else if (verb == "revoke") {
    if (words.size() != 2) {
      return bad("usage: revoke <CP_ID|DRIVER_ID>");
    }
    cmd.verb = operator_verb::revoke;
    cmd.target = words[1];
    if (!is_safe_id(cmd.target)) {
      return bad("'" + printable_id(cmd.target) + "' is not a CP or driver id");
    }
  } else if (verb == "add") {
    if (words.size() < 4) {
      return bad("usage: add <CP_ID> <PRICE_EUR_PER_KWH> <LOCATION...>");
    }
    cmd.verb = operator_verb::add;
    cmd.target = words[1];
    if (!domain::valid_id(cmd.target) || cmd.target == "all") {
      return bad("'" + cmd.target + "' is not a valid CP id");
    }
    const auto& p = words[2];
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), cmd.price);
    if (ec != std::errc{} || end != p.data() + p.size() || !(cmd.price > 0.0) || cmd.price > 100.0) {
      return bad("price must be a number of EUR/kWh in (0, 100], not '" + p + "'");
    }
    for (std::size_t i = 3; i < words.size(); ++i) {
      cmd.location += (i > 3 ? " " : "") + words[i];
    }
  } else {
    return bad("unknown command '" + std::string(line) + "' (try: list, stop <CP|all>, resume <CP|all>, add, revoke <ID>, quit)");
  }
  return cmd;
}

} // namespace evnet::central

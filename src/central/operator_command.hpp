#pragma once

// The operator's command lines (stdin in --headless, keys in the panel):
//   list | stop <CP|all> | resume <CP|all> | add <CP> <price> <location...> | quit

#include "evnet/result.hpp"

#include <string>
#include <string_view>

namespace evnet::central {

enum class operator_verb { none, list, stop, resume, add, quit };

struct operator_command {
  operator_verb verb = operator_verb::none;
  std::string target;  // CP id or "all"
  double price = 0.0;  // add
  std::string location;
};

// Errors (code "bad_command") say what was expected.
result<operator_command> parse_operator_command(std::string_view line);

} // namespace evnet::central

#pragma once

// The operator's command lines (stdin in --headless, keys in the panel):
//   list | stop <CP|all> | resume <CP|all> | add <CP> <price> <location...>
//   | revoke <CP|DRIVER> | quit
// parsed into the Central machine's operator_command. Pure.

#include "evnet/domain/central_machine.hpp"
#include "evnet/result.hpp"

#include <string_view>

namespace evnet::central {

using domain::operator_command;
using domain::operator_verb;

// Errors (errc::bad_command) say what was expected.
result<operator_command> parse_operator_command(std::string_view line);

} // namespace evnet::central

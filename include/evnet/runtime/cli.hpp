#pragma once

// Command-line helpers shared by the four programs. A wrong argument prints
// the usage and exits 2; --help prints it and exits 0.

#include "evnet/result.hpp"
#include "evnet/transport.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::runtime {

// argv split into positionals and --options. Options take a value unless
// listed in `flags` ("--headless", "--help").
struct arguments {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // name without "--", value
  bool has(std::string_view name) const;
  std::optional<std::string> get(std::string_view name) const;
};

result<arguments> parse_arguments(int argc, char** argv, const std::vector<std::string>& flags,
                                  const std::vector<std::string>& valued);

result<std::uint16_t> parse_port(std::string_view text, std::string_view what);
result<std::int64_t> parse_seconds(std::string_view text, std::string_view what);

// Prints usage to stdout and exits 0 (help) or to stderr with `problem` and exits 2.
[[noreturn]] void exit_usage(std::string_view usage, std::string_view problem = {});

// A host argument: a name, an IPv4 address, an IPv6 address (brackets
// optional: "::1" and "[::1]" are the same and come back without them), or
// "*" for every interface where a program binds. Refuses what cannot be a
// host (empty, spaces, '/', a port glued on) with a usage error naming `what`.
result<std::string> parse_host(std::string_view text, std::string_view what);

// "tcp://host:port" (IPv6 literals in brackets, "*" for every interface):
// the transport's, so that every program spells endpoints one way.
using transport::tcp_endpoint;

// "host:port" for messages and events: "[::1]:7000" for an IPv6 address.
std::string host_port(std::string_view host, std::uint16_t port);

} // namespace evnet::runtime

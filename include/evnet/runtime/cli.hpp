#pragma once

// Command-line helpers shared by the four programs. A wrong argument prints
// the usage and exits 2; --help prints it and exits 0.

#include "evnet/result.hpp"

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

// "tcp://host:port"; IPv6 literals get brackets.
std::string tcp_endpoint(std::string_view host, std::uint16_t port);
std::string tcp_bind_endpoint(std::uint16_t port);

} // namespace evnet::runtime

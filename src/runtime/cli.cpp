#include "evnet/runtime/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace evnet::runtime {

bool arguments::has(std::string_view name) const {
  return std::any_of(options.begin(), options.end(), [&](const auto& kv) { return kv.first == name; });
}

std::optional<std::string> arguments::get(std::string_view name) const {
  for (const auto& [key, value] : options) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

result<arguments> parse_arguments(int argc, char** argv, const std::vector<std::string>& flags,
                                  const std::vector<std::string>& valued) {
  arguments args;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.size() > 2 && word.rfind("--", 0) == 0) {
      std::string name = word.substr(2);
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        if (std::find(valued.begin(), valued.end(), name) == valued.end()) {
          return error{errc::usage, "unknown option --" + name};
        }
      } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
        value = "1";
      } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
        if (i + 1 >= argc) {
          return error{errc::usage, "option --" + name + " needs a value"};
        }
        value = argv[++i];
      } else {
        return error{errc::usage, "unknown option --" + name};
      }
      args.options.emplace_back(std::move(name), std::move(value));
    } else if (word == "-h") {
      args.options.emplace_back("help", "1");
    } else {
      args.positional.push_back(std::move(word));
    }
  }
  return args;
}

result<std::uint16_t> parse_port(std::string_view text, std::string_view what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return error{errc::usage, std::string(what) + " must be a port number between 1 and 65535, not '" +
                              std::string(text) + "'"};
  }
  return static_cast<std::uint16_t>(value);
}

result<std::int64_t> parse_seconds(std::string_view text, std::string_view what) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > max_duration_s) {
    return error{errc::usage, std::string(what) + " must be a whole number of seconds between 1 and " + std::to_string(max_duration_s) + ", not '" +
                              std::string(text) + "'"};
  }
  return value;
}

void exit_usage(std::string_view usage, std::string_view problem) {
  if (problem.empty()) {
    std::fprintf(stdout, "%.*s", static_cast<int>(usage.size()), usage.data());
    std::exit(0);
  }
  std::fprintf(stderr, "error: %.*s\n\n%.*s", static_cast<int>(problem.size()), problem.data(),
               static_cast<int>(usage.size()), usage.data());
  std::exit(2);
}

result<std::string> parse_host(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return error{errc::usage, std::string(what) + " must be a host name, an IPv4 or an IPv6 address" +
                                  std::string(why) + ", not '" + std::string(text) + "'"};
  };
  std::string_view host = text;
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() > 253) {
    return bad("");
  }
  if (host == "*") {
    return std::string(host);
  }
  const auto colons = std::count(host.begin(), host.end(), ':');
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_' || c == ':' || c == '%';
    if (!ok) {
      return bad("");
    }
  }
  // One colon is a host with a port glued on ("central:7000"), never an
  // IPv6 address (those have at least two).
  if (colons == 1) {
    return bad(" (give the port separately)");
  }
  if (colons == 0 && (bracketed || host.find('%') != std::string_view::npos)) {
    return bad("");
  }
  return std::string(host);
}

std::string host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos && host.front() != '[') {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out.append(":").append(std::to_string(port));
}

} // namespace evnet::runtime

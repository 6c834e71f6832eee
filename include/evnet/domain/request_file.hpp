#pragma once

// The driver's batch file: one service per line, "CP_ID [SECONDS]".
// Blank lines and lines starting with '#' are skipped. A bad line (an id that
// is not valid, a duration that is not a whole number of seconds in
// 1..evnet::max_duration_s, extra words) is reported with its line number and
// the rest of the file still runs.

#include "evnet/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::domain {

struct service {
  std::string cp_id;
  std::int64_t duration_s = 0;  // 0: use the driver's default
  int line = 0;
};

struct line_error {
  int line = 0;
  std::string text;
  std::string message;
};

struct request_plan {
  std::vector<service> services;
  std::vector<line_error> errors;
};

request_plan parse_request_file(std::string_view content);
// Errors: errc::file when the file cannot be read.
result<request_plan> load_request_file(const std::string& path);

} // namespace evnet::domain

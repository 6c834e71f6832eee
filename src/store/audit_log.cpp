#include "evnet/store/audit_log.hpp"

#include "evnet/store/central_store.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace evnet::store {

namespace {

const char* const since_forms =
    "expected Unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or \"YYYY-MM-DD HH:MM:SS\" (UTC)";

// Exactly `width` decimal digits at `pos`.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

error bad_since(std::string_view text) {
  return error{errc::usage, "invalid time '" + std::string(text.substr(0, 64)) + "': " + since_forms};
}

} // namespace

result<std::int64_t> audit_since(std::size_t positional_count, const std::optional<std::string>& since) {
  if (positional_count != 0) {
    return error{errc::usage, "--audit takes no other argument"};
  }
  return since ? parse_since(*since) : result<std::int64_t>(std::int64_t{0});
}

result<std::int64_t> parse_since(std::string_view text) {
  if (text.empty()) {
    return bad_since(text);
  }
  // Unix seconds: digits only. Twelve digits reach past the year 30000;
  // more would overflow milliseconds soon after.
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    if (text.size() > 12) {
      return bad_since(text);
    }
    std::int64_t seconds = 0;
    std::from_chars(text.data(), text.data() + text.size(), seconds);
    return seconds * 1000;
  }
  int year = 0;
  int month = 0;
  int day = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day)) {
    return bad_since(text);
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return bad_since(text);
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (text.size() > 10) {
    std::string_view rest = text.substr(10);
    if (rest.back() == 'Z' && rest.front() == 'T') {
      rest.remove_suffix(1);
    }
    if (rest.size() != 9 || (rest[0] != 'T' && rest[0] != ' ') || !read_digits(rest, 1, 2, hour) || rest[3] != ':' ||
        !read_digits(rest, 4, 2, minute) || rest[6] != ':' || !read_digits(rest, 7, 2, second) || hour > 23 ||
        minute > 59 || second > 59) {
      return bad_since(text);
    }
  }
  const auto at = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

std::string iso_utc_ms(std::int64_t time_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(time_ms)};
  const auto day_start = floor<days>(t);
  const year_month_day date{day_start};
  const hh_mm_ss<milliseconds> clock{t - day_start};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  // Milliseconds go before the Z.
  std::string out(buf);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(clock.subseconds().count()));
  out.insert(out.size() - 1, ms);
  return out;
}

json::object audit_json(const domain::audit_entry& e) {
  return json::object{{"time", iso_utc_ms(e.time_ms)}, {"time_ms", e.time_ms},   {"source", e.source},
                      {"action", e.action},            {"params", e.params},       {"outcome", e.outcome}};
}

int print_audit(const std::string& db_path, std::int64_t since_ms, std::FILE* out) {
  // Opening creates a database; reading the trail of one that is not there
  // is a mistake (a wrong --db), not an empty trail.
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) {
    std::fprintf(stderr, "audit: no store at %s (see --db)\n", db_path.c_str());
    return 1;
  }
  auto db = central_store::open(db_path);
  if (!db) {
    std::fprintf(stderr, "audit: %s\n", db.err().message.c_str());
    return 1;
  }
  auto rows = (*db)->audit_since(since_ms);
  if (!rows) {
    std::fprintf(stderr, "audit: %s\n", rows.err().message.c_str());
    return 1;
  }
  for (const auto& e : *rows) {
    const auto line = json::dump(json::value(audit_json(e)));
    std::fprintf(out, "%s\n", line.c_str());
  }
  if (std::fflush(out) != 0) {
    std::fprintf(stderr, "audit: cannot write the output\n");
    return 1;
  }
  return 0;
}

} // namespace evnet::store

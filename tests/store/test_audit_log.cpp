#define BOOST_TEST_MODULE store_audit_log
#include <boost/test/unit_test.hpp>

// Reading the audit trail back (EV_Central --audit): --since, the JSON
// shape of a row, and print_audit's output and exit codes.

#include "evnet/store/audit_log.hpp"
#include "evnet/store/central_store.hpp"
#include "temp_dir.hpp"

#include <cstdio>
#include <string>
#include <vector>

using evnet::domain::audit_entry;
namespace json = evnet::json;
namespace store = evnet::store;

namespace {

// What print_audit wrote, through a temporary FILE*.
struct captured {
  std::FILE* file = std::tmpfile();
  captured() { BOOST_REQUIRE(file != nullptr); }
  ~captured() { std::fclose(file); }
  captured(const captured&) = delete;
  captured& operator=(const captured&) = delete;
  std::vector<std::string> lines() {
    std::rewind(file);
    std::vector<std::string> out;
    std::string line;
    for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
      if (c == '\n') {
        out.push_back(line);
        line.clear();
      } else {
        line.push_back(static_cast<char>(c));
      }
    }
    BOOST_TEST(line.empty());  // every line ends with a newline
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(since_accepts_the_documented_forms) {
  BOOST_TEST(*store::parse_since("1795784700") == 1'795'784'700'000);
  BOOST_TEST(*store::parse_since("0") == 0);
  BOOST_TEST(*store::parse_since("2026-11-27") == 1'795'737'600'000);
  BOOST_TEST(*store::parse_since("2026-11-27T13:05:00Z") == 1'795'784'700'000);
  BOOST_TEST(*store::parse_since("2026-11-27T13:05:00") == 1'795'784'700'000);
  BOOST_TEST(*store::parse_since("2026-11-27 13:05:00") == 1'795'784'700'000);
  BOOST_TEST(*store::parse_since("1970-01-01") == 0);
  BOOST_TEST(*store::parse_since("2024-02-29T23:59:59Z") == 1'709'251'199'000);
}

BOOST_AUTO_TEST_CASE(since_refuses_anything_else) {
  for (const char* bad : {"", "yesterday", "-5", "1.5", "2026-11-27T13:05", "2026-11-27 13:05:00Z", "2026-13-01",
                          "2026-02-30", "2025-02-29", "2026-11-27T24:00:00Z", "2026-11-27T13:60:00Z",
                          "2026-11-27T13:05:61Z", "2026/11/27", "26-11-27", "2026-11-27T13:05:00+01:00",
                          "2026-11-27x", "9999999999999", "2026-1-27", " 2026-11-27", "2026-11-27T13:05:00ZZ"}) {
    BOOST_TEST_INFO("--since '" << bad << "'");
    const auto r = store::parse_since(bad);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST((r.err().code == evnet::errc::usage));
    BOOST_TEST(r.err().message.find("YYYY-MM-DD") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(iso_times_carry_milliseconds) {
  BOOST_TEST(store::iso_utc_ms(1'795'784'700'123) == "2026-11-27T13:05:00.123Z");
  BOOST_TEST(store::iso_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(store::iso_utc_ms(1'709'251'199'999) == "2024-02-29T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(a_row_as_json) {
  const audit_entry e{1'795'784'700'123, "key cp:ALC1 from 127.0.0.1", "auth",
                      json::object{{"key", "abc"}, {"address", "127.0.0.1"}}, "admitted"};
  BOOST_TEST(json::dump(json::value(store::audit_json(e))) ==
             R"({"time":"2026-11-27T13:05:00.123Z","time_ms":1795784700123,"source":"key cp:ALC1 from 127.0.0.1",)"
             R"("action":"auth","params":{"key":"abc","address":"127.0.0.1"},"outcome":"admitted"})");
  // Empty params are an object, never null.
  BOOST_TEST(json::dump(json::value(store::audit_json(audit_entry{}))).find(R"("params":{})") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(print_audit_writes_json_lines_since_a_time) {
  evnet::test::temp_dir dir;
  const auto path = dir.file("central.db");
  {
    auto s = store::central_store::open(path);
    BOOST_REQUIRE(s.ok());
    BOOST_REQUIRE((*s)->audit(audit_entry{1000, "operator", "stop", json::object{{"cp", "ALC1"}}, "ok"}).ok());
    // Text a peer chose: control characters and invalid UTF-8 must not break a line.
    BOOST_REQUIRE((*s)->audit(audit_entry{2000, std::string("peer \n\x1b[31m\xff", 10), "malformed",
                                          json::object{{"detail", "x\ny"}}, "refused: malformed"})
                      .ok());
    BOOST_REQUIRE((*s)->audit(audit_entry{3000, "tool", "revoke", json::object{{"id", "D1"}}, "ok"}).ok());
  }
  {
    captured out;
    BOOST_TEST(store::print_audit(path, 0, out.file) == 0);
    const auto lines = out.lines();
    BOOST_REQUIRE(lines.size() == 3u);
    for (const auto& line : lines) {
      const auto parsed = json::parse(line);
      BOOST_REQUIRE_MESSAGE(parsed.ok(), line);
      BOOST_TEST(parsed->is_object());
    }
    const auto second = json::parse(lines[1]);
    BOOST_TEST((*second)["action"] == "malformed");
    BOOST_TEST((*second)["time_ms"] == 2000);
    BOOST_TEST((*second)["params"]["detail"] == "x\ny");
  }
  {
    captured out;
    BOOST_TEST(store::print_audit(path, 2000, out.file) == 0);
    const auto lines = out.lines();
    BOOST_REQUIRE(lines.size() == 2u);
    BOOST_TEST((*json::parse(lines[1]))["action"] == "revoke");
  }
  {
    captured out;
    BOOST_TEST(store::print_audit(path, 3001, out.file) == 0);
    BOOST_TEST(out.lines().empty());
  }
}

BOOST_AUTO_TEST_CASE(print_audit_fails_on_a_missing_or_broken_store) {
  evnet::test::temp_dir dir;
  captured out;
  BOOST_TEST(store::print_audit(dir.file("nothing.db"), 0, out.file) == 1);
  BOOST_TEST(out.lines().empty());
  // Reading must not have created it.
  BOOST_TEST(!std::filesystem::exists(dir.file("nothing.db")));

  const auto junk = dir.file("junk.db");
  {
    std::FILE* f = std::fopen(junk.c_str(), "w");
    BOOST_REQUIRE(f != nullptr);
    std::fputs("this is not a database, just text that is long enough to look like a header....\n", f);
    std::fclose(f);
  }
  BOOST_TEST(store::print_audit(junk, 0, out.file) == 1);
}

#define BOOST_TEST_MODULE domain_request_file
#include <boost/test/unit_test.hpp>

#include "evnet/domain/registry.hpp"
#include "evnet/domain/request_file.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

using evnet::domain::parse_request_file;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "evnet-requests-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(ids_with_and_without_seconds) {
  const auto plan = parse_request_file("ALC1 5\nMAD2\nVLC1 86400\n");
  BOOST_TEST(plan.errors.empty());
  BOOST_REQUIRE(plan.services.size() == 3u);
  BOOST_TEST(plan.services[0].cp_id == "ALC1");
  BOOST_TEST(plan.services[0].duration_s == 5);
  BOOST_TEST(plan.services[0].line == 1);
  BOOST_TEST(plan.services[1].cp_id == "MAD2");
  BOOST_TEST(plan.services[1].duration_s == 0);
  BOOST_TEST(plan.services[1].line == 2);
  BOOST_TEST(plan.services[2].duration_s == 86400);
  BOOST_TEST(plan.services[2].line == 3);
}

BOOST_AUTO_TEST_CASE(blank_lines_and_comments_are_skipped_but_counted) {
  const auto plan = parse_request_file("# header\n\n   \n  # indented comment\nALC1 3\n\t\nMAD1 4");
  BOOST_TEST(plan.errors.empty());
  BOOST_REQUIRE(plan.services.size() == 2u);
  BOOST_TEST(plan.services[0].line == 5);
  BOOST_TEST(plan.services[1].line == 7);
  BOOST_TEST(plan.services[1].cp_id == "MAD1");  // last line without a newline
}

BOOST_AUTO_TEST_CASE(surrounding_and_repeated_whitespace_is_tolerated) {
  const auto plan = parse_request_file("  ALC1 \t  7   \n");
  BOOST_TEST(plan.errors.empty());
  BOOST_REQUIRE(plan.services.size() == 1u);
  BOOST_TEST(plan.services[0].cp_id == "ALC1");
  BOOST_TEST(plan.services[0].duration_s == 7);
}

BOOST_AUTO_TEST_CASE(windows_line_endings) {
  const auto plan = parse_request_file("# c\r\nALC1 5\r\n\r\nMAD1\r\n");
  BOOST_TEST(plan.errors.empty());
  BOOST_REQUIRE(plan.services.size() == 2u);
  BOOST_TEST(plan.services[0].cp_id == "ALC1");
  BOOST_TEST(plan.services[0].duration_s == 5);
  BOOST_TEST(plan.services[1].cp_id == "MAD1");
  BOOST_TEST(plan.services[1].line == 4);
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_ignored) {
  const auto plan = parse_request_file("\xEF\xBB\xBF" "ALC1 5\n");
  BOOST_TEST(plan.errors.empty());
  BOOST_REQUIRE(plan.services.size() == 1u);
  BOOST_TEST(plan.services[0].cp_id == "ALC1");
}

BOOST_AUTO_TEST_CASE(bad_lines_are_reported_and_the_rest_still_runs) {
  const std::string content = "ALC1 5\n"         // 1 ok
                              "ALC2 0\n"         // 2 zero
                              "ALC3 86401\n"     // 3 too long
                              "MAD1 -4\n"        // 4 negative
                              "MAD2 4.5\n"       // 5 not whole
                              "VLC1 5s\n"        // 6 unit
                              "VLC2 5 extra\n"   // 7 extra words
                              "SVQ1 +5\n"        // 8 sign
                              "X\x01Y 3\n"       // 9 control character in the id
                              "MAD1 99999999999999999999\n"  // 10 overflow
                              "VLC1 8\n";        // 11 ok
  const auto plan = parse_request_file(content);
  BOOST_REQUIRE(plan.services.size() == 2u);
  BOOST_TEST(plan.services[0].line == 1);
  BOOST_TEST(plan.services[1].line == 11);
  BOOST_TEST(plan.services[1].cp_id == "VLC1");
  BOOST_TEST(plan.services[1].duration_s == 8);

  BOOST_REQUIRE(plan.errors.size() == 9u);
  const int expected_lines[] = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  for (std::size_t i = 0; i < plan.errors.size(); ++i) {
    BOOST_TEST(plan.errors[i].line == expected_lines[i]);
    BOOST_TEST(!plan.errors[i].message.empty());
  }
  BOOST_TEST(plan.errors[0].text == "ALC2 0");
  BOOST_TEST(plan.errors[5].text == "VLC2 5 extra");
}

BOOST_AUTO_TEST_CASE(the_longest_duration_is_the_shared_limit) {
  const auto limit = std::to_string(evnet::max_duration_s);
  const auto plan = parse_request_file("ALC1 " + limit + "\nALC2 " + std::to_string(evnet::max_duration_s + 1) + "\n");
  BOOST_REQUIRE(plan.services.size() == 1u);
  BOOST_TEST(plan.services[0].duration_s == evnet::max_duration_s);
  BOOST_REQUIRE(plan.errors.size() == 1u);
  BOOST_TEST(plan.errors[0].message.find("between 1 and " + limit) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(error_text_has_no_carriage_return) {
  const auto plan = parse_request_file("ALC1 x\r\n");
  BOOST_REQUIRE(plan.errors.size() == 1u);
  BOOST_TEST(plan.errors[0].text == "ALC1 x");
  BOOST_TEST(plan.errors[0].line == 1);
}

BOOST_AUTO_TEST_CASE(an_overlong_id_is_an_error) {
  const auto plan = parse_request_file(std::string(65, 'A') + " 5\n" + std::string(64, 'B') + " 5\n");
  BOOST_REQUIRE(plan.errors.size() == 1u);
  BOOST_TEST(plan.errors[0].line == 1);
  BOOST_REQUIRE(plan.services.size() == 1u);
  BOOST_TEST(plan.services[0].cp_id == std::string(64, 'B'));
}

BOOST_AUTO_TEST_CASE(empty_content) {
  const auto plan = parse_request_file("");
  BOOST_TEST(plan.services.empty());
  BOOST_TEST(plan.errors.empty());
}

BOOST_AUTO_TEST_CASE(load_errors_are_file_errors) {
  temp_dir dir;
  const auto missing = evnet::domain::load_request_file((dir.path / "missing.txt").string());
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.err().code == evnet::errc::file);
  BOOST_TEST(missing.err().message.find("missing.txt") != std::string::npos);

  const auto directory = evnet::domain::load_request_file(dir.path.string());
  BOOST_REQUIRE(!directory.ok());
  BOOST_TEST(directory.err().code == evnet::errc::file);
}

BOOST_AUTO_TEST_CASE(load_reads_a_file) {
  temp_dir dir;
  const auto file = dir.path / "requests.txt";
  std::ofstream(file, std::ios::binary) << "ALC1 5\nbad line here\nMAD1\n";
  const auto plan = evnet::domain::load_request_file(file.string());
  BOOST_REQUIRE(plan.ok());
  BOOST_TEST(plan->services.size() == 2u);
  BOOST_REQUIRE(plan->errors.size() == 1u);
  BOOST_TEST(plan->errors[0].line == 2);
}

BOOST_AUTO_TEST_CASE(shipped_requests_file_is_clean_and_uses_known_cps) {
  const char* config_dir = std::getenv("EVNET_CONFIG_DIR");
  BOOST_REQUIRE_MESSAGE(config_dir != nullptr, "EVNET_CONFIG_DIR is set by meson");
  const auto plan = evnet::domain::load_request_file(std::string(config_dir) + "/requests.txt");
  BOOST_REQUIRE(plan.ok());
  BOOST_TEST(plan->errors.empty());
  BOOST_TEST(plan->services.size() >= 10u);

  const auto seed = evnet::domain::load_seed_file(std::string(config_dir) + "/db.json");
  BOOST_REQUIRE(seed.ok());
  std::set<std::string> known;
  for (const auto& c : seed->cps) {
    known.insert(c.id);
  }
  for (const auto& s : plan->services) {
    BOOST_TEST_CONTEXT("line " << s.line) {
      BOOST_TEST(known.contains(s.cp_id));
      BOOST_TEST(s.duration_s >= 3);
      BOOST_TEST(s.duration_s <= 8);
    }
  }
}

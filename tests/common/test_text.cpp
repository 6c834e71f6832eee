#define BOOST_TEST_MODULE common_text
#include <boost/test/unit_test.hpp>

#include "evnet/text.hpp"

#include <string>

using evnet::is_safe_id;
using evnet::printable_id;
using evnet::printable_text;

BOOST_AUTO_TEST_CASE(safe_ids_are_a_small_alphabet) {
  BOOST_TEST(is_safe_id("ALC-1_a.b"));
  BOOST_TEST(!is_safe_id(""));
  BOOST_TEST(!is_safe_id("a b"));
  BOOST_TEST(!is_safe_id(std::string(65, 'a')));
  BOOST_TEST(is_safe_id(std::string(65, 'a'), 65));
}

BOOST_AUTO_TEST_CASE(printable_id_keeps_ids_and_hexes_the_rest) {
  BOOST_TEST(printable_id("driver:D1:0a1b") == "driver:D1:0a1b");
  BOOST_TEST(printable_id("a\nb") == "0x610a62");
  BOOST_TEST(printable_id("") == "0x");
}

BOOST_AUTO_TEST_CASE(printable_text_keeps_paths_readable_and_escapes_the_rest) {
  BOOST_TEST(printable_text("/ocpp/OC1") == "/ocpp/OC1");
  BOOST_TEST(printable_text("/a b?x=\"1\"") == "/a b?x=\"1\"");
  BOOST_TEST(printable_text("a\nb\x1b[31m") == "a\\x0ab\\x1b[31m");
  BOOST_TEST(printable_text("\\") == "\\x5c");
  BOOST_TEST(printable_text("caf\xc3\xa9") == "caf\\xc3\\xa9");  // beyond ASCII, valid or not
  BOOST_TEST(printable_text("\xff\xfe") == "\\xff\\xfe");
  BOOST_TEST(printable_text(std::string(300, 'x')) == std::string(256, 'x') + "...");
  BOOST_TEST(printable_text("abcdef", 3) == "abc...");
}

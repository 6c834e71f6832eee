#define BOOST_TEST_MODULE json
#include <boost/test/unit_test.hpp>

#include "evnet/json.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace json = evnet::json;
using evnet::errc;

namespace {

json::value parse_ok(std::string_view text) {
  auto r = json::parse(text);
  BOOST_REQUIRE_MESSAGE(r.ok(), "parse failed: " << (r.ok() ? "" : r.err().message));
  return std::move(r).value();
}

// Returns the error message, failing the test when parsing succeeds.
std::string parse_error(std::string_view text) {
  const auto r = json::parse(text);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "accepted invalid JSON: " << text.substr(0, 80));
  BOOST_TEST(r.err().code == errc::json);
  return r.err().message;
}

bool mentions(const std::string& message, const std::string& what) { return message.find(what) != std::string::npos; }

// "at line L, column C", as every parse error message says where.
bool mentions_position(const std::string& message, int line, int column) {
  return mentions(message, "at line " + std::to_string(line) + ", column " + std::to_string(column));
}

// RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) {
        return false;
      }
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// What every headless line must be: valid UTF-8, one line, and JSON that
// parses back.
void check_line(const std::string& line) {
  BOOST_TEST(valid_utf8(line), line);
  BOOST_TEST(line.find('\n') == std::string::npos, line);
  BOOST_TEST(json::parse(line).ok(), line);
}

} // namespace

// ---- the vocabulary at the call sites -------------------------------------------

BOOST_AUTO_TEST_CASE(objects_keep_insertion_order_and_empty_containers_print_as_such) {
  json::object fields = {};
  BOOST_TEST(json::dump(fields) == "{}");
  BOOST_TEST(json::dump(json::array{}) == "[]");

  json::array rows;
  BOOST_TEST(json::dump(json::object{{"cps", rows}}) == R"({"cps":[]})");
  rows.push_back(json::object{{"line", 3}, {"text", "x"}});
  rows.push_back(json::value(json::object{{"z", 1}, {"a", 2}}));
  const json::object event = {{"cps", std::move(rows)}, {"ok", false}, {"none", nullptr}, {"kwh", 2.5}};
  BOOST_TEST(json::dump(event) == R"({"cps":[{"line":3,"text":"x"},{"z":1,"a":2}],"ok":false,"none":null,"kwh":2.5})");
}

BOOST_AUTO_TEST_CASE(vocabulary_enums_are_written_as_their_spelling) {
  const json::object fields = {{"state", evnet::cp_state::out_of_order},
                               {"command", evnet::cp_order::resume},
                               {"reason", evnet::end_reason::stopped},
                               {"code", errc::unauthenticated}};
  BOOST_TEST(json::dump(fields) ==
             R"({"state":"OUT_OF_ORDER","command":"resume","reason":"stopped by CENTRAL","code":"unauthenticated"})");
}

BOOST_AUTO_TEST_CASE(find_looks_up_members_of_objects_only) {
  const auto v = parse_ok(R"({"a":1,"b":[1,2]})");
  BOOST_REQUIRE(json::find(v, "a") != nullptr);
  BOOST_TEST(json::find(v, "a")->get<int>() == 1);
  BOOST_TEST(json::find(v, "missing") == nullptr);
  BOOST_TEST(json::find(*json::find(v, "b"), "a") == nullptr);  // an array
  BOOST_TEST(json::find(json::value(3), "a") == nullptr);
  BOOST_TEST(json::find(json::value(), "a") == nullptr);
}

// ---- scalars and numbers ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_literals) {
  BOOST_TEST(parse_ok("null").is_null());
  BOOST_TEST(parse_ok(" true ").get<bool>() == true);
  BOOST_TEST(parse_ok("\n\tfalse\r\n").get<bool>() == false);
}

BOOST_AUTO_TEST_CASE(integers_stay_integers) {
  BOOST_TEST(parse_ok("0").get<std::int64_t>() == 0);
  BOOST_TEST(parse_ok("-0").is_number_integer());
  BOOST_TEST(parse_ok("-12").get<std::int64_t>() == -12);
  BOOST_TEST(parse_ok("9223372036854775807").get<std::int64_t>() == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(parse_ok("-9223372036854775808").get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
  // Beyond int64: unsigned up to 2^64-1, then a double.
  BOOST_TEST(parse_ok("18446744073709551615").get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
  const auto small = parse_ok("-9223372036854775809");
  BOOST_TEST(small.is_number_float());
  BOOST_TEST(small.get<double>() == -9223372036854775808.0);
}

BOOST_AUTO_TEST_CASE(fractions_and_exponents_are_doubles) {
  const auto price = parse_ok("2.45");
  BOOST_TEST(price.is_number_float());
  BOOST_TEST(price.get<double>() == 2.45);
  BOOST_TEST(parse_ok("1e3").is_number_float());
  BOOST_TEST(parse_ok("1e3").get<double>() == 1000.0);
  BOOST_TEST(parse_ok("1.5E+2").get<double>() == 150.0);
  BOOST_TEST(parse_ok("-25e-2").get<double>() == -0.25);
  BOOST_TEST(parse_ok("5").get<double>() == 5.0);  // an integer reads as a double too
}

BOOST_AUTO_TEST_CASE(rejects_invalid_numbers) {
  for (const char* bad : {"-", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "0x10", "1.2.3", "--1", "Infinity", "NaN"}) {
    BOOST_TEST_CONTEXT("input " << bad) {
      parse_error(bad);
    }
  }
  const std::string overflow = parse_error("[1e400]");
  BOOST_TEST(mentions(overflow, "1e400"), overflow);
  BOOST_TEST(mentions(overflow, "at line 1"), overflow);
}

// ---- structure ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_nested_structures_in_order) {
  const auto v = parse_ok(R"( { "cps" : [ {"id":"ALC1","price":0.54}, {"id":"ALC2","price":0.6} ], "z":{}, "a":[] } )");
  BOOST_REQUIRE(v.is_object());
  BOOST_REQUIRE_EQUAL(v.size(), 3U);
  auto it = v.begin();
  BOOST_TEST(it.key() == "cps");
  BOOST_TEST((++it).key() == "z");
  BOOST_TEST((++it).key() == "a");
  const auto* cps = json::find(v, "cps");
  BOOST_REQUIRE(cps != nullptr);
  BOOST_REQUIRE_EQUAL(cps->size(), 2U);
  BOOST_TEST((*cps)[1]["id"].get<std::string>() == "ALC2");
  BOOST_TEST((*cps)[0]["price"].get<double>() == 0.54);
  BOOST_TEST(json::find(v, "z")->empty());
  BOOST_TEST(json::find(v, "z")->is_object());
  BOOST_TEST(json::find(v, "a")->is_array());
}

BOOST_AUTO_TEST_CASE(round_trips_documents) {
  const char* docs[] = {
      R"({"b":1,"a":[true,false,null,"x"],"c":{"d":2.45,"e":-3}})",
      R"([])",
      R"({})",
      R"([[[]],{"":""}])",
      R"("caf\u00e9 \"quoted\" back\\slash")",
      R"({"price":0.1,"total":0.30000000000000004,"big":1e+300,"tiny":5e-324})",
      R"({"ctl":"\u0001\b\f\n\r\t","emoji":"\ud83d\udd0c"})",
  };
  for (const char* doc : docs) {
    const auto v = parse_ok(doc);
    const std::string out = json::dump(v);
    // Compare values, not text: \u00e9 is written back as raw UTF-8.
    BOOST_TEST((parse_ok(out) == v), doc);
    BOOST_TEST(json::dump(parse_ok(out)) == out);
    check_line(out);
  }
  BOOST_TEST(json::dump(parse_ok(docs[0])) == docs[0]);
  BOOST_TEST(json::dump(parse_ok(docs[5])) == docs[5]);
}

// ---- dump -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dumps_money_like_a_human) {
  BOOST_TEST(json::dump(json::value(2.45)) == "2.45");
  BOOST_TEST(json::dump(json::value(0.54 * 10)) == "5.4");
  BOOST_TEST(json::dump(json::value(3.0)) == "3.0");
  BOOST_TEST(json::dump(json::value(-0.5)) == "-0.5");
  BOOST_TEST(json::dump(json::value(100000.0)) == "100000.0");
  BOOST_TEST(json::dump(json::value(0.0001)) == "0.0001");
  BOOST_TEST(json::dump(json::value(1e21)) == "1e+21");
  BOOST_TEST(json::dump(json::value(1e-7)) == "1e-07");
  BOOST_TEST(json::dump(json::value(3)) == "3");
  BOOST_TEST(json::dump(json::value(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
  BOOST_TEST(parse_ok(json::dump(json::value(3.0))).is_number_float());
}

BOOST_AUTO_TEST_CASE(non_finite_doubles_become_null) {
  BOOST_TEST(json::dump(json::value(std::numeric_limits<double>::quiet_NaN())) == "null");
  BOOST_TEST(json::dump(json::value(std::numeric_limits<double>::infinity())) == "null");
  BOOST_TEST(json::dump(json::value(-std::numeric_limits<double>::infinity())) == "null");
}

BOOST_AUTO_TEST_CASE(doubles_round_trip_exactly) {
  std::mt19937_64 rng(42);
  int checked = 0;
  while (checked < 20000) {
    const std::uint64_t bits = rng();
    double d = 0.0;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) {
      continue;
    }
    const auto back = parse_ok(json::dump(json::value(d)));
    BOOST_REQUIRE(back.is_number_float());
    BOOST_REQUIRE_EQUAL(back.get<double>(), d);
    ++checked;
  }
}

BOOST_AUTO_TEST_CASE(dumps_scalars_and_containers_compactly) {
  json::array a{json::value(nullptr), json::value(true), json::value(false), json::value(-1), json::value("s")};
  BOOST_TEST(json::dump(a) == R"([null,true,false,-1,"s"])");
  json::object o{{"x", json::array{}}, {"y", json::object{}}};
  BOOST_TEST(json::dump(o) == R"({"x":[],"y":{}})");
}

// ---- strings --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_escapes) {
  BOOST_TEST(parse_ok(R"("\"\\\/\b\f\n\r\t")").get<std::string>() == "\"\\/\b\f\n\r\t");
  BOOST_TEST(parse_ok(R"("\u0041\u0000z")").get<std::string>() == std::string("A\0z", 3));
}

BOOST_AUTO_TEST_CASE(dump_escapes_quotes_backslashes_and_control_characters) {
  BOOST_TEST(json::dump(json::value("say \"hi\"\\")) == R"("say \"hi\"\\")");
  BOOST_TEST(json::dump(json::value("a\nb\tc\rd")) == R"("a\nb\tc\rd")");
  BOOST_TEST(json::dump(json::value(std::string("\x01\x1f\b\f\0", 5))) == R"("\u0001\u001f\b\f\u0000")");
  BOOST_TEST(json::dump(json::value("/")) == R"("/")");
  // Every byte below 0x20 is escaped, so a line never breaks.
  std::string controls;
  for (char c = 0; c < 0x20; ++c) {
    controls += c;
  }
  const std::string line = json::dump(json::object{{"text", controls}});
  check_line(line);
  for (const char c : line) {
    BOOST_TEST(static_cast<unsigned char>(c) >= 0x20);
  }
  BOOST_TEST(json::find(parse_ok(line), "text")->get<std::string>() == controls);
}

BOOST_AUTO_TEST_CASE(accents_and_other_valid_utf8_pass_through_unchanged) {
  const std::string location = "Pla\xC3\xA7" "a de l'Ajuntament, Alacant \xE2\x82\xAC \xF0\x9F\x94\x8C";  // ç € 🔌
  const std::string line = json::dump(json::object{{"location", location}});
  BOOST_TEST(line == "{\"location\":\"" + location + "\"}");
  check_line(line);
  BOOST_TEST(json::find(parse_ok(line), "location")->get<std::string>() == location);
  // Keys too.
  BOOST_TEST(json::dump(json::object{{"ubicaci\xC3\xB3n", 1}}) == "{\"ubicaci\xC3\xB3n\":1}");
}

BOOST_AUTO_TEST_CASE(binary_bytes_never_make_an_invalid_line) {
  // A peer's routing id (ZeroMQ picks 5 binary bytes), a malformed CP id, a
  // Latin-1 location, a truncated sequence, an overlong '/', a surrogate.
  const std::string texts[] = {
      std::string("\x00\x6b\x8b\x45\x67", 5),
      "ALC\xff\xfe",
      "Alacant, Pla\xe7" "a",
      "cut \xE2\x82",
      "over\xC0\xAFlong",
      "sur\xED\xA0\x80rogate",
      std::string("\x80\x81\x82\xC3", 4),
  };
  for (const auto& text : texts) {
    std::string line;
    BOOST_CHECK_NO_THROW(line = json::dump(json::object{{"peer", text}, {text, "as a key"}}));
    check_line(line);
    // Invalid sequences become U+FFFD; the valid bytes around them stay.
    BOOST_TEST(mentions(line, "\xEF\xBF\xBD"), line);
  }
  BOOST_TEST(json::dump(json::value("ALC\xff" "1")) == "\"ALC\xEF\xBF\xBD" "1\"");
  BOOST_TEST(json::dump(json::value(std::string("\x00\x6b", 2))) == R"("\u0000k")");

  // Random bytes: still one valid line that parses back.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(static_cast<std::size_t>(rng() % 24), '\0');
    for (auto& b : bytes) {
      b = static_cast<char>(rng() & 0xFF);
    }
    check_line(json::dump(json::object{{"id", bytes}}));
  }
}

BOOST_AUTO_TEST_CASE(decodes_unicode_escapes_to_utf8) {
  BOOST_TEST(parse_ok(R"("\u00e9")").get<std::string>() == "\xC3\xA9");
  BOOST_TEST(parse_ok(R"("\u20AC")").get<std::string>() == "\xE2\x82\xAC");
  BOOST_TEST(parse_ok(R"("\ud83d\ude00")").get<std::string>() == "\xF0\x9F\x98\x80");  // U+1F600
  BOOST_TEST(parse_ok(R"("\uDBFF\uDFFF")").get<std::string>() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  // Raw UTF-8 passes through both ways untouched.
  const std::string raw = "Alacant \xE2\x82\xAC \xF0\x9F\x94\x8C";
  BOOST_TEST(parse_ok("\"" + raw + "\"").get<std::string>() == raw);
  BOOST_TEST(json::dump(json::value(raw)) == "\"" + raw + "\"");
}

BOOST_AUTO_TEST_CASE(rejects_broken_surrogates_and_invalid_utf8_input) {
  BOOST_TEST(mentions(parse_error(R"(["\ud83d"])"), "surrogate"));
  BOOST_TEST(mentions(parse_error(R"("ab\ude00")"), "surrogate"));
  BOOST_TEST(mentions(parse_error(R"("\ud83d\u0041")"), "surrogate"));
  BOOST_TEST(mentions(parse_error(R"("\ud83dx")"), "surrogate"));
  BOOST_TEST(mentions_position(parse_error("{\"a\":\"\xff\"}"), 1, 7));
}

// ---- errors ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(errors_say_where) {
  BOOST_TEST(mentions_position(parse_error(""), 1, 1));
  BOOST_TEST(mentions_position(parse_error("   "), 1, 4));
  BOOST_TEST(mentions_position(parse_error(R"({"a":1,})"), 1, 8));
  BOOST_TEST(mentions_position(parse_error("[1,2"), 1, 5));
  BOOST_TEST(mentions_position(parse_error("[1 2]"), 1, 4));
  BOOST_TEST(mentions_position(parse_error("[1] x"), 1, 5));
  BOOST_TEST(mentions_position(parse_error(R"({"a" 1})"), 1, 6));
  BOOST_TEST(mentions_position(parse_error(R"({1:2})"), 1, 2));
  BOOST_TEST(mentions_position(parse_error(R"("abc)"), 1, 5));
  BOOST_TEST(mentions_position(parse_error(R"(["a\qb"])"), 1, 5));
  BOOST_TEST(mentions_position(parse_error(R"("\u12G4")"), 1, 6));
  BOOST_TEST(mentions_position(parse_error("tru"), 1, 4));
  BOOST_TEST(mentions_position(parse_error("nulL"), 1, 4));
  BOOST_TEST(mentions_position(parse_error("[01]"), 1, 3));
  // A config file: the line counts.
  BOOST_TEST(mentions_position(parse_error("{\n  \"cps\": [\n    {\"id\": \"A\",}\n  ]\n}"), 3, 16));
}

BOOST_AUTO_TEST_CASE(a_repeated_key_is_an_error) {
  const std::string message = parse_error(R"({"k":1,"k":2})");
  BOOST_TEST(mentions(message, "duplicate key \"k\""), message);
  BOOST_TEST(mentions_position(message, 1, 10), message);
  // The same key in two objects is fine, nested or not.
  BOOST_TEST(parse_ok(R"([{"k":1},{"k":2}])").size() == 2U);
  BOOST_TEST(parse_ok(R"({"k":{"k":{"k":1}}})").is_object());
  const std::string nested = parse_error("{\"a\":{\"x\":1},\n\"b\":{\"y\":1,\"y\":2}}");
  BOOST_TEST(mentions(nested, "\"y\""), nested);
  BOOST_TEST(mentions_position(nested, 2, 14), nested);
}

BOOST_AUTO_TEST_CASE(nesting_is_limited_to_64_levels) {
  const std::string ok_doc = std::string(64, '[') + std::string(64, ']');
  BOOST_TEST(parse_ok(ok_doc).is_array());
  const std::string too_deep = parse_error(std::string(65, '[') + std::string(65, ']'));
  BOOST_TEST(mentions(too_deep, "64"), too_deep);
  BOOST_TEST(mentions_position(too_deep, 1, 65), too_deep);

  std::string objects;
  for (int i = 0; i < 65; ++i) {
    objects += "{\"k\":";
  }
  objects += "1" + std::string(65, '}');
  BOOST_TEST(mentions_position(parse_error(objects), 1, 64 * 5 + 1));

  // Far deeper input must fail cleanly rather than exhaust the stack.
  BOOST_TEST(mentions(parse_error(std::string(1'000'000, '[')), "64"));
}

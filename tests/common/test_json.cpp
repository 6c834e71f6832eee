#define BOOST_TEST_MODULE json
#include <boost/test/unit_test.hpp>

#include "evnet/json.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace json = evnet::json;

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
  BOOST_TEST(r.err().code == "json");
  return r.err().message;
}

bool mentions_offset(const std::string& message, std::size_t offset) {
  return message.find("at byte " + std::to_string(offset)) != std::string::npos;
}

} // namespace

// ---- scalars and numbers ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_literals) {
  BOOST_TEST(parse_ok("null").is_null());
  BOOST_TEST(parse_ok(" true ").as_bool() == true);
  BOOST_TEST(parse_ok("\n\tfalse\r\n").as_bool() == false);
}

BOOST_AUTO_TEST_CASE(integers_that_fit_int64_stay_integers) {
  BOOST_TEST(parse_ok("0").as_int() == 0);
  BOOST_TEST(parse_ok("-0").is_int());
  BOOST_TEST(parse_ok("-12").as_int() == -12);
  BOOST_TEST(parse_ok("9223372036854775807").as_int() == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(parse_ok("-9223372036854775808").as_int() == std::numeric_limits<std::int64_t>::min());

  const auto big = parse_ok("9223372036854775808");
  BOOST_TEST(!big.is_int());
  BOOST_TEST(big.as_double() == 9223372036854775808.0);
  const auto small = parse_ok("-9223372036854775809");
  BOOST_TEST(!small.is_int());
  BOOST_TEST(small.as_double() == -9223372036854775808.0);
}

BOOST_AUTO_TEST_CASE(fractions_and_exponents_are_doubles) {
  const auto price = parse_ok("2.45");
  BOOST_TEST(!price.is_int());
  BOOST_TEST(price.is_number());
  BOOST_TEST(price.as_double() == 2.45);
  BOOST_TEST(!parse_ok("1e3").is_int());
  BOOST_TEST(parse_ok("1e3").as_double() == 1000.0);
  BOOST_TEST(parse_ok("1.5E+2").as_double() == 150.0);
  BOOST_TEST(parse_ok("-25e-2").as_double() == -0.25);
  BOOST_TEST(parse_ok("3.0").as_int() == 3);
  BOOST_TEST(parse_ok("-7.9").as_int() == -7);  // truncated, as documented
  BOOST_TEST(json::value(1e300).as_int() == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(json::value(5).as_double() == 5.0);
}

BOOST_AUTO_TEST_CASE(rejects_invalid_numbers) {
  for (const char* bad : {"-", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "0x10", "1.2.3", "--1", "Infinity", "NaN"}) {
    BOOST_TEST_CONTEXT("input " << bad) {
      parse_error(bad);
    }
  }
  BOOST_TEST(parse_error("1e400").find("out of range") != std::string::npos);
}

// ---- structure ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_nested_structures_in_order) {
  const auto v = parse_ok(R"( { "cps" : [ {"id":"ALC1","price":0.54}, {"id":"ALC2","price":0.6} ], "z":{}, "a":[] } )");
  BOOST_REQUIRE(v.is_object());
  const auto& members = v.as_object();
  BOOST_REQUIRE_EQUAL(members.size(), 3U);
  BOOST_TEST(members[0].first == "cps");
  BOOST_TEST(members[1].first == "z");
  BOOST_TEST(members[2].first == "a");
  const auto* cps = v.find("cps");
  BOOST_REQUIRE(cps != nullptr);
  BOOST_REQUIRE_EQUAL(cps->as_array().size(), 2U);
  BOOST_TEST(cps->as_array()[1].find("id")->as_string() == "ALC2");
  BOOST_TEST(cps->as_array()[0].find("price")->as_double() == 0.54);
  BOOST_TEST(v.find("missing") == nullptr);
  BOOST_TEST(cps->find("id") == nullptr);  // not an object
  BOOST_TEST(v.find("z")->as_object().empty());
  BOOST_TEST(v.find("a")->as_array().empty());
}

BOOST_AUTO_TEST_CASE(set_appends_then_replaces) {
  json::value v;
  v.set("event", "charge_started");
  v.set("kwh", 0.0);
  v.set("event", "charge_finished");
  BOOST_REQUIRE(v.is_object());
  BOOST_REQUIRE_EQUAL(v.as_object().size(), 2U);
  BOOST_TEST(v.as_object()[0].first == "event");
  BOOST_TEST(v.find("event")->as_string() == "charge_finished");
  BOOST_TEST(json::dump(v) == R"({"event":"charge_finished","kwh":0.0})");
}

BOOST_AUTO_TEST_CASE(round_trips_documents) {
  const char* docs[] = {
      R"({"b":1,"a":[true,false,null,"x"],"c":{"d":2.45,"e":-3}})",
      R"([])",
      R"({})",
      R"([[[]],{"":""}])",
      R"("caf\u00e9 \"quoted\" back\\slash")",
      R"({"price":0.1,"total":0.30000000000000004,"big":1e+300,"tiny":5e-324})",
  };
  for (const char* doc : docs) {
    const auto v = parse_ok(doc);
    const std::string out = json::dump(v);
    // Compare values, not text: \u00e9 is written back as raw UTF-8.
    BOOST_TEST((parse_ok(out) == v), doc);  // json::value has no operator<<
    BOOST_TEST(json::dump(parse_ok(out)) == out);
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
  BOOST_TEST(!parse_ok(json::dump(json::value(3.0))).is_int());
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
    BOOST_REQUIRE(!back.is_int());
    BOOST_REQUIRE_EQUAL(back.as_double(), d);
    ++checked;
  }
}

BOOST_AUTO_TEST_CASE(dumps_scalars_and_containers_compactly) {
  json::array a{json::value(nullptr), json::value(true), json::value(false), json::value(-1), json::value("s")};
  BOOST_TEST(json::dump(json::value(a)) == R"([null,true,false,-1,"s"])");
  json::object o{{"x", json::value(json::array{})}, {"y", json::value(json::object{})}};
  BOOST_TEST(json::dump(json::value(o)) == R"({"x":[],"y":{}})");
}

// ---- strings --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(parses_escapes) {
  BOOST_TEST(parse_ok(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  BOOST_TEST(parse_ok(R"("\u0041\u0000z")").as_string() == std::string("A\0z", 3));
}

BOOST_AUTO_TEST_CASE(dump_escapes_quotes_backslashes_and_controls) {
  BOOST_TEST(json::dump(json::value("say \"hi\"\\")) == R"("say \"hi\"\\")");
  BOOST_TEST(json::dump(json::value("a\nb\tc\rd")) == R"("a\nb\tc\rd")");
  BOOST_TEST(json::dump(json::value(std::string("\x01\x1f\b\f\0", 5))) == R"("\u0001\u001f\u0008\u000c\u0000")");
  BOOST_TEST(json::dump(json::value("/")) == R"("/")");
}

BOOST_AUTO_TEST_CASE(decodes_unicode_escapes_to_utf8) {
  BOOST_TEST(parse_ok(R"("\u00e9")").as_string() == "\xC3\xA9");
  BOOST_TEST(parse_ok(R"("\u20AC")").as_string() == "\xE2\x82\xAC");
  BOOST_TEST(parse_ok(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
  BOOST_TEST(parse_ok(R"("\uDBFF\uDFFF")").as_string() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  // Raw UTF-8 passes through both ways untouched.
  const std::string raw = "Alacant \xE2\x82\xAC \xF0\x9F\x94\x8C";
  BOOST_TEST(parse_ok("\"" + raw + "\"").as_string() == raw);
  BOOST_TEST(json::dump(json::value(raw)) == "\"" + raw + "\"");
}

BOOST_AUTO_TEST_CASE(rejects_broken_surrogates) {
  BOOST_TEST(mentions_offset(parse_error(R"(["\ud83d"])"), 2));
  BOOST_TEST(mentions_offset(parse_error(R"("ab\ude00")"), 3));
  BOOST_TEST(mentions_offset(parse_error(R"("\ud83d\u0041")"), 1));
  BOOST_TEST(mentions_offset(parse_error(R"("\ud83dx")"), 1));
}

// ---- errors ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(errors_carry_the_byte_offset) {
  BOOST_TEST(mentions_offset(parse_error(""), 0));
  BOOST_TEST(mentions_offset(parse_error("   "), 3));
  BOOST_TEST(mentions_offset(parse_error(R"({"a":1,})"), 7));
  BOOST_TEST(mentions_offset(parse_error("[1,2"), 4));
  BOOST_TEST(mentions_offset(parse_error("[1 2]"), 3));
  BOOST_TEST(mentions_offset(parse_error("[1] x"), 4));
  BOOST_TEST(mentions_offset(parse_error(R"({"a" 1})"), 5));
  BOOST_TEST(mentions_offset(parse_error(R"({1:2})"), 1));
  BOOST_TEST(mentions_offset(parse_error(R"("abc)"), 4));
  BOOST_TEST(mentions_offset(parse_error(R"(["a\qb"])"), 3));
  BOOST_TEST(mentions_offset(parse_error(R"("\u12G4")"), 3));
  BOOST_TEST(mentions_offset(parse_error("tru"), 0));
  BOOST_TEST(mentions_offset(parse_error("nulL"), 0));
  BOOST_TEST(mentions_offset(parse_error("[01]"), 1));
  BOOST_TEST(mentions_offset(parse_error("\"a\nb\""), 2));
  BOOST_TEST(mentions_offset(parse_error(R"({"k":1,"k":2})"), 7));
  BOOST_TEST(parse_error(R"({"k":1,"k":2})").find("duplicate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(nesting_is_limited_to_64_levels) {
  const std::string ok_doc = std::string(64, '[') + std::string(64, ']');
  BOOST_TEST(parse_ok(ok_doc).is_array());
  BOOST_TEST(mentions_offset(parse_error(std::string(65, '[') + std::string(65, ']')), 64));

  std::string objects;
  for (int i = 0; i < 65; ++i) {
    objects += "{\"k\":";
  }
  objects += "1" + std::string(65, '}');
  BOOST_TEST(mentions_offset(parse_error(objects), 64 * 5));

  // Far deeper input must fail cleanly rather than exhaust the stack.
  BOOST_TEST(parse_error(std::string(1'000'000, '[')).find("64") != std::string::npos);
}

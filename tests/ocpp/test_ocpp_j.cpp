#define BOOST_TEST_MODULE ocpp_j
#include <boost/test/unit_test.hpp>

#include "evnet/ocpp/ocpp_j.hpp"

#include <random>
#include <string>
#include <string_view>
#include <variant>

namespace o = evnet::ocpp;
using o::call_error_code;

namespace {

// The refusal of `text`, failing the test when it parses.
o::frame_error refused(std::string_view text) {
  auto r = o::parse(text);
  BOOST_TEST_INFO("frame " << text);
  BOOST_REQUIRE(!r.ok());
  return r.err();
}

void check_refused(std::string_view text, call_error_code code, std::string_view id, bool answer = true) {
  const auto e = refused(text);
  BOOST_TEST_INFO("frame " << text << ": " << e.description);
  BOOST_TEST(e.code == code);
  BOOST_TEST(e.id == id);
  BOOST_TEST(e.answer == answer);
  BOOST_TEST(!e.description.empty());
}

} // namespace

BOOST_AUTO_TEST_CASE(error_code_strings_are_the_1_6_spellings) {
  const std::pair<call_error_code, std::string_view> expected[] = {
      {call_error_code::not_implemented, "NotImplemented"},
      {call_error_code::not_supported, "NotSupported"},
      {call_error_code::internal_error, "InternalError"},
      {call_error_code::protocol_error, "ProtocolError"},
      {call_error_code::security_error, "SecurityError"},
      {call_error_code::formation_violation, "FormationViolation"},
      {call_error_code::property_constraint_violation, "PropertyConstraintViolation"},
      // OCPP-J 1.6 errata 5.1: the single-r spelling is kept in 1.6.
      {call_error_code::occurrence_constraint_violation, "OccurenceConstraintViolation"},
      {call_error_code::type_constraint_violation, "TypeConstraintViolation"},
      {call_error_code::generic_error, "GenericError"},
  };
  for (const auto& [code, text] : expected) {
    BOOST_TEST(o::to_string(code) == text);
    BOOST_TEST((o::parse_call_error_code(text) == code));
  }
  // Later versions' spellings are understood, never written.
  BOOST_TEST((o::parse_call_error_code("OccurrenceConstraintViolation") ==
             call_error_code::occurrence_constraint_violation));
  BOOST_TEST((o::parse_call_error_code("FormatViolation") == call_error_code::formation_violation));
  BOOST_TEST(!o::parse_call_error_code("genericerror").has_value());
  BOOST_TEST(!o::parse_call_error_code("").has_value());
}

BOOST_AUTO_TEST_CASE(spec_call_example_parses) {
  // OCPP-J 1.6 section 4.2.1.
  const auto r = o::parse(R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}])");
  BOOST_REQUIRE(r.ok());
  const auto* c = std::get_if<o::call>(&*r);
  BOOST_REQUIRE(c != nullptr);
  BOOST_TEST(c->id == "19223201");
  BOOST_TEST(c->action == "BootNotification");
  BOOST_TEST(c->payload["chargePointVendor"] == "VendorX");
  BOOST_TEST(c->payload["chargePointModel"] == "SingleSocketCharger");
}

BOOST_AUTO_TEST_CASE(spec_call_result_example_parses) {
  // OCPP-J 1.6 section 4.2.2.
  const auto r = o::parse(R"([3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"}])");
  BOOST_REQUIRE(r.ok());
  const auto* c = std::get_if<o::call_result>(&*r);
  BOOST_REQUIRE(c != nullptr);
  BOOST_TEST(c->id == "19223201");
  BOOST_TEST(c->payload["interval"] == 300);
}

BOOST_AUTO_TEST_CASE(call_error_parses) {
  const auto r = o::parse(R"([4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}])");
  BOOST_REQUIRE(r.ok());
  const auto* e = std::get_if<o::call_error>(&*r);
  BOOST_REQUIRE(e != nullptr);
  BOOST_TEST(e->id == "162376037");
  BOOST_TEST(e->code == call_error_code::not_supported);
  BOOST_TEST(e->description == "SetDisplayMessageRequest not implemented");
  BOOST_TEST(e->details.is_object());
  BOOST_TEST(e->details.empty());
}

BOOST_AUTO_TEST_CASE(call_error_with_an_unknown_code_becomes_generic) {
  const auto r = o::parse(R"([4,"x","NoSuchCode","boom",{"a":1}])");
  BOOST_REQUIRE(r.ok());
  const auto& e = std::get<o::call_error>(*r);
  BOOST_TEST(e.code == call_error_code::generic_error);
  BOOST_TEST(e.description == "[NoSuchCode] boom");
  BOOST_TEST(e.details["a"] == 1);
}

BOOST_AUTO_TEST_CASE(every_frame_round_trips) {
  const o::frame frames[] = {
      o::call{"1", "Heartbeat", evnet::json::object{}},
      o::call{"abc-123", "StatusNotification", evnet::json::value({{"connectorId", 1}, {"status", "Available"}})},
      o::call_result{"1", evnet::json::value({{"currentTime", "2026-01-01T00:00:00.000Z"}})},
      o::call_error{"9", call_error_code::occurrence_constraint_violation, "idTag: is required",
                    evnet::json::value({{"field", "idTag"}})},
  };
  for (const auto& f : frames) {
    const std::string text = o::encode(f);
    const auto back = o::parse(text);
    BOOST_TEST_INFO(text);
    BOOST_REQUIRE(back.ok());
    BOOST_REQUIRE(back->index() == f.index());
    BOOST_TEST(o::encode(*back) == text);
  }
}

BOOST_AUTO_TEST_CASE(encode_is_compact_and_exact) {
  BOOST_TEST(o::encode(o::call{"1", "Heartbeat", evnet::json::object{}}) == R"([2,"1","Heartbeat",{}])");
  BOOST_TEST(o::encode(o::call_result{"1", evnet::json::value({{"status", "Accepted"}})}) ==
             R"([3,"1",{"status":"Accepted"}])");
  BOOST_TEST(o::encode(o::call_error{"7", call_error_code::formation_violation, "bad", evnet::json::object{}}) ==
             R"([4,"7","FormationViolation","bad",{}])");
  // Not an object: written as {} so the frame stays valid.
  BOOST_TEST(o::encode(o::call_result{"1", evnet::json::value()}) == R"([3,"1",{}])");
  BOOST_TEST(o::encode(o::call{"1", "X", evnet::json::value(evnet::json::array{1, 2})}) == R"([2,"1","X",{}])");
}

BOOST_AUTO_TEST_CASE(not_json_is_a_formation_violation_with_no_id) {
  check_refused(R"([2,"a","Heartbeat",{})", call_error_code::formation_violation, "-1");  // truncated
  check_refused("", call_error_code::formation_violation, "-1");
  check_refused("hello", call_error_code::formation_violation, "-1");
  check_refused(R"([2,"a","Heartbeat",{"a":1,"a":2}])", call_error_code::formation_violation, "-1");
  check_refused(std::string(100, '[') + std::string(100, ']'), call_error_code::formation_violation, "-1");
}

BOOST_AUTO_TEST_CASE(not_an_array_is_a_formation_violation) {
  check_refused(R"({"type":2})", call_error_code::formation_violation, "-1");
  check_refused(R"("text")", call_error_code::formation_violation, "-1");
  check_refused("2", call_error_code::formation_violation, "-1");
  check_refused("null", call_error_code::formation_violation, "-1");
  check_refused("[]", call_error_code::formation_violation, "-1");
}

BOOST_AUTO_TEST_CASE(bad_message_type_or_id) {
  check_refused(R"(["2","a","Heartbeat",{}])", call_error_code::formation_violation, "-1");
  check_refused(R"([2.0,"a","Heartbeat",{}])", call_error_code::formation_violation, "-1");
  check_refused("[2]", call_error_code::formation_violation, "-1");
  check_refused(R"([2,1,"Heartbeat",{}])", call_error_code::formation_violation, "-1");
  check_refused(R"([2,"","Heartbeat",{}])", call_error_code::formation_violation, "-1");
  check_refused(R"([2,null,"Heartbeat",{}])", call_error_code::formation_violation, "-1");
}

BOOST_AUTO_TEST_CASE(unique_id_length_limit) {
  const std::string id36(36, 'a');
  const auto ok = o::parse(R"([2,")" + id36 + R"(","Heartbeat",{}])");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(std::get<o::call>(*ok).id == id36);
  check_refused(R"([2,")" + std::string(37, 'a') + R"(","Heartbeat",{}])", call_error_code::formation_violation,
                "-1");
}

BOOST_AUTO_TEST_CASE(unknown_message_type_is_not_supported_with_the_id) {
  check_refused(R"([9,"a","X",{}])", call_error_code::not_supported, "a");
  check_refused(R"([5,"a","X",{}])", call_error_code::not_supported, "a");
  check_refused(R"([0,"a","X",{}])", call_error_code::not_supported, "a");
  check_refused(R"([-2,"a","X",{}])", call_error_code::not_supported, "a");
  // Must not wrap around into a known type.
  check_refused(R"([4294967298,"a","X",{}])", call_error_code::not_supported, "a");
  check_refused(R"([18446744073709551614,"a","X",{}])", call_error_code::not_supported, "a");
  // Beyond 64 bits JSON gives a float: not an integer at all.
  check_refused(R"([18446744073709551618,"a","X",{}])", call_error_code::formation_violation, "-1");
}

BOOST_AUTO_TEST_CASE(wrong_element_count) {
  check_refused(R"([2,"a"])", call_error_code::protocol_error, "a");
  check_refused(R"([2,"a","Heartbeat"])", call_error_code::protocol_error, "a");
  check_refused(R"([2,"a","Heartbeat",{},{}])", call_error_code::formation_violation, "a");
  // A bad CALLRESULT or CALLERROR is reported but never answered.
  check_refused(R"([3,"a"])", call_error_code::protocol_error, "a", false);
  check_refused(R"([3,"a",{},1])", call_error_code::formation_violation, "a", false);
  check_refused(R"([4,"a","GenericError","x"])", call_error_code::protocol_error, "a", false);
}

BOOST_AUTO_TEST_CASE(wrong_element_types) {
  check_refused(R"([2,"a","Heartbeat",[]])", call_error_code::formation_violation, "a");  // payload array
  check_refused(R"([2,"a","Heartbeat",null])", call_error_code::formation_violation, "a");
  check_refused(R"([2,"a","Heartbeat","{}"])", call_error_code::formation_violation, "a");
  check_refused(R"([2,"a",7,{}])", call_error_code::formation_violation, "a");
  check_refused(R"([2,"a","",{}])", call_error_code::formation_violation, "a");
  check_refused(R"([3,"a",[]])", call_error_code::formation_violation, "a", false);
  check_refused(R"([4,"a",1,"x",{}])", call_error_code::formation_violation, "a", false);
  check_refused(R"([4,"a","GenericError",1,{}])", call_error_code::formation_violation, "a", false);
  check_refused(R"([4,"a","GenericError","x",[]])", call_error_code::formation_violation, "a", false);
}

BOOST_AUTO_TEST_CASE(size_cap_is_checked_before_parsing) {
  // Padding inside a string keeps it valid JSON, so only the size refuses it.
  const std::string head = R"([2,"a","DataTransfer",{"data":")";
  const std::string tail = R"("}])";
  const std::string at_cap = head + std::string(o::max_frame_bytes - head.size() - tail.size(), 'x') + tail;
  BOOST_REQUIRE(at_cap.size() == o::max_frame_bytes);
  BOOST_TEST(o::parse(at_cap).ok());
  const std::string over = head + std::string(o::max_frame_bytes - head.size() - tail.size() + 1, 'x') + tail;
  check_refused(over, call_error_code::formation_violation, "-1");
  // Not even looked at: garbage over the cap gets the same answer.
  check_refused(std::string(o::max_frame_bytes + 1, '\xff'), call_error_code::formation_violation, "-1");
}

BOOST_AUTO_TEST_CASE(to_call_error_answers_a_refusal) {
  const auto e = refused(R"([2,"a","Heartbeat",[]])");
  const o::call_error answer = o::to_call_error(e);
  BOOST_TEST(answer.id == "a");
  BOOST_TEST(answer.code == call_error_code::formation_violation);
  BOOST_TEST(o::encode(answer).starts_with(R"([4,"a","FormationViolation",")"));
  // A payload error (no id yet) still yields a valid frame.
  const o::frame_error no_id{"", call_error_code::type_constraint_violation, "x", true};
  BOOST_TEST(o::to_call_error(no_id).id == "-1");
}

BOOST_AUTO_TEST_CASE(hostile_bytes_never_crash) {
  const std::string_view inputs[] = {
      "\x00", "[2,\"a\",\"X\",{\"k\":\"\xc3\x28\"}]", "[2,\"a\",\"X\",{\"k\":1e400}]", "[[[[", "]]]]", "[2,\"a\"",
      "[2,\"\\u0000\",\"X\",{}]", "[2,\"a\",\"X\",{}]   ", "  [2,\"a\",\"X\",{}]",
  };
  for (const auto text : inputs) {
    const auto r = o::parse(text);
    if (!r.ok()) {
      BOOST_TEST(!r.err().description.empty());
    }
  }
  // Whitespace around the array is fine JSON.
  BOOST_TEST(o::parse("  [2,\"a\",\"X\",{}]\n").ok());
}

BOOST_AUTO_TEST_CASE(mutated_frames_never_crash) {
  const std::string seeds[] = {
      R"([2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}])",
      R"([3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"}])",
      R"([4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}])",
  };
  std::mt19937 rng(20261127);  // fixed: a failure reproduces
  const std::string alphabet = "[]{}\",:0123456789.-e ";
  int parsed = 0;
  for (const auto& seed : seeds) {
    for (int round = 0; round < 1000; ++round) {
      std::string text = seed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < edits && !text.empty(); ++i) {
        const std::size_t at = rng() % text.size();
        switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 4);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        }
      }
      const auto r = o::parse(text);
      if (r.ok()) {
        ++parsed;
        // What parses re-encodes to something that parses the same way.
        const auto again = o::parse(o::encode(*r));
        BOOST_REQUIRE(again.ok());
        BOOST_TEST(o::encode(*again) == o::encode(*r));
      } else {
        BOOST_TEST(!r.err().description.empty());
        BOOST_TEST(!r.err().id.empty());
      }
    }
  }
  BOOST_TEST(parsed > 100);
}

#define BOOST_TEST_MODULE vocabulary
#include <boost/test/unit_test.hpp>

#include "evnet/vocabulary.hpp"

#include <set>
#include <string>

// Every value of every enum has a spelling, the spellings are distinct, and
// each parses back to its value: a value added to an enum without a
// spelling fails here, not on the wire.
namespace {

template <class E, class Parse>
void round_trips(E last, Parse parse) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    const auto v = static_cast<E>(i);
    const std::string name(evnet::to_string(v));
    BOOST_TEST(name != "?", "value " << i << " has no spelling");
    BOOST_TEST(seen.insert(name).second, "spelling '" << name << "' is used twice");
    const auto back = parse(name);
    BOOST_TEST_REQUIRE(back.has_value(), name);
    BOOST_TEST(static_cast<int>(*back) == i);
  }
  BOOST_TEST(!parse("").has_value());
  BOOST_TEST(!parse("no such word").has_value());
}

} // namespace

BOOST_AUTO_TEST_CASE(cp_states_round_trip) {
  round_trips(evnet::cp_state::disconnected, [](std::string_view s) { return evnet::parse_cp_state(s); });
  BOOST_TEST(evnet::to_string(evnet::cp_state::out_of_order) == "OUT_OF_ORDER");
  BOOST_TEST(!evnet::parse_cp_state("active").has_value());  // case matters: the spelling is the contract
}

BOOST_AUTO_TEST_CASE(cp_orders_round_trip) {
  round_trips(evnet::cp_order::resume, [](std::string_view s) { return evnet::parse_cp_order(s); });
}

BOOST_AUTO_TEST_CASE(end_reasons_round_trip) {
  round_trips(evnet::end_reason::revoked, [](std::string_view s) { return evnet::parse_end_reason(s); });
  // Tickets already stored and documented keep their words.
  BOOST_TEST(evnet::to_string(evnet::end_reason::stopped) == "stopped by CENTRAL");
  BOOST_TEST(evnet::to_string(evnet::end_reason::engine_fault) == "engine fault");
  BOOST_TEST(evnet::to_string(evnet::end_reason::revoked) == "key revoked");
}

BOOST_AUTO_TEST_CASE(error_codes_round_trip) {
  round_trips(evnet::errc::store, [](std::string_view s) { return evnet::parse_errc(s); });
  BOOST_TEST(evnet::to_string(evnet::errc::forbidden) == "forbidden");
  BOOST_TEST(evnet::to_string(evnet::errc::revoked) == "revoked");
  BOOST_TEST(evnet::to_string(evnet::errc::too_many) == "too_many");
}

BOOST_AUTO_TEST_CASE(longest_duration_is_a_day) { BOOST_TEST(evnet::max_duration_s == 86400); }

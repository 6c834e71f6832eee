#define BOOST_TEST_MODULE domain_cp_state
#include <boost/test/unit_test.hpp>

#include "evnet/domain/cp_state.hpp"

#include <ostream>
#include <string>
#include <utility>

using evnet::domain::cp_condition;
using evnet::domain::cp_state;

namespace {

struct row {
  bool monitor_ok;
  bool engine_ok;
  bool stopped;
  bool charging;
  bool out_of_service;
  const char* expected;
};

// The whole table, written out by hand from the rules rather than computed.
constexpr row table[] = {
    // monitor engine stopped charging out_of_service
    {false, false, false, false, false, "DISCONNECTED"},
    {false, false, false, false, true, "DISCONNECTED"},
    {false, false, false, true, false, "DISCONNECTED"},
    {false, false, false, true, true, "DISCONNECTED"},
    {false, false, true, false, false, "DISCONNECTED"},
    {false, false, true, false, true, "DISCONNECTED"},
    {false, false, true, true, false, "DISCONNECTED"},
    {false, false, true, true, true, "DISCONNECTED"},
    {false, true, false, false, false, "DISCONNECTED"},
    {false, true, false, false, true, "DISCONNECTED"},
    {false, true, false, true, false, "DISCONNECTED"},
    {false, true, false, true, true, "DISCONNECTED"},
    {false, true, true, false, false, "DISCONNECTED"},
    {false, true, true, false, true, "DISCONNECTED"},
    {false, true, true, true, false, "DISCONNECTED"},
    {false, true, true, true, true, "DISCONNECTED"},
    {true, false, false, false, false, "BROKEN"},
    {true, false, false, false, true, "BROKEN"},
    {true, false, false, true, false, "BROKEN"},
    {true, false, false, true, true, "BROKEN"},
    {true, false, true, false, false, "BROKEN"},
    {true, false, true, false, true, "BROKEN"},
    {true, false, true, true, false, "BROKEN"},
    {true, false, true, true, true, "BROKEN"},
    {true, true, false, false, false, "ACTIVE"},
    {true, true, false, false, true, "OUT_OF_ORDER"},
    {true, true, false, true, false, "BUSY"},
    {true, true, false, true, true, "OUT_OF_ORDER"},
    {true, true, true, false, false, "OUT_OF_ORDER"},
    {true, true, true, false, true, "OUT_OF_ORDER"},
    {true, true, true, true, false, "OUT_OF_ORDER"},
    {true, true, true, true, true, "OUT_OF_ORDER"},
};

} // namespace

BOOST_AUTO_TEST_CASE(derive_state_covers_every_combination) {
  for (const auto& r : table) {
    const cp_condition c{r.monitor_ok, r.engine_ok, r.stopped, r.charging, r.out_of_service};
    BOOST_TEST_CONTEXT("monitor_ok=" << r.monitor_ok << " engine_ok=" << r.engine_ok << " stopped=" << r.stopped
                                     << " charging=" << r.charging << " out_of_service=" << r.out_of_service) {
      BOOST_TEST(std::string(to_string(derive_state(c))) == r.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_condition_is_disconnected) {
  BOOST_TEST(derive_state(cp_condition{}) == cp_state::disconnected);
}

BOOST_AUTO_TEST_CASE(names_are_the_protocol_spelling) {
  BOOST_TEST(to_string(cp_state::active) == "ACTIVE");
  BOOST_TEST(to_string(cp_state::busy) == "BUSY");
  BOOST_TEST(to_string(cp_state::broken) == "BROKEN");
  BOOST_TEST(to_string(cp_state::out_of_order) == "OUT_OF_ORDER");
  BOOST_TEST(to_string(cp_state::disconnected) == "DISCONNECTED");
}

BOOST_AUTO_TEST_CASE(parse_accepts_exact_names_only) {
  const std::pair<const char*, cp_state> names[] = {{"ACTIVE", cp_state::active},
                                                     {"BUSY", cp_state::busy},
                                                     {"BROKEN", cp_state::broken},
                                                     {"OUT_OF_ORDER", cp_state::out_of_order},
                                                     {"DISCONNECTED", cp_state::disconnected}};
  for (const auto& [name, state] : names) {
    const auto parsed = evnet::parse_cp_state(name);
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST(*parsed == state);
  }
  BOOST_TEST(!evnet::parse_cp_state("active").has_value());
  BOOST_TEST(!evnet::parse_cp_state("").has_value());
  BOOST_TEST(!evnet::parse_cp_state("BUSY ").has_value());
  BOOST_TEST(!evnet::parse_cp_state("OUT OF ORDER").has_value());
}

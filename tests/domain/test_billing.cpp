#define BOOST_TEST_MODULE domain_billing
#include <boost/test/unit_test.hpp>

#include "evnet/domain/billing.hpp"

using evnet::domain::amount_for;
using evnet::domain::kwh_for;

// Expected amounts are decimal literals: the nearest double to the exact
// cent value, which is what a correct rounding must produce bit for bit.

BOOST_AUTO_TEST_CASE(one_kwh_per_second) {
  BOOST_TEST(kwh_for(0) == 0.0);
  BOOST_TEST(kwh_for(1) == 1.0);
  BOOST_TEST(kwh_for(7) == 7.0);
  BOOST_TEST(kwh_for(86400) == 86400.0);
}

BOOST_AUTO_TEST_CASE(negative_time_supplies_nothing) { BOOST_TEST(kwh_for(-3) == 0.0); }

BOOST_AUTO_TEST_CASE(products_that_binary_doubles_get_wrong) {
  // 7 * 0.35 is 2.4499999999999997 in double arithmetic.
  BOOST_TEST(amount_for(7, 0.35) == 2.45);
  BOOST_TEST(amount_for(3, 0.35) == 1.05);
  // 7 * 0.45 is 3.1500000000000004.
  BOOST_TEST(amount_for(7, 0.45) == 3.15);
  // 3 * 0.1 is 0.30000000000000004.
  BOOST_TEST(amount_for(3, 0.1) == 0.3);
  BOOST_TEST(amount_for(5, 0.59) == 2.95);
  BOOST_TEST(amount_for(8, 0.55) == 4.4);
}

BOOST_AUTO_TEST_CASE(half_cents_round_away_from_zero) {
  BOOST_TEST(amount_for(1, 0.005) == 0.01);
  BOOST_TEST(amount_for(1, 0.015) == 0.02);  // 0.015 is 0.01499999... in binary
  BOOST_TEST(amount_for(3, 0.415) == 1.25);  // 1.245
  BOOST_TEST(amount_for(1, 0.125) == 0.13);  // exactly representable half
  BOOST_TEST(amount_for(-1, 0.005) == -0.01);
  BOOST_TEST(amount_for(-1, 0.125) == -0.13);
}

BOOST_AUTO_TEST_CASE(below_half_a_cent_rounds_down) {
  BOOST_TEST(amount_for(1, 0.004) == 0.0);
  BOOST_TEST(amount_for(1, 0.0149) == 0.01);
  BOOST_TEST(amount_for(2.5, 0.333) == 0.83);  // 0.8325
  BOOST_TEST(amount_for(-1, 0.004) == 0.0);
}

BOOST_AUTO_TEST_CASE(zero_and_large_amounts) {
  BOOST_TEST(amount_for(0, 0.35) == 0.0);
  BOOST_TEST(amount_for(86400, 0.6) == 51840.0);
  BOOST_TEST(amount_for(86400, 100) == 8640000.0);
  BOOST_TEST(amount_for(86399, 0.37) == 31967.63);
}

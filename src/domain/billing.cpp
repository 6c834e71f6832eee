#include "evnet/domain/billing.hpp"

#include <cmath>

namespace evnet::domain {

double kwh_for(std::int64_t seconds_supplied) {
  if (seconds_supplied <= 0) {
    return 0.0;
  }
  return static_cast<double>(seconds_supplied) * kwh_per_second;
}

double amount_for(double kwh, double price_eur_per_kwh) {
  const double eur = kwh * price_eur_per_kwh;
  if (!std::isfinite(eur)) {
    return 0.0;
  }
  // Binary doubles cannot hold 0.35 or 2.45 exactly: 7 x 0.35 evaluates to
  // 2.4499999999999997. Snapping to micro-euros first removes that noise, so
  // the half-cent test below sees the decimal value everybody expects.
  const double micro = eur * 1e6;
  if (std::fabs(micro) >= 9e18) {
    return std::round(eur * 100.0) / 100.0;
  }
  const long long micros = std::llround(micro);
  // Integer division truncates toward zero, so adding half a cent with the
  // sign of the amount rounds half away from zero.
  const long long half_cent = micros < 0 ? -5'000 : 5'000;
  const long long cents = (micros + half_cent) / 10'000;
  return static_cast<double>(cents) / 100.0;
}

} // namespace evnet::domain

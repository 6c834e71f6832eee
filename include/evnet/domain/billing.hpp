#pragma once

// Billing: 1 kWh per second of supply, cost = kWh x price, in EUR rounded to
// the cent (half away from zero) so that every party computes the same figure.

#include <cstdint>

namespace evnet::domain {

inline constexpr double kwh_per_second = 1.0;

double kwh_for(std::int64_t seconds_supplied);
double amount_for(double kwh, double price_eur_per_kwh);

} // namespace evnet::domain

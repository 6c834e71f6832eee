#pragma once

// The fleet's books against Central's store: every charge a fleet CP
// supplied (records-<worker>.txt: cp, charge, driver, kWh, amount, acked,
// ticketed) must be in Central's charges table once, with the same
// figures, acknowledged to its CP and ticketed to its driver; a stored
// charge no fleet CP supplied, or with other figures, was billed wrongly.
//
// Thread-safety: file I/O only.

#include <cstdint>
#include <string>

namespace evnet::bench {

struct store_check {
  bool ok = false;               // both sides could be read
  std::string problem;
  std::uint64_t supplied = 0;    // records in the fleet's books
  std::uint64_t stored = 0;      // rows in Central's store for the fleet's charges
  std::uint64_t missing = 0;     // supplied, not stored
  // Lost: Central acknowledged the record (the Engine let go of it) and its
  // store does not have it. A record not acknowledged yet is still the
  // Engine's, resent until acknowledged: in flight, not lost.
  std::uint64_t lost = 0;
  // In flight when the run ended: not acknowledged yet, or stored and not
  // yet ticketed to its driver (the store owes the ticket). 0 after a
  // complete drain.
  std::uint64_t unsettled = 0;
  std::uint64_t unexpected = 0;  // stored, never supplied: doubled
  std::uint64_t different = 0;   // stored with other kWh or amount: doubled
};

// `books_dir` holds records-*.txt; every charge in the store counts (the
// store is the run's own).
store_check check_store(const std::string& db_path, const std::string& books_dir);

} // namespace evnet::bench

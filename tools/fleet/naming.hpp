#pragma once

// The names of a fleet's CPs and drivers: "<prefix><index>", the index
// zero-padded (at least 5 digits) so that ids sort in index order. The
// fleet, its --setup and ev_bench derive every id from (prefix, count), so
// they agree without exchanging lists.
//
// Thread-safety: plain values.

#include <cstdint>
#include <string>
#include <string_view>

namespace evnet::fleet {

struct naming {
  std::string cp_prefix = "FC";
  std::string driver_prefix = "FD";
  int width = 5;

  // The padding that holds every index below max(cps, drivers).
  static naming for_counts(int cps, int drivers, std::string cp_prefix = "FC", std::string driver_prefix = "FD");

  std::string cp(int index) const { return cp_prefix + padded(index); }
  std::string driver(int index) const { return driver_prefix + padded(index); }
  // The index of one of our ids, or -1.
  int cp_index(std::string_view id) const { return index_of(id, cp_prefix); }
  int driver_index(std::string_view id) const { return index_of(id, driver_prefix); }

private:
  std::string padded(int index) const;
  int index_of(std::string_view id, std::string_view prefix) const;
};

} // namespace evnet::fleet

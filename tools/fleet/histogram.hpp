#pragma once

// A latency histogram in microseconds: exact below 64 us, then 32 buckets
// per power of two (about 3% resolution), so percentiles of millions of
// samples cost a few KiB and histograms of several processes merge by
// adding counts. Serialised as JSON ({"n":..,"max":..,"b":[[index,count],..]},
// only non-empty buckets) between the fleet's workers, its parent and ev_bench.
//
// Thread-safety: a plain value.

#include "evnet/json.hpp"

#include <cstdint>
#include <vector>

namespace evnet::fleet {

class histogram {
public:
  void add(std::int64_t us);
  void merge(const histogram& other);
  // Removes the samples of an earlier copy of this histogram (a window's
  // figures = now minus its start); the maximum stays the overall one.
  void subtract(const histogram& earlier);
  void clear();

  std::uint64_t count() const { return total_; }
  std::int64_t max_us() const { return max_; }
  // The value below which a fraction p (0..1) of the samples lie (the
  // middle of that bucket, never above the maximum seen); 0 when empty.
  double percentile_us(double p) const;
  double percentile_ms(double p) const { return percentile_us(p) / 1000.0; }

  json::value to_json() const;
  static histogram from_json(const json::value& v);

private:
  static std::size_t index_of(std::uint64_t v);
  static double lower_of(std::size_t index);
  static double width_of(std::size_t index);

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::int64_t max_ = 0;
};

} // namespace evnet::fleet

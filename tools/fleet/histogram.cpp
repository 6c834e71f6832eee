#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace evnet::fleet {

namespace {
constexpr std::size_t linear = 64;   // exact buckets 0..63 us
constexpr std::size_t per_octave = 32;
} // namespace

std::size_t histogram::index_of(std::uint64_t v) {
  if (v < linear) {
    return static_cast<std::size_t>(v);
  }
  const int msb = 63 - std::countl_zero(v);  // >= 6
  const int shift = msb - 5;                 // v >> shift lies in [32, 64)
  return linear + static_cast<std::size_t>(msb - 6) * per_octave + static_cast<std::size_t>((v >> shift) - 32);
}

double histogram::lower_of(std::size_t index) {
  if (index < linear) {
    return static_cast<double>(index);
  }
  const std::size_t k = index - linear;
  const int shift = static_cast<int>(k / per_octave) + 1;
  return std::ldexp(static_cast<double>(32 + k % per_octave), shift);
}

double histogram::width_of(std::size_t index) {
  if (index < linear) {
    return 1.0;
  }
  return std::ldexp(1.0, static_cast<int>((index - linear) / per_octave) + 1);
}

void histogram::add(std::int64_t us) {
  const std::uint64_t v = us < 0 ? 0 : static_cast<std::uint64_t>(us);
  const std::size_t i = index_of(v);
  if (i >= counts_.size()) {
    counts_.resize(i + 1, 0);
  }
  ++counts_[i];
  ++total_;
  max_ = std::max(max_, static_cast<std::int64_t>(v));
}

void histogram::merge(const histogram& other) {
  if (other.counts_.size() > counts_.size()) {
    counts_.resize(other.counts_.size(), 0);
  }
  for (std::size_t i = 0; i < other.counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

void histogram::subtract(const histogram& earlier) {
  for (std::size_t i = 0; i < earlier.counts_.size() && i < counts_.size(); ++i) {
    const auto n = std::min(counts_[i], earlier.counts_[i]);
    counts_[i] -= n;
    total_ -= n;
  }
}

void histogram::clear() {
  counts_.clear();
  total_ = 0;
  max_ = 0;
}

double histogram::percentile_us(double p) const {
  if (total_ == 0) {
    return 0.0;
  }
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(total_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const double mid = i < linear ? lower_of(i) : lower_of(i) + width_of(i) / 2.0;
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

json::value histogram::to_json() const {
  json::array buckets;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) {
      buckets.push_back(json::array{i, counts_[i]});
    }
  }
  return json::object{{"n", total_}, {"max", max_}, {"b", std::move(buckets)}};
}

histogram histogram::from_json(const json::value& v) {
  histogram h;
  if (!v.is_object()) {
    return h;
  }
  if (const auto* b = json::find(v, "b"); b != nullptr && b->is_array()) {
    for (const auto& pair : *b) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() || !pair[1].is_number_unsigned()) {
        continue;
      }
      const auto i = pair[0].get<std::size_t>();
      if (i > 4096) {
        continue;  // beyond any 64-bit value: not ours
      }
      if (i >= h.counts_.size()) {
        h.counts_.resize(i + 1, 0);
      }
      h.counts_[i] += pair[1].get<std::uint64_t>();
      h.total_ += pair[1].get<std::uint64_t>();
    }
  }
  if (const auto* m = json::find(v, "max"); m != nullptr && m->is_number_integer()) {
    h.max_ = m->get<std::int64_t>();
  }
  return h;
}

} // namespace evnet::fleet

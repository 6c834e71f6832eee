#include "plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace evnet::fleet {

namespace {

constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

// splitmix64: a tiny, well-mixed generator whose output is the same on
// every platform (std::*_distribution is not).
std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace

std::vector<slice> split(int cps, int drivers, int workers) {
  workers = std::max(workers, 1);
  std::vector<slice> out;
  for (int w = 0; w < workers; ++w) {
    slice s;
    s.cp_begin = static_cast<int>(static_cast<std::int64_t>(cps) * w / workers);
    s.cp_end = static_cast<int>(static_cast<std::int64_t>(cps) * (w + 1) / workers);
    s.driver_begin = static_cast<int>(static_cast<std::int64_t>(drivers) * w / workers);
    s.driver_end = static_cast<int>(static_cast<std::int64_t>(drivers) * (w + 1) / workers);
    out.push_back(s);
  }
  return out;
}

std::uint64_t plan::rng::next() { return splitmix(state); }

double plan::rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

plan::plan(plan_settings s)
    : s_(std::move(s)),
      requests_{s_.seed * 2 + 1},
      faults_{s_.seed * 2 + 2},
      free_at_(static_cast<std::size_t>(std::max(s_.cps, 0)), 0) {
  if (s_.slices.empty()) {
    s_.slices = split(s_.cps, s_.drivers, 1);
  }
  s_.max_duration_s = std::max(s_.max_duration_s, s_.min_duration_s);
  s_.fault_max_us = std::max(s_.fault_max_us, s_.fault_min_us);
  auto gap = [](rng& r, double rate) {
    return static_cast<std::int64_t>(-std::log(1.0 - r.uniform()) / rate * 1e6);
  };
  next_request_at_ = s_.rate > 0 && s_.cps > 0 && s_.drivers > 0 ? gap(requests_, s_.rate) : never;
  next_fault_at_ = s_.fault_rate > 0 && s_.cps > 0 ? gap(faults_, s_.fault_rate) : never;
  next_ = make_next();
}

int plan::slice_of(int cp) const {
  for (std::size_t i = 0; i < s_.slices.size(); ++i) {
    if (cp >= s_.slices[i].cp_begin && cp < s_.slices[i].cp_end) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

plan_event plan::pop() {
  plan_event e = next_;
  next_ = make_next();
  return e;
}

plan_event plan::make_next() {
  auto gap = [](rng& r, double rate) {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(-std::log(1.0 - r.uniform()) / rate * 1e6));
  };
  plan_event e;
  if (next_request_at_ == never && next_fault_at_ == never) {
    e.at_us = never;
    e.cp = -1;
    return e;
  }
  const auto n = static_cast<std::uint64_t>(s_.cps);
  if (next_fault_at_ < next_request_at_) {
    e.what = plan_event::kind::fault;
    e.at_us = next_fault_at_;
    e.cp = static_cast<int>(faults_.below(n));
    e.length_us = s_.fault_min_us +
                  static_cast<std::int64_t>(faults_.below(static_cast<std::uint64_t>(s_.fault_max_us - s_.fault_min_us + 1)));
    auto& free = free_at_[static_cast<std::size_t>(e.cp)];
    free = std::max(free, e.at_us + e.length_us + s_.margin_us);
    next_fault_at_ += gap(faults_, s_.fault_rate);
    return e;
  }
  e.what = plan_event::kind::request;
  e.at_us = next_request_at_;
  e.number = numbered_++;
  e.duration_s = s_.min_duration_s +
                 static_cast<std::int64_t>(requests_.below(static_cast<std::uint64_t>(s_.max_duration_s - s_.min_duration_s + 1)));
  const auto start = requests_.below(n);
  const auto driver_pick = requests_.next();
  for (std::uint64_t k = 0; k < n; ++k) {
    const int cp = static_cast<int>((start + k) % n);
    if (free_at_[static_cast<std::size_t>(cp)] > e.at_us) {
      continue;
    }
    const int w = slice_of(cp);
    if (w < 0) {
      continue;
    }
    const auto& sl = s_.slices[static_cast<std::size_t>(w)];
    const int count = sl.driver_end - sl.driver_begin;
    if (count <= 0) {
      continue;  // nobody in that worker could ask for it
    }
    e.cp = cp;
    e.driver = sl.driver_begin + static_cast<int>(driver_pick % static_cast<std::uint64_t>(count));
    free_at_[static_cast<std::size_t>(cp)] = e.at_us + e.duration_s * 1'000'000 + s_.margin_us;
    break;
  }
  next_request_at_ += gap(requests_, s_.rate);
  return e;
}

} // namespace evnet::fleet

#pragma once

// The fleet's scenario as a pure, seeded stream of events: charge requests
// (when, at which CP, by which driver, for how long) and CP faults (when,
// which CP, how long). The same settings give the same events in the same
// order, whatever the machine or the timing of the run: that is what makes
// a fleet run repeatable for a seed (the answers, of course, depend on
// Central).
//
//  - Requests arrive as a Poisson process of `rate` per second. Each goes to
//    a CP the plan itself believes free (not planned busy or faulty: a
//    charge occupies its CP for its duration plus `margin`); a random start
//    then the next free one. With every CP planned busy the request is
//    still produced, with cp = -1 ("the network is full"), and skipped.
//  - Its driver is one of the drivers of the CP's slice (the worker process
//    that simulates the CP also simulates the driver, so that a latency is
//    measured on one clock).
//  - Faults arrive as a Poisson process of `fault_rate` per second at random
//    CPs (busy ones too: a fault interrupts a charge) and last
//    fault_min..fault_max.
// Every worker process runs the same plan and keeps the events of its slice.
//
// Thread-safety: none; a plain value.

#include <cstdint>
#include <vector>

namespace evnet::fleet {

// One worker's share: CPs [cp_begin, cp_end) and drivers [driver_begin, driver_end).
struct slice {
  int cp_begin = 0;
  int cp_end = 0;
  int driver_begin = 0;
  int driver_end = 0;
};

// CPs and drivers spread evenly over `workers` slices (every slice with CPs
// gets drivers when there are at least as many drivers as slices).
std::vector<slice> split(int cps, int drivers, int workers);

struct plan_settings {
  int cps = 0;
  int drivers = 0;
  std::vector<slice> slices;
  double rate = 0.0;               // requests per second, whole fleet
  std::int64_t min_duration_s = 3;
  std::int64_t max_duration_s = 6;
  double fault_rate = 0.0;         // faults per second, whole fleet
  std::int64_t fault_min_us = 2'000'000;
  std::int64_t fault_max_us = 10'000'000;
  std::int64_t margin_us = 2'000'000;
  std::uint64_t seed = 1;
};

struct plan_event {
  enum class kind : std::uint8_t { request, fault };
  kind what = kind::request;
  std::int64_t at_us = 0;     // since the plan started
  int cp = -1;                // -1: no CP was free (request skipped)
  int driver = -1;            // requests
  std::int64_t duration_s = 0;  // requests
  std::int64_t length_us = 0;   // faults
  std::uint64_t number = 0;     // requests: 0, 1, 2, ... in plan order
};

class plan {
public:
  explicit plan(plan_settings s);

  // The next event, without consuming it.
  const plan_event& peek() const { return next_; }
  plan_event pop();

private:
  struct rng {
    std::uint64_t state;
    std::uint64_t next();
    double uniform();  // [0, 1)
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  };
  plan_event make_next();
  int slice_of(int cp) const;

  plan_settings s_;
  rng requests_;
  rng faults_;
  std::int64_t next_request_at_;
  std::int64_t next_fault_at_;
  std::vector<std::int64_t> free_at_;
  std::uint64_t numbered_ = 0;
  plan_event next_;
};

} // namespace evnet::fleet

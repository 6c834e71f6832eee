#define BOOST_TEST_MODULE simulation
#include <boost/test/unit_test.hpp>

#include "simulation.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Thousands of seeded worlds (tests/sim/simulation.hpp), each checked
// against the invariants. A failing seed is printed; replay it alone with
//   EVNET_SIM_SEED=<seed> build/tests/sim/test_simulation
// EVNET_SIM_SEEDS=<n> changes how many seeds the sweep runs (default 10000).

namespace {

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// Adds what one run did to a running total.
void tally(evnet::sim::outcome& total, const evnet::sim::outcome& o) {
  total.events += o.events;
  total.frames += o.frames;
  total.requests += o.requests;
  total.charges_billed += o.charges_billed;
  total.denials += o.denials;
  total.cancelled += o.cancelled;
  total.restarts += o.restarts;
}

void report(const evnet::sim::outcome& o) {
  BOOST_TEST_MESSAGE("seed " << o.seed << ": " << o.events << " events, " << o.frames << " frames, " << o.requests
                             << " requests, " << o.charges_billed << " charges billed, " << o.denials
                             << " denials, " << o.cancelled << " late yeses cancelled, " << o.restarts
                             << " restarts");
}

} // namespace

BOOST_AUTO_TEST_CASE(seeded_interleavings_keep_every_invariant) {
  const char* one = std::getenv("EVNET_SIM_SEED");
  if (one != nullptr && *one != '\0') {
    const auto o = evnet::sim::run(std::strtoull(one, nullptr, 10));
    report(o);
    for (const auto& v : o.violations) {
      BOOST_ERROR("seed " << o.seed << ": " << v);
    }
    return;
  }
  const std::uint64_t seeds = env_number("EVNET_SIM_SEEDS", 10000);
  const auto started = std::chrono::steady_clock::now();
  // Seeds are independent worlds: two threads (the machine's two cores)
  // share the sweep; each world is deterministic whatever thread runs it.
  std::atomic<std::uint64_t> next{1};
  std::mutex m;
  std::vector<evnet::sim::outcome> failed;
  evnet::sim::outcome total;
  auto worker = [&] {
    evnet::sim::outcome mine;
    for (auto seed = next++; seed <= seeds; seed = next++) {
      auto o = evnet::sim::run(seed);
      tally(mine, o);
      if (!o.violations.empty()) {
        std::lock_guard lock{m};
        failed.push_back(std::move(o));
      }
    }
    std::lock_guard lock{m};
    tally(total, mine);
  };
  std::thread helper{worker};
  worker();
  helper.join();
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST_MESSAGE(seeds << " seeds in " << seconds << " s: " << total.events << " events, " << total.requests
                           << " requests, " << total.charges_billed << " charges billed, " << total.denials
                           << " denials, " << total.cancelled << " late yeses cancelled, " << total.restarts
                           << " restarts");
  // The sweep must exercise what it claims to, or it proves nothing.
  BOOST_TEST(total.charges_billed > seeds);
  BOOST_TEST(total.denials > 0);
  BOOST_TEST(total.restarts > seeds);
  std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.seed < b.seed; });
  for (std::size_t i = 0; i < failed.size() && i < 5; ++i) {
    for (const auto& v : failed[i].violations) {
      BOOST_ERROR("seed " << failed[i].seed << ": " << v);
    }
  }
  BOOST_TEST(failed.empty(), failed.size() << " of " << seeds << " seeds broke an invariant (replay one with EVNET_SIM_SEED)");
}

#pragma once

// Central's machine on simulated time, and everything it produced since the
// last drain(): the rig the machine's tests share (test_central_machine,
// test_central_trust). Two CPs, ALC1 and MAD1, and two drivers, D1 and D2,
// are registered; each test's fixture says who connects.
//
// Header-only, for tests; not thread-safe.

#include "evnet/domain/central_machine.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace evnet::testing {

inline const domain::seed central_registry{
    {{"ALC1", "C/ Italia 5, Alicante", 0.35}, {"MAD1", "Gran Via 31, Madrid", 0.45}},
    {{"D1", "Ana"}, {"D2", "Luis"}},
};

struct central_rig {
  domain::memory_book book{central_registry};
  std::unique_ptr<domain::central_machine> central;
  std::int64_t now = 1'000'000;
  std::vector<domain::outgoing> sent;
  std::vector<protocol::cp_update> updates;
  std::vector<domain::notice> notices;

  // A new machine over the same book (also a Central restart).
  void boot(std::uint64_t first_seq = 1000) {
    auto model = domain::load_network(book);
    BOOST_REQUIRE(model.ok());
    central = std::make_unique<domain::central_machine>(book, std::move(*model), first_seq);
    central->start(now);
    collect();
  }

  void collect() {
    for (auto& s : central->out().take_sends()) {
      sent.push_back(std::move(s));
    }
    for (auto& u : central->out().take_updates()) {
      updates.push_back(std::move(u));
    }
    for (auto& n : central->out().take_notices()) {
      notices.push_back(std::move(n));
    }
  }
  void drain() {
    collect();
    sent.clear();
    updates.clear();
    notices.clear();
  }

  // A message from `peer`, sent with the key whose user id is `user` ("":
  // CURVE off).
  template <class T>
  void tell_as(const std::string& peer, const std::string& user, T body, std::uint64_t corr = 0) {
    central->on_message(peer, user, protocol::make("test", std::move(body), corr), now);
    collect();
  }

  // Advances simulated time second by second, ticking like the actor.
  void pass(std::int64_t ms) {
    for (std::int64_t t = 0; t < ms; t += 1000) {
      now += std::min<std::int64_t>(1000, ms - t);
      central->on_tick(now);
      collect();
    }
  }

  // What was sent to `peer` of type T since the last drain.
  template <class T>
  std::vector<T> to(const std::string& peer) const {
    std::vector<T> out;
    for (const auto& s : sent) {
      if (s.to == peer && std::holds_alternative<T>(s.body)) {
        out.push_back(std::get<T>(s.body));
      }
    }
    return out;
  }
  std::vector<domain::notice> events(const std::string& name) const {
    std::vector<domain::notice> out;
    for (const auto& n : notices) {
      if (n.name == name) {
        out.push_back(n);
      }
    }
    return out;
  }
};

} // namespace evnet::testing

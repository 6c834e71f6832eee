#pragma once

// A deterministic simulation of a whole evnet network, in the manner of
// FoundationDB's and TigerBeetle's simulators, at our scale: Central's,
// each CP's (Engine and Monitor) and each driver's real domain machines,
// wired through a fake network on simulated time. One seed decides every
// delay, loss, duplicate, pause, outage, restart, fault, operator order and
// request, so any failing run replays exactly from its seed.
//
// The network behaves like ours: each link is a client (DEALER) connected
// to a server (ROUTER) and delivers in order; a pause of up to 2 s only
// delays frames; a longer outage makes the client report `disconnected`
// after 3 s and the server forget the peer after 3.5 s, loses what was in
// flight, and the client comes back under a new routing id; a client's
// frames offered while its link is down are dropped (the transport's
// contract). On top of that, single frames are lost or duplicated at
// random, which real TCP would not do: the rules must hold even so.
//
// Thread-safety: none; one world per thread.

#include <cstdint>
#include <string>
#include <vector>

namespace evnet::sim {

struct options {
  int cps = 3;
  int drivers = 3;
  std::int64_t active_ms = 30'000;  // faults and requests happen in this window
  // Then the network heals and must settle: long enough for the longest
  // honest wait (a driver gives up on a charge never plugged in after 70 s).
  std::int64_t settle_ms = 80'000;
  double loss = 0.02;               // each frame
  double duplicate = 0.01;          // each frame
  bool restarts = true;             // Central, Engines and Monitors die and return
};

struct outcome {
  std::uint64_t seed = 0;
  std::vector<std::string> violations;  // empty: every invariant held
  // What the run did, for the summary.
  std::uint64_t events = 0;
  std::uint64_t frames = 0;
  int requests = 0;
  int charges_billed = 0;
  int denials = 0;
  int restarts = 0;
  int cancelled = 0;  // late yeses the fence turned into a no
};

// Runs one seeded world to the end and checks the invariants after every
// step and at the end.
outcome run(std::uint64_t seed, const options& opts = {});

} // namespace evnet::sim

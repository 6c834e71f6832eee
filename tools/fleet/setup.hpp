#pragma once

// A fleet's world on disk, made in one go (ev_fleet --setup, ev_bench):
//   DIR/db.json                 the seed: N CPs, M drivers (naming.hpp ids)
//   DIR/central.db              Central's store, seeded, every fleet key
//                               registered (central_store::register_keys,
//                               one transaction)
//   DIR/keys/central.pub|.key   Central's CURVE pair (EV_Central --keys DIR/keys)
//   DIR/keys/fleet-keys.tsv     every CP's and driver's pair, one line each:
//                               "cp|driver <tab> id <tab> public <tab> secret",
//                               mode 0600 (11,000 key files would only
//                               measure the disk)
// With curve = false only db.json and the seeded store are written.
//
// Thread-safety: file I/O, no shared state.

#include "naming.hpp"

#include "evnet/result.hpp"
#include "evnet/security/keys.hpp"

#include <string>
#include <vector>

namespace evnet::fleet {

struct setup_settings {
  std::string dir;
  int cps = 0;
  int drivers = 0;
  naming names;
  bool curve = true;
};

status write_setup(const setup_settings& s);

inline constexpr const char* fleet_keys_file = "fleet-keys.tsv";

struct fleet_keys {
  std::string central_public;
  std::vector<security::key_pair> cps;      // by CP index
  std::vector<security::key_pair> drivers;  // by driver index
};

// The keys of CPs [0, cps) and drivers [0, drivers) from a key directory:
// DIR/fleet-keys.tsv when it exists, otherwise the usual key files
// (DIR/cp-<ID>.key, DIR/driver-<ID>.key, as tools/evnet keys writes them);
// Central's public key from DIR/central.pub. Errors name the missing key.
result<fleet_keys> load_fleet_keys(const std::string& dir, const naming& n, int cps, int drivers);

} // namespace evnet::fleet

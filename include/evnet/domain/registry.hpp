#pragma once

// The registry's records and the seed file (config/db.json) they come from.
//
// db.json:
//   { "cps":     [ { "id": "ALC1", "location": "C/ Italia 5, Alicante", "price": 0.35 }, ... ],
//     (a CP may carry "ocpp_password": "<16..40 characters>", see cp_record)
//     "drivers": [ { "id": "D1", "name": "Ana" }, ... ] }
// Ids are 1..64 printable ASCII characters without spaces; a price is a
// number > 0 and <= 100. Invalid entries are reported, not silently dropped.

#include "evnet/json.hpp"
#include "evnet/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace evnet::domain {

struct cp_record {
  std::string id;
  std::string location;
  double price = 0.0;  // EUR/kWh
  // db.json only, for an OCPP charge point: its Basic-auth password, which
  // `evnet_keys init` registers as a salted hash. The store never holds it.
  std::string ocpp_password = {};
  friend bool operator==(const cp_record&, const cp_record&) = default;
};

struct driver_record {
  std::string id;
  std::string name;
  friend bool operator==(const driver_record&, const driver_record&) = default;
};

struct seed {
  std::vector<cp_record> cps;
  std::vector<driver_record> drivers;
};

// True for 1..64 printable ASCII characters with no whitespace.
bool valid_id(std::string_view id);

// Validates a whole seed document; the first invalid entry is the error
// (errc::config), naming its index and field.
result<seed> parse_seed(const json::value& doc);
result<seed> load_seed_file(const std::string& path);

} // namespace evnet::domain

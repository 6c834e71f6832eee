#pragma once

// The Engine's local store (SQLite): the charge running now, refreshed every
// second, and finished charges that Central has not acknowledged yet. After a
// crash the Engine settles the running charge from here and resends the
// unacknowledged ones, so nothing supplied is lost.
//
// Thread-safety: none; one instance per Engine actor.

#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace evnet::store {

struct open_charge {
  protocol::charge_view view;
  std::string cp_id;
  double price = 0.0;
  std::int64_t started_ms = 0;
};

class engine_store {
public:
  static result<std::unique_ptr<engine_store>> open(const std::string& path);
  ~engine_store();

  // The running charge (one at most). save_open replaces it.
  status save_open(const open_charge& c);
  status clear_open();
  result<std::optional<open_charge>> load_open();

  // A finished charge, kept until acknowledged; also clears the open charge,
  // in the same transaction. Idempotent on (cp_id, charge_id).
  status save_finished(const protocol::charge_record& r);
  result<std::vector<protocol::charge_record>> unacknowledged();
  status acknowledge(const std::string& cp_id, const std::string& charge_id);

private:
  struct impl;
  explicit engine_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace evnet::store

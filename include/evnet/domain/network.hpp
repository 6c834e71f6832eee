#pragma once

// Central's model of the whole network: every CP's facts, the charge running
// on each, and the rules for admitting a charge. Pure C++: the Central
// machine (central_machine.hpp) feeds it decoded messages and turns its
// answers into messages.
//
// Every mutation that changes what a CP looks like marks it changed;
// take_changes() hands those ids to the caller, which publishes them.
//
// Thread-safety: none; owned by one actor.

#include "evnet/domain/cp_state.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace evnet::domain {

// The charge a CP is running, as Central knows it.
struct session {
  std::string charge_id;
  std::string driver_id;
  std::int64_t duration_s = 0;
  std::int64_t started_ms = 0;
  double kwh = 0.0;
  double amount = 0.0;
  std::uint64_t last_seq = 0;
};

struct cp_entry {
  cp_record record;
  cp_condition condition;
  std::optional<session> charge;
};

class network {
public:
  // Registry.
  void add_cp(cp_record r);       // replaces location/price of a known id
  void add_driver(driver_record r);
  bool knows_cp(const std::string& id) const;
  bool knows_driver(const std::string& id) const;
  const cp_entry* find(const std::string& id) const;
  std::vector<std::string> cp_ids() const;  // sorted

  // A Monitor asks to authenticate `cp_id`. Errors: errc::unknown_cp,
  // errc::already_connected (another Monitor holds the CP; the first keeps it).
  result<cp_record> authenticate(const std::string& cp_id);
  // The Monitor's link is gone. Returns the session that was running, if any.
  std::optional<session> monitor_lost(const std::string& cp_id);
  // The Monitor's periodic health report: the Engine's health, and whether
  // the CP says it is out of service of its own accord (OUT_OF_ORDER until
  // it says otherwise, whatever Central's operator orders).
  void engine_status(const std::string& cp_id, bool engine_ok, bool out_of_service = false);

  // Operator orders. Errors: errc::unknown_cp. Idempotent. The order holds
  // while the CP is away (its Monitor is told when it returns).
  status stop(const std::string& cp_id);
  status resume(const std::string& cp_id);

  status order(const std::string& cp_id, cp_order what);

  // May `driver_id` charge at `cp_id` now? Errors (errc): unknown_cp,
  // unknown_driver (when drivers are registered and this one is not;
  // local charges pass driver ids starting with '@'), disconnected,
  // broken, out_of_order, busy, bad_duration (beyond evnet::max_duration_s).
  status can_charge(const std::string& cp_id, const std::string& driver_id, std::int64_t duration_s) const;
  // The CP authorised the charge; the CP is BUSY from now on.
  void charge_started(const std::string& cp_id, session s);
  // Live figures from the Engine. Ignored unless it matches the running
  // charge and its seq is newer. A charge Central does not know (it
  // restarted meanwhile) is adopted while the CP's Monitor is connected and
  // only when `adoptable`: the caller asks the authorisation fence, which
  // never lets a refused charge be adopted.
  bool charge_progress(const protocol::telemetry& t, bool adoptable = true);
  // The Engine reported the charge finished; the CP is free again.
  void charge_finished(const protocol::charge_record& r);
  // The announced charge never ran (the CP dropped a late confirmation):
  // the CP is free again. Returns the session ended, if it was running.
  std::optional<session> charge_dropped(const std::string& cp_id, const std::string& charge_id);

  protocol::cp_info info(const std::string& cp_id) const;
  std::vector<protocol::cp_info> snapshot() const;

  std::set<std::string> take_changes();

private:
  void touch(const std::string& id) { changed_.insert(id); }

  std::map<std::string, cp_entry> cps_;
  std::set<std::string> drivers_;
  std::set<std::string> changed_;
};

} // namespace evnet::domain

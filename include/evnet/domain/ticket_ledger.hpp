#pragma once

// Tickets Central owes to connected drivers: each is resent every 3 s until
// the driver it was sent to acknowledges it (only that driver may settle
// it). Tickets of drivers that are not connected stay in the store and are
// loaded again when the driver says hello.
//
// Thread-safety: none; owned by one machine.

#include "evnet/protocol.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace evnet::domain {

class ticket_ledger {
public:
  static constexpr std::int64_t default_resend_ms = 3000;
  explicit ticket_ledger(std::int64_t resend_ms = default_resend_ms) : resend_ms_(resend_ms) {}

  // A ticket is owed and sent now. Returns false when it was already owed
  // (nothing changes: it is resent on its own schedule).
  bool owe(const protocol::charge_record& r, std::int64_t now);
  // Tickets due for resending (sent at least resend_ms ago), in (cp, charge)
  // order; each is sent again from `now`.
  std::vector<protocol::charge_record> due(std::int64_t now);
  // Does `driver_id` owe an acknowledgement for this ticket?
  bool owed_to(const std::string& driver_id, const std::string& cp_id, const std::string& charge_id) const;
  // The driver this ticket is owed to, or nullptr when none is owed.
  const std::string* owner(const std::string& cp_id, const std::string& charge_id) const;
  // The driver acknowledged it (and the store knows).
  void settle(const std::string& cp_id, const std::string& charge_id);
  // The driver left: its tickets wait in the store for its next hello.
  void forget_driver(const std::string& driver_id);
  std::size_t size() const { return owed_.size(); }

private:
  struct entry {
    protocol::charge_record record;
    std::int64_t next_send = 0;
  };
  std::int64_t resend_ms_;
  std::map<std::pair<std::string, std::string>, entry> owed_;  // (cp, charge id)
};

} // namespace evnet::domain

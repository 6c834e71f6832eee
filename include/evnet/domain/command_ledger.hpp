#pragma once

// Operator orders (STOP / RESUME) on their way to a CP's Monitor: one
// outstanding order per CP (a newer one replaces it), resent every second
// until acknowledged, reported once as "did not acknowledge; applied when it
// reconnects" after 5 s. Orders the operator gave are `announced` (their
// outcome is reported); re-applying the standing order to a CP that
// authenticated again, or whose Engine said hello again, is silent.
//
// Thread-safety: none; owned by one machine.

#include "evnet/vocabulary.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evnet::domain {

class command_ledger {
public:
  static constexpr std::int64_t default_resend_ms = 1000;
  static constexpr std::int64_t default_report_ms = 5000;
  explicit command_ledger(std::int64_t resend_ms = default_resend_ms, std::int64_t report_ms = default_report_ms)
      : resend_ms_(resend_ms), report_ms_(report_ms) {}

  struct order {
    std::string cp_id;
    cp_order what = cp_order::stop;
    std::uint64_t correlation = 0;  // the cp_command's; its ack carries it
    bool announced = false;
  };

  // An order to send now (with `correlation`). Replaces the CP's outstanding
  // one; an announced order stays announced when re-applied before its
  // outcome was reported.
  order issue(const std::string& cp_id, cp_order what, bool announced, std::uint64_t correlation, std::int64_t now);

  // An ack from the CP's Monitor. The order it settles, if any: reported to
  // the operator when announced and not yet reported as unacknowledged.
  struct settled {
    order o;
    bool report = false;
  };
  std::optional<settled> on_ack(const std::string& cp_id, std::uint64_t correlation);

  // Orders due for resending now, in CP order.
  std::vector<order> due(std::int64_t now);
  // Announced orders unacknowledged for report_ms: reported once each.
  std::vector<order> overdue(std::int64_t now);

  bool outstanding(const std::string& cp_id) const { return orders_.contains(cp_id); }

private:
  struct entry {
    order o;
    std::int64_t next_send = 0;
    std::int64_t report_at = 0;
    bool reported = false;
  };
  std::int64_t resend_ms_;
  std::int64_t report_ms_;
  std::map<std::string, entry> orders_;  // cp -> its outstanding order
};

} // namespace evnet::domain

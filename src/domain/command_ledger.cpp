#include "evnet/domain/command_ledger.hpp"

namespace evnet::domain {

command_ledger::order command_ledger::issue(const std::string& cp_id, cp_order what, bool announced,
                                            std::uint64_t correlation, std::int64_t now) {
  entry e;
  e.o = order{cp_id, what, correlation, announced};
  e.next_send = now + resend_ms_;
  e.report_at = now + report_ms_;
  if (const auto old = orders_.find(cp_id); old != orders_.end() && !announced && old->second.o.what == what &&
                                            old->second.o.announced && !old->second.reported) {
    // The operator's order re-applied (the CP came back): still reported.
    e.o.announced = true;
    e.report_at = old->second.report_at;
  }
  orders_[cp_id] = e;
  return e.o;
}

std::optional<command_ledger::settled> command_ledger::on_ack(const std::string& cp_id, std::uint64_t correlation) {
  const auto it = orders_.find(cp_id);
  if (it == orders_.end() || it->second.o.correlation != correlation) {
    return std::nullopt;
  }
  settled s{it->second.o, it->second.o.announced && !it->second.reported};
  orders_.erase(it);
  return s;
}

std::vector<command_ledger::order> command_ledger::due(std::int64_t now) {
  std::vector<order> out;
  for (auto& [cp, e] : orders_) {
    if (e.next_send <= now) {
      out.push_back(e.o);
      e.next_send = now + resend_ms_;
    }
  }
  return out;
}

std::vector<command_ledger::order> command_ledger::overdue(std::int64_t now) {
  std::vector<order> out;
  for (auto& [cp, e] : orders_) {
    if (e.o.announced && !e.reported && e.report_at <= now) {
      e.reported = true;
      out.push_back(e.o);
    }
  }
  return out;
}

} // namespace evnet::domain

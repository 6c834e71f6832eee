#include "evnet/domain/ticket_ledger.hpp"

namespace evnet::domain {

bool ticket_ledger::owe(const protocol::charge_record& r, std::int64_t now) {
  auto [it, inserted] = owed_.try_emplace({r.cp_id, r.charge_id});
  if (inserted) {
    it->second = entry{r, now + resend_ms_};
  }
  return inserted;
}

std::vector<protocol::charge_record> ticket_ledger::due(std::int64_t now) {
  std::vector<protocol::charge_record> out;
  for (auto& [k, e] : owed_) {
    if (e.next_send <= now) {
      out.push_back(e.record);
      e.next_send = now + resend_ms_;
    }
  }
  return out;
}

const std::string* ticket_ledger::owner(const std::string& cp_id, const std::string& charge_id) const {
  const auto it = owed_.find({cp_id, charge_id});
  return it == owed_.end() ? nullptr : &it->second.record.driver_id;
}

bool ticket_ledger::owed_to(const std::string& driver_id, const std::string& cp_id,
                            const std::string& charge_id) const {
  const auto it = owed_.find({cp_id, charge_id});
  return it != owed_.end() && it->second.record.driver_id == driver_id;
}

void ticket_ledger::settle(const std::string& cp_id, const std::string& charge_id) {
  owed_.erase({cp_id, charge_id});
}

void ticket_ledger::forget_driver(const std::string& driver_id) {
  std::erase_if(owed_, [&](const auto& kv) { return kv.second.record.driver_id == driver_id; });
}

} // namespace evnet::domain

#include "evnet/domain/request_ledger.hpp"

namespace evnet::domain {

request_ledger::arrival request_ledger::on_request(const protocol::charge_request& req, std::string peer,
                                                   std::uint64_t correlation) {
  key k{req.driver_id, req.request_id};
  if (const auto done = answers_.find(k); done != answers_.end()) {
    return arrival{seen::answered, done->second};
  }
  if (const auto waiting = in_flight_.find(k); waiting != in_flight_.end()) {
    // A retry while the CP is being asked: the answer goes to whoever asked
    // last (a driver that reconnected has a new routing id).
    waiting->second.peer = std::move(peer);
    waiting->second.correlation = correlation;
    return arrival{seen::in_flight, {}};
  }
  in_flight_.emplace(std::move(k), waiter{std::move(peer), correlation, req});
  return arrival{seen::fresh, {}};
}

std::optional<request_ledger::waiter> request_ledger::answer(const std::string& driver_id,
                                                             const std::string& request_id,
                                                             const protocol::charge_reply& reply) {
  key k{driver_id, request_id};
  std::optional<waiter> out;
  if (const auto it = in_flight_.find(k); it != in_flight_.end()) {
    out = std::move(it->second);
    in_flight_.erase(it);
  }
  if (answers_.contains(k)) {
    return out;  // the first answer stands
  }
  while (remembered_ > 0 && answers_.size() >= remembered_) {
    answers_.erase(order_.front());
    order_.pop_front();
  }
  if (remembered_ > 0) {
    answers_.emplace(k, reply);
    order_.push_back(std::move(k));
  }
  return out;
}

bool request_ledger::in_flight(const std::string& driver_id, const std::string& request_id) const {
  return in_flight_.contains(key{driver_id, request_id});
}

} // namespace evnet::domain

#pragma once

// Central's ledger of charge requests, keyed by (driver id, request id):
// the ones in flight (waiting for their CP) and the ones answered, with the
// answer a retry gets. A retry never starts a second charge: it is answered
// from here. Answers are remembered up to a bound, the oldest forgotten
// first.
//
// Thread-safety: none; owned by one machine.

#include "evnet/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace evnet::domain {

class request_ledger {
public:
  static constexpr std::size_t default_remembered = 20000;
  explicit request_ledger(std::size_t remembered = default_remembered) : remembered_(remembered) {}

  // Who gets the answer of a request in flight: the peer that asked last.
  struct waiter {
    std::string peer;
    std::uint64_t correlation = 0;
    protocol::charge_request request;
  };

  enum class seen : std::uint8_t { fresh, in_flight, answered };
  struct arrival {
    seen state = seen::fresh;
    protocol::charge_reply answer;  // when answered: what the first asker got
  };
  // A request arrives. Fresh: it is now in flight. In flight: the answer
  // will go to this (latest) asker. Answered: reply with `answer`.
  arrival on_request(const protocol::charge_request& req, std::string peer, std::uint64_t correlation);

  // The request is answered; returns who was waiting (nullopt when it was
  // not in flight). The answer is remembered for retries.
  std::optional<waiter> answer(const std::string& driver_id, const std::string& request_id,
                               const protocol::charge_reply& reply);

  bool in_flight(const std::string& driver_id, const std::string& request_id) const;
  std::size_t answered_count() const { return answers_.size(); }

private:
  using key = std::pair<std::string, std::string>;  // driver id, request id
  std::size_t remembered_;
  std::map<key, waiter> in_flight_;
  std::map<key, protocol::charge_reply> answers_;
  std::deque<key> order_;  // answers, oldest first
};

} // namespace evnet::domain

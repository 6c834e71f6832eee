#pragma once

// One simulated charging point, as Central sees it through its two links:
// the Monitor's (cp_auth, cp_status every second, the authorisation fence,
// cp_command) and the Engine's (engine_hello, telemetry every second while
// supplying, charge_finished resent until record_ack). Pure: inputs carry
// the time (microseconds of a monotonic clock); what it wants sent lands in
// out(), for its link. No socket, no clock, no randomness: the I/O loop
// (worker) owns those.
//
// The rules follow EV_CP_M and EV_CP_E (include/evnet/domain/monitor_machine.hpp,
// engine_machine.hpp, charger.hpp) where Central can observe them:
//  - Monitor: cp_auth when its link comes up, again every 3 s until
//    accepted and when Central says `unauthenticated`; cp_status every
//    second once accepted, at once when a fault starts or ends.
//  - The fence: authorize_request reserves the CP and is answered
//    authorize_reply with the charge id (a repeated request gets the same
//    one), repeated every second until Central's decision, for at most 15 s
//    (then the reservation expires); authorize_decision confirms (supply
//    starts) or cancels, answered decision_ack, to repeats too; a
//    confirmation for an expired reservation gets decision_ack{ok=false,
//    "reservation_expired"}. Busy, broken or stopped: authorize_reply{ok=false}.
//  - Engine: engine_hello when its link comes up and every 5 s; 1 kWh per
//    second of supply, telemetry each second; at the end (duration reached,
//    fault, STOP) a record, kept and resent every 2 s and on every new link
//    until record_ack.
//
// Thread-safety: none; owned by one worker.

#include "books.hpp"

#include "evnet/protocol.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evnet::fleet {

enum class cp_link : std::uint8_t { monitor, engine };

struct cp_send {
  cp_link link = cp_link::monitor;
  protocol::body body;
  std::uint64_t correlation = 0;  // 0: the link numbers it
};

// A charge a CP supplied (confirmed, then ended), with the request it answered.
struct supplied_charge {
  protocol::charge_record record;
  std::string request_id;
};

// What every sim of a worker shares.
struct sim_context {
  std::string nonce;                 // part of every charge id: unique per fleet run
  std::int64_t epoch_offset_us = 0;  // Unix time (us) = monotonic time + this
  std::string cp_prefix = "FC";      // for reason classes
  std::string driver_prefix = "FD";
};

class cp_sim {
public:
  static constexpr std::int64_t second = 1'000'000;
  static constexpr std::int64_t status_every = second;
  static constexpr std::int64_t auth_retry = 3 * second;
  static constexpr std::int64_t hello_every = 5 * second;
  static constexpr std::int64_t reply_repeat = second;
  static constexpr std::int64_t reservation_timeout = 15 * second;
  static constexpr std::int64_t record_resend = 2 * second;
  static constexpr std::size_t decisions_kept = 16;

  // Every charge this CP supplies is appended to `supplied` (the worker's books).
  cp_sim(std::string cp_id, const sim_context& ctx, counters& books, std::vector<supplied_charge>& supplied);

  void on_up(cp_link l, std::int64_t now);
  void on_down(cp_link l, std::int64_t now);
  void on_message(cp_link l, const protocol::message& m, std::int64_t now);
  void on_timer(std::int64_t now);
  // The Engine fails for `length_us`, then recovers.
  void fault(std::int64_t now, std::int64_t length_us);

  // When on_timer() next has something to do (a time in the past: now).
  std::int64_t next_deadline() const;
  std::vector<cp_send>& out() { return out_; }

  const std::string& id() const { return id_; }
  bool authenticated() const { return monitor_up_ && authenticated_; }
  bool engine_ready() const { return engine_up_ && hello_acked_; }
  std::int64_t authenticated_at() const { return authenticated_at_; }
  std::int64_t engine_ready_at() const { return engine_ready_at_; }
  // Nothing reserved, supplied or owed to Central.
  bool idle() const { return !reservation_ && !charge_ && unacked_.empty(); }
  bool faulty() const { return faulty_; }
  // Is this record still waiting for Central's record_ack?
  bool owes(const std::string& charge_id) const {
    for (const auto& o : unacked_) {
      if (o.record.charge_id == charge_id) {
        return true;
      }
    }
    return false;
  }
  // When the telemetry of (charge, kWh) was sent, if it was one of the last two.
  std::optional<std::int64_t> telemetry_sent_at(std::string_view charge_id, double kwh) const;

private:
  struct reservation {
    std::string request_id;
    std::string driver_id;
    std::string charge_id;
    std::int64_t duration_s = 0;
    std::int64_t reserved_at = 0;
    std::int64_t next_reply_at = 0;
  };
  struct charge {
    std::string request_id;
    std::string driver_id;
    std::string charge_id;
    std::int64_t duration_s = 0;
    std::int64_t started_at = 0;
    std::int64_t supplied_s = 0;
    std::uint64_t seq = 0;
  };
  struct owed {
    protocol::charge_record record;
    std::int64_t next_send_at = 0;
  };
  struct decided {
    std::string request_id;
    std::string charge_id;
    bool supplied = false;  // confirmed and started (false: cancelled or expired)
  };
  struct sent_telemetry {
    double kwh = -1.0;
    std::int64_t at = 0;
  };

  void to_monitor(protocol::body b, std::uint64_t corr = 0) { out_.push_back(cp_send{cp_link::monitor, std::move(b), corr}); }
  void to_engine(protocol::body b, std::uint64_t corr = 0) { out_.push_back(cp_send{cp_link::engine, std::move(b), corr}); }
  void on_monitor(const protocol::message& m, std::int64_t now);
  void on_engine(const protocol::message& m, std::int64_t now);
  void on_authorize(const protocol::authorize_request& a, std::uint64_t corr, std::int64_t now);
  void on_decision(const protocol::authorize_decision& d, std::uint64_t corr, std::int64_t now);
  void reply(const reservation& r, std::uint64_t corr = 0);
  void send_status();
  void finish(end_reason why, std::int64_t now);
  void drop_reservation();
  void remember(decided d);
  const decided* decided_request(const std::string& request_id) const;
  const decided* decided_charge(const std::string& charge_id) const;

  std::string id_;
  const sim_context& ctx_;
  counters& books_;
  std::vector<supplied_charge>& records_;
  std::vector<cp_send> out_;

  bool monitor_up_ = false;
  bool authenticated_ = false;
  std::int64_t auth_sent_at_ = 0;
  std::int64_t authenticated_at_ = 0;
  std::int64_t next_status_at_ = 0;
  double price_ = 0.0;

  bool engine_up_ = false;
  bool hello_acked_ = false;
  std::int64_t hello_sent_at_ = 0;
  std::int64_t engine_ready_at_ = 0;

  bool faulty_ = false;
  std::int64_t fault_until_ = 0;
  bool stopped_ = false;

  std::uint64_t charges_made_ = 0;
  std::optional<reservation> reservation_;
  std::optional<charge> charge_;
  std::deque<owed> unacked_;
  std::deque<decided> decided_;
  std::string telemetry_charge_;  // the charge the entries below belong to
  sent_telemetry telemetry_[2];
};

} // namespace evnet::fleet

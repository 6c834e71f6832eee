#pragma once

// One simulated driver: a DEALER link to Central and a SUB link to its CP
// stream. Pure, like cp_sim: inputs carry the time (microseconds), sends go
// to out() (all for the DEALER), and a wish to (re)connect the SUB socket is
// taken with take_subscribe().
//
// The rules follow EV_Driver (include/evnet/domain/driver_runner.hpp,
// cp_table.hpp) where Central can observe them, except that a fleet driver
// may have many charges at once (it stands for a fleet of cars):
//  - driver_hello when the link comes up, every 5 s, and when Central says
//    `unauthenticated` (then the snapshot request and unanswered requests go
//    again too);
//  - the Clone pattern: a snapshot on the DEALER; when it names a stream port
//    we are not subscribed to, subscribe there and ask again; updates that
//    arrive while a snapshot is awaited are buffered, the ones the snapshot
//    covers dropped, the rest applied in order; a gap in the sequence, or a
//    stream_heartbeat ahead of what we applied, asks for a snapshot; no
//    stream message for 3 s makes the SUB socket anew (resubscribe); a
//    snapshot not answered in 5 s is asked again;
//  - charge requests (made by the plan) are sent at once, or when the link
//    comes up; unanswered ones are resent with the same request id every 4 s
//    and given up after 30 s; every ticket is acknowledged, resends too.
//
// Thread-safety: none; owned by one worker.

#include "books.hpp"
#include "cp_sim.hpp"
#include "naming.hpp"

#include "evnet/protocol.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace evnet::fleet {

class driver_sim {
public:
  static constexpr std::int64_t second = 1'000'000;
  static constexpr std::int64_t hello_every = 5 * second;
  static constexpr std::int64_t request_resend = 4 * second;
  static constexpr std::int64_t request_give_up = 30 * second;
  static constexpr std::int64_t snapshot_retry = 5 * second;
  static constexpr std::int64_t stream_silence = 3 * second;
  static constexpr std::size_t max_buffered = 4096;

  // `default_stream_port`: where the stream is when a snapshot does not say
  // (an older Central: its request port + 1).
  driver_sim(std::string driver_id, const naming& names, int cps, const sim_context& ctx, counters& books,
             std::uint32_t default_stream_port);

  void on_up(std::int64_t now);
  void on_down(std::int64_t now);
  void on_message(const protocol::message& m, std::int64_t now);  // DEALER
  void on_stream(const protocol::message& m, std::int64_t now);   // SUB
  void on_timer(std::int64_t now);
  // The plan asks this driver to charge.
  void request(std::string cp_id, std::int64_t duration_s, std::string request_id, std::int64_t now);

  std::int64_t next_deadline() const;
  std::vector<protocol::body>& out() { return out_; }
  // A port to (re)connect the SUB socket to, once.
  std::optional<std::uint32_t> take_subscribe() { return std::exchange(subscribe_, std::nullopt); }

  const std::string& id() const { return id_; }
  bool up() const { return up_; }
  bool introduced() const { return up_ && hello_acked_; }
  std::int64_t introduced_at() const { return introduced_at_; }
  // Introduced, with a table and a stream.
  bool ready() const { return introduced() && have_snapshot_ && stream_port_ != 0; }
  bool waiting() const { return !pending_.empty(); }  // requests without an answer
  // What Central's stream says of our CP `index` (disconnected when unknown).
  cp_state view(int index) const;

  using charge_key = std::pair<std::string, std::string>;  // (cp id, charge id)
  const std::map<charge_key, protocol::charge_record>& tickets() const { return tickets_; }
  const std::map<std::string, std::string>& yeses() const { return yeses_; }  // request id -> charge id
  std::uint64_t doubled_yeses() const { return doubled_yeses_; }
  // Was this request's first answer a no?
  bool refused(const std::string& request_id) const { return refused_.count(request_id) != 0; }

private:
  struct pending_request {
    std::string cp_id;
    std::int64_t duration_s = 0;
    std::int64_t made_at = 0;
    std::int64_t first_sent_at = 0;  // 0: not sent yet
    std::int64_t last_sent_at = 0;
  };
  struct update {
    int cp = -1;
    cp_state state = cp_state::disconnected;
  };

  void hello(std::int64_t now);
  void send_request(const std::string& request_id, pending_request& p, std::int64_t now);
  void on_reply(const protocol::charge_reply& r, std::int64_t now);
  void want_snapshot(std::int64_t now);
  void ask_snapshot(std::int64_t now);
  void on_snapshot(const protocol::snapshot& s, std::int64_t now);
  void apply(const update& u);
  void replay(std::int64_t now);

  std::string id_;
  const naming& names_;
  const sim_context& ctx_;
  counters& books_;
  std::vector<protocol::body> out_;

  bool up_ = false;
  bool hello_acked_ = false;
  std::int64_t hello_sent_at_ = 0;
  std::int64_t introduced_at_ = 0;

  std::uint32_t default_stream_port_ = 0;

  // The Clone pattern.
  std::vector<std::uint8_t> view_;  // cp_state per CP index
  std::uint32_t stream_port_ = 0;   // subscribed to
  std::optional<std::uint32_t> subscribe_;
  std::int64_t last_stream_at_ = 0;
  bool have_snapshot_ = false;
  bool wanted_ = true;
  std::optional<std::int64_t> asked_at_;
  std::uint64_t seq_ = 0;
  std::map<std::uint64_t, update> buffer_;

  std::map<std::string, pending_request> pending_;  // request id -> request
  std::map<std::string, std::string> yeses_;
  std::uint64_t doubled_yeses_ = 0;
  std::set<std::string> refused_;  // request ids answered no
  std::map<charge_key, protocol::charge_record> tickets_;
};

} // namespace evnet::fleet

#pragma once

// Every decision EV_Driver makes, as a sans-I/O machine (PATTERNS.md): its
// link to Central, its one charge at a time, the batch-file runner and the
// live CP table. It reads no clock (every input carries `now`, ms), opens no
// socket and prints nothing: what it wants done lands in its outbox, which
// the owner drains (the driver actor into the transport and the view; a test
// or the simulation into its own hands).
//
// Outbox: sends always go to the link named `central_link` (the driver's
// DEALER; the stream is receive-only), correlation 0 (the owner numbers
// them); notices are the EV_Driver events of docs/HEADLESS.md, with today's
// names and fields.
//
// Rules kept here:
//  - driver_hello on `connected`, every 5 s while the link is up, and when
//    Central says `unauthenticated` (then the request in flight and the
//    snapshot request are sent again too).
//  - One charge at a time. Its request id is "<driver>-<now>-<n>". The same
//    request is resent every 4 s while connected, at most 3 attempts; a
//    request made while the link is not up waits and is sent on `connected`
//    (the transport drops frames offered on a link that is down). Denied at
//    once when Central is known to be down; denied after the last attempt.
//  - charge_reply ok -> authorized; the first progress -> plugged; an
//    authorised charge that never supplies is given up after 70 s.
//  - Every ticket is acknowledged (resends too) and shown once; a ticket or
//    an interruption of the current charge ends it.
//  - The file runner: services in order, a 4 s pause after each (on this
//    machine's own deadline), a file given while a charge runs starts when
//    that charge ends, then `file_done`.
//  - The CP table by the Clone pattern (cp_table).
//
// Thread-safety: none; owned by one actor (or one test).

#include "evnet/domain/cp_table.hpp"
#include "evnet/domain/driver_command.hpp"
#include "evnet/domain/outbox.hpp"
#include "evnet/domain/request_file.hpp"
#include "evnet/protocol.hpp"
#include "evnet/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace evnet::domain {

struct driver_runner_settings {
  std::string driver_id;
  std::string central_address;          // "host:port", for messages only
  std::int64_t default_duration_s = 0;  // 0: until unplugged at the CP
};

class driver_runner {
public:
  static constexpr const char* central_link = driver_central_link;
  static constexpr std::int64_t hello_every_ms = 5000;
  static constexpr std::int64_t request_timeout_ms = 4000;
  static constexpr int max_attempts = 3;
  static constexpr std::int64_t plug_wait_ms = 70'000;
  static constexpr std::int64_t pause_between_services_ms = 4000;

  explicit driver_runner(driver_runner_settings settings);

  // ---- inputs --------------------------------------------------------------
  // The program started: the `started` event.
  void start(std::int64_t now);
  // A message from Central on the DEALER link.
  void on_central(const protocol::message& msg, std::int64_t now);
  // A message on the CP stream (SUB link).
  void on_stream(const protocol::message& msg, std::int64_t now);
  // The DEALER link to Central came up / went down (every failed attempt).
  void on_connected(std::int64_t now);
  void on_disconnected(std::int64_t now);
  // Central does not know us (error_reply unauthenticated): say hello again.
  void reintroduce(std::int64_t now);
  // A console command. `file` and `quit` are the owner's to carry out (load
  // the file and call start_file(); stop the program): they do nothing here.
  void on_console(const driver_command& cmd, std::int64_t now);
  // A console line that is not a command (parse_driver_command's error).
  void on_bad_command(const error& e, std::int64_t now);
  // A request file was loaded (or could not be) from `path`.
  void start_file(const std::string& path, result<request_plan> loaded, std::int64_t now);
  // Periodic: deadlines (resends, give-ups, pauses, hello) are checked here.
  void on_tick(std::int64_t now);

  // ---- outputs and state, for the owner and tests ----------------------------
  outbox& out() { return out_; }
  // The earliest time on_tick() has something to do, if any.
  std::optional<std::int64_t> next_deadline() const;
  bool charging() const { return charge_.has_value(); }
  bool running_file() const { return file_.has_value(); }
  bool link_up() const { return up_; }
  const cp_table& table() const { return table_; }

private:
  enum class phase { requesting, authorized, charging };

  struct current_charge {
    std::string cp_id;
    std::string request_id;
    std::string charge_id;  // once authorised
    std::int64_t duration_s = 0;
    phase step = phase::requesting;
    int attempts = 0;       // 1 + the resends made at its deadline (re-sends on `connected` do not count)
    std::int64_t deadline_ms = 0;
    bool for_file = false;  // a service of the running file
  };

  struct file_run {
    std::string path;
    std::vector<service> services;
    std::size_t index = 0;
    int done = 0;
    int failed = 0;
    bool running = false;   // its current service's charge is in progress
    bool waiting = false;   // in the pause after a service
    std::int64_t resume_ms = 0;
  };

  void hello(std::int64_t now);
  void error_event(errc code, std::string message);
  std::string unreachable_text() const;
  bool known_down() const { return known_ && !up_; }
  bool is_current(const std::string& charge_id) const;

  void request_charge(const std::string& cp_id, std::int64_t duration_s, bool for_file, std::int64_t now);
  void send_request(std::int64_t now);
  void end_charge(bool ok, std::int64_t now);

  void on_charge_reply(const protocol::charge_reply& r, std::int64_t now);
  void on_progress(const protocol::progress& p);
  void on_interrupted(const protocol::charge_interrupted& i, std::int64_t now);
  void on_ticket(const protocol::charge_record& r, std::int64_t now);
  void on_ack(const protocol::ack& a);

  void start_service(std::int64_t now);
  void flush_table();

  driver_runner_settings settings_;
  outbox out_;

  bool up_ = false;     // the link to Central is up
  bool known_ = false;  // a link event has been seen
  std::int64_t last_hello_ms_ = 0;
  bool refusal_reported_ = false;  // Central refused our hello; told once
  std::uint64_t requests_ = 0;

  cp_table table_;
  std::optional<current_charge> charge_;
  std::optional<file_run> file_;
  std::set<std::pair<std::string, std::string>> tickets_seen_;  // (cp, charge id)
};

} // namespace evnet::domain

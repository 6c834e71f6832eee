#pragma once

// The worker's insides, shared by worker.cpp (the epoll loop, sockets and
// wiring of the sims) and worker_reports.cpp (what it reports: progress,
// ready, window, blast, storm, drain, books). Private to tools/fleet.

#include "books.hpp"
#include "cp_sim.hpp"
#include "driver_sim.hpp"
#include "links.hpp"
#include "worker.hpp"

#include "evnet/json.hpp"

#include <zmq.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace evnet::fleet {

inline constexpr std::int64_t never_us = INT64_MAX;

std::int64_t monotonic_us();
double process_cpu_s();

class worker {
public:
  explicit worker(const worker_settings& s);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  int run();

private:
  // ---- worker.cpp: the loop -------------------------------------------------
  struct timer {
    std::int64_t due;
    std::uint32_t entity;
    bool operator>(const timer& o) const { return due > o.due; }
  };

  std::uint32_t cp_entity(int c) const { return static_cast<std::uint32_t>(links_.size()) + static_cast<std::uint32_t>(c); }
  std::uint32_t driver_entity(int d) const {
    return static_cast<std::uint32_t>(links_.size() + cps_.size()) + static_cast<std::uint32_t>(d);
  }
  std::size_t monitor_link(int c) const { return 2 * static_cast<std::size_t>(c); }
  std::size_t engine_link(int c) const { return 2 * static_cast<std::size_t>(c) + 1; }
  std::size_t dealer_link(int d) const { return 2 * cps_.size() + 2 * static_cast<std::size_t>(d); }
  std::size_t stream_link(int d) const { return dealer_link(d) + 1; }

  void reschedule(std::uint32_t entity);
  std::int64_t deadline_of(std::uint32_t entity) const;
  void fire(std::uint32_t entity, std::int64_t now);
  void run_timers(std::int64_t now);
  void run_plan(std::int64_t now);

  void open_link(std::size_t i, std::int64_t now);
  void close_link(std::size_t i);
  void drain_monitor(std::size_t i, std::int64_t now);
  void drop_monitor(std::size_t i);
  void subscribe(int driver, std::uint32_t port);
  void on_liveness(std::size_t i, std::int64_t now);
  void link_up(std::size_t i, std::int64_t now);
  void link_down(std::size_t i, std::int64_t now);
  void left_connecting(std::int64_t now);

  void queue(std::size_t i);
  void drain(std::size_t i);
  void on_frame(std::size_t i, const zmq::message_t& frame, std::int64_t now);
  bool send_body(std::size_t i, protocol::body body, std::uint64_t corr);
  bool send_raw(std::size_t i, const std::string& frame);
  void flush_cp(int c);
  void flush_driver(int d);

  void read_control(std::int64_t now);
  void command(const std::string& line, std::int64_t now);

  // ---- worker_reports.cpp: what it says -------------------------------------
  void report(json::object o);
  void report_limit(const std::string& what, const std::string& detail);
  void periodic(std::int64_t now);
  void check_ready(std::int64_t now);
  void check_storm(std::int64_t now);
  void check_drain(std::int64_t now);
  void report_progress(std::int64_t now);
  void report_window(std::int64_t now);
  void start_blast(int per_link, std::int64_t now);
  void pump_blast(std::int64_t now);
  void on_marker(std::size_t i, std::int64_t now);
  void check_blast(std::int64_t now);
  void report_books();

  const worker_settings& s_;
  std::mt19937_64 rng_;
  link_timing timing_;
  std::string endpoint_;
  std::string heartbeat_frame_;
  zmq::context_t ctx_;
  int epoll_fd_ = -1;

  std::vector<link> links_;
  counters books_;
  std::vector<supplied_charge> records_;
  std::vector<cp_sim> cps_;
  std::vector<driver_sim> drivers_;
  std::vector<std::string> monitor_names_;  // envelope senders
  std::vector<std::string> engine_names_;
  std::vector<std::string> driver_names_;

  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
  std::vector<std::int64_t> scheduled_;
  std::vector<std::uint32_t> ready_;
  std::vector<std::uint32_t> batch_;
  std::vector<std::uint8_t> queued_;

  plan plan_;
  bool started_ = false;
  std::int64_t go_at_ = 0;
  bool quit_ = false;
  std::string control_buffer_;
  std::int64_t started_at_ = 0;
  std::int64_t next_progress_ = 0;
  std::int64_t next_check_ = 0;
  std::int64_t max_lag_us_ = 0;     // how late timers fired, since the last progress
  bool limit_reported_ = false;
  int connecting_ = 0;                    // links in the `connecting` phase
  double window_ = 16.0;                  // attempts allowed in flight now (adaptive)
  std::int64_t window_cut_at_ = 0;        // when it was last halved
  int slots() const { return std::max(1, std::min(s_.max_connecting, static_cast<int>(window_))); }
  std::deque<std::uint32_t> open_queue_;  // links due to open, waiting for a slot

  // reports
  bool ready_reported_ = false;
  counters window_start_;
  double window_cpu_ = 0.0;
  std::int64_t window_at_ = 0;
  bool storm_ = false;
  std::int64_t storm_t0_us_ = 0;
  bool draining_ = false;
  std::int64_t drain_deadline_ = 0;
  bool drain_reported_ = false;
  // blast
  bool blast_ = false;
  std::vector<std::uint32_t> blast_links_;
  std::vector<std::string> blast_frames_;  // by position in blast_links_
  std::size_t blast_cursor_ = 0;
  std::uint64_t blast_sent_ = 0;
  std::uint64_t blast_markers_ = 0;
  std::uint64_t blast_missing_ = 0;
  std::int64_t blast_start_ = 0;
  std::int64_t blast_deadline_ = 0;
  std::uint64_t marker_corr_ = 0;
};

} // namespace evnet::fleet

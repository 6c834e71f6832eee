// What a worker reports (see worker.hpp): JSON lines on its report pipe.

#include "worker_impl.hpp"

#include "evnet/protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <set>

#include <unistd.h>

namespace evnet::fleet {

namespace {
constexpr std::int64_t check_every_us = 50'000;  // ready, storm and drain checks
} // namespace

void worker::report(json::object o) {
  o.emplace("worker", s_.index);
  const std::string line = json::dump(json::value(std::move(o))) + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const auto n = ::write(s_.report_fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      quit_ = true;  // nobody listens any more
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

void worker::report_limit(const std::string& what, const std::string& detail) {
  if (limit_reported_) {
    return;
  }
  limit_reported_ = true;
  std::size_t open = 0;
  for (const auto& l : links_) {
    open += l.socket ? 1 : 0;
  }
  report(json::object{{"event", "limit"}, {"what", what}, {"detail", detail}, {"sockets_open", open}});
}

void worker::periodic(std::int64_t now) {
  if (now >= next_check_) {
    next_check_ = now + check_every_us;
    check_ready(now);
    check_storm(now);
    check_drain(now);
    if (blast_) {
      check_blast(now);
    }
  }
  if (now >= next_progress_) {
    next_progress_ += 1'000'000;
    if (next_progress_ < now) {
      next_progress_ = now + 1'000'000;
    }
    report_progress(now);
  }
}

void worker::check_ready(std::int64_t /*now*/) {
  if (ready_reported_) {
    return;
  }
  std::int64_t last = started_at_;
  for (const auto& cp : cps_) {
    if (!cp.authenticated() || !cp.engine_ready()) {
      return;
    }
    last = std::max({last, cp.authenticated_at(), cp.engine_ready_at()});
  }
  for (const auto& d : drivers_) {
    if (!d.ready()) {
      return;
    }
    last = std::max(last, d.introduced_at());
  }
  ready_reported_ = true;
  report(json::object{{"event", "ready"}, {"at_ns", last * 1000}, {"started_ns", started_at_ * 1000}});
}

void worker::check_storm(std::int64_t /*now*/) {
  if (!storm_) {
    return;
  }
  std::int64_t cps_last = storm_t0_us_;
  for (const auto& cp : cps_) {
    if (!cp.authenticated() || !cp.engine_ready() || cp.authenticated_at() <= storm_t0_us_ ||
        cp.engine_ready_at() <= storm_t0_us_) {
      return;
    }
    cps_last = std::max({cps_last, cp.authenticated_at(), cp.engine_ready_at()});
  }
  std::int64_t drivers_last = storm_t0_us_;
  for (const auto& d : drivers_) {
    if (!d.introduced() || d.introduced_at() <= storm_t0_us_) {
      return;
    }
    drivers_last = std::max(drivers_last, d.introduced_at());
  }
  storm_ = false;
  report(json::object{{"event", "storm"},
                      {"cps", cps_.size()},
                      {"drivers", drivers_.size()},
                      {"cps_back_ns", cps_last * 1000},
                      {"drivers_back_ns", drivers_last * 1000}});
}

void worker::check_drain(std::int64_t now) {
  if (!draining_ || drain_reported_) {
    return;
  }
  std::uint64_t waiting = 0;
  std::uint64_t busy = 0;
  std::uint64_t tickets_due = 0;
  for (const auto& d : drivers_) {
    waiting += d.waiting() ? 1 : 0;
  }
  for (const auto& cp : cps_) {
    busy += cp.idle() ? 0 : 1;
  }
  for (const auto& [r, request] : records_) {
    const int d = s_.names.driver_index(r.driver_id) - s_.share.driver_begin;
    if (d >= 0 && static_cast<std::size_t>(d) < drivers_.size() &&
        drivers_[static_cast<std::size_t>(d)].tickets().count({r.cp_id, r.charge_id}) == 0) {
      ++tickets_due;
    }
  }
  const bool complete = waiting == 0 && busy == 0 && tickets_due == 0;
  if (!complete && now < drain_deadline_) {
    return;
  }
  drain_reported_ = true;
  report(json::object{{"event", "drained"},
                      {"complete", complete},
                      {"requests_waiting", waiting},
                      {"cps_busy", busy},
                      {"tickets_due", tickets_due}});
}

void worker::report_progress(std::int64_t now) {
  std::uint64_t authenticated = 0;
  std::uint64_t engines = 0;
  std::uint64_t drivers_ready = 0;
  std::uint64_t busy = 0;
  std::uint64_t faulty = 0;
  std::uint64_t storm_back = 0;
  for (const auto& cp : cps_) {
    authenticated += cp.authenticated() ? 1 : 0;
    engines += cp.engine_ready() ? 1 : 0;
    busy += cp.idle() ? 0 : 1;
    faulty += cp.faulty() ? 1 : 0;
    storm_back += storm_ && cp.authenticated() && cp.engine_ready() && cp.authenticated_at() > storm_t0_us_ &&
                          cp.engine_ready_at() > storm_t0_us_
                      ? 1
                      : 0;
  }
  for (const auto& d : drivers_) {
    drivers_ready += d.ready() ? 1 : 0;
  }
  json::object o{{"event", "progress"},
                 {"t_s", static_cast<double>(now - started_at_) / 1e6},
                 {"cps", cps_.size()},
                 {"authenticated", authenticated},
                 {"engines", engines},
                 {"drivers", drivers_.size()},
                 {"drivers_ready", drivers_ready},
                 {"busy", busy},
                 {"faulty", faulty},
                 {"requests", books_.requests},
                 {"authorized", books_.authorized},
                 {"refused", books_.refused},
                 {"tickets", books_.tickets},
                 {"records", books_.records},
                 {"closes", books_.closes},
                 {"connect_timeouts", books_.connect_timeouts},
                 {"silences", books_.silences},
                 {"disconnects", books_.disconnects},
                 {"connecting", static_cast<std::uint64_t>(connecting_)},
                 {"waiting_slot", static_cast<std::uint64_t>(open_queue_.size())},
                 {"window", static_cast<std::uint64_t>(slots())},
                 {"lag_ms", static_cast<double>(max_lag_us_) / 1000.0},
                 {"cpu_s", process_cpu_s()}};
  if (storm_) {
    o.emplace("storm_back", storm_back);
  }
  max_lag_us_ = 0;
  report(std::move(o));
}

void worker::report_window(std::int64_t now) {
  const double cpu = process_cpu_s();
  auto delta = books_.minus(window_start_);
  report(json::object{{"event", "window"},
                      {"seconds", static_cast<double>(now - window_at_) / 1e6},
                      {"cpu_s", cpu - window_cpu_},
                      {"counters", delta.to_json()}});
  window_start_ = books_;
  window_cpu_ = cpu;
  window_at_ = now;
}

// ---- ingest blast ---------------------------------------------------------------------------

void worker::start_blast(int per_link, std::int64_t now) {
  blast_ = true;
  blast_links_.clear();
  blast_frames_.clear();
  blast_cursor_ = 0;
  blast_sent_ = 0;
  blast_markers_ = 0;
  blast_missing_ = 0;
  blast_start_ = now;
  blast_deadline_ = now + 120'000'000;
  for (std::size_t c = 0; c < cps_.size(); ++c) {
    auto& l = links_[monitor_link(static_cast<int>(c))];
    if (!cps_[c].authenticated() || !l.socket) {
      continue;
    }
    l.blast_left = per_link;
    l.marker_pending = true;
    blast_links_.push_back(static_cast<std::uint32_t>(monitor_link(static_cast<int>(c))));
    // The Monitor's own periodic report: Central handles it in full.
    blast_frames_.push_back(protocol::encode(protocol::make(
        monitor_names_[c], protocol::cp_status{cps_[c].id(), !cps_[c].faulty(), cps_[c].faulty() ? "fault" : ""})));
  }
  blast_markers_ = blast_links_.size();
  if (blast_links_.empty()) {
    check_blast(now);
  }
}

void worker::pump_blast(std::int64_t /*now*/) {
  constexpr int per_turn = 4096;  // sends per loop turn, so that heartbeats and timers keep flowing
  constexpr int per_link = 32;
  int budget = per_turn;
  std::size_t idle_links = 0;
  while (budget > 0 && idle_links < blast_links_.size()) {
    const auto pos = blast_cursor_++ % blast_links_.size();
    auto& l = links_[blast_links_[pos]];
    if (!l.socket || l.blast_left <= 0) {
      ++idle_links;
      continue;
    }
    int sent = 0;
    while (sent < per_link && l.blast_left > 0) {
      const auto& f = blast_frames_[pos];
      if (send_frame(*l.socket, f.data(), f.size()) != 0) {
        break;  // full: later
      }
      --l.blast_left;
      ++sent;
      ++blast_sent_;
    }
    queue(blast_links_[pos]);
    budget -= sent;
    if (l.blast_left == 0) {
      // The marker: Central answers a Monitor's cp_auth on the same link.
      const auto m = protocol::encode(protocol::make(monitor_names_[static_cast<std::size_t>(l.owner)],
                                                     protocol::cp_auth{cps_[static_cast<std::size_t>(l.owner)].id()},
                                                     marker_corr_ + pos));
      if (send_frame(*l.socket, m.data(), m.size()) == 0) {
        ++blast_sent_;
      } else {
        l.blast_left = 1;  // try again (one more cp_status is harmless)
      }
    }
    if (sent == 0) {
      ++idle_links;
    } else {
      idle_links = 0;
    }
  }
}

void worker::on_marker(std::size_t i, std::int64_t now) {
  auto& l = links_[i];
  if (!l.marker_pending || l.blast_left > 0) {
    return;
  }
  l.marker_pending = false;
  if (blast_markers_ > 0) {
    --blast_markers_;
  }
  if (blast_markers_ == 0) {
    check_blast(now);
  }
}

void worker::check_blast(std::int64_t now) {
  std::uint64_t outstanding = 0;
  for (const auto i : blast_links_) {
    outstanding += links_[i].marker_pending ? 1 : 0;
  }
  if (outstanding > 0 && now < blast_deadline_) {
    return;
  }
  for (const auto i : blast_links_) {
    links_[i].blast_left = 0;
    links_[i].marker_pending = false;
  }
  blast_ = false;
  report(json::object{{"event", "blast"},
                      {"links", blast_links_.size()},
                      {"messages", blast_sent_},
                      {"missing", blast_missing_ + outstanding},
                      {"start_ns", blast_start_ * 1000},
                      {"end_ns", now * 1000}});
}

// ---- final books ------------------------------------------------------------------------------

void worker::report_books() {
  // Every supplied charge (record) must be acknowledged by Central and
  // ticketed to its driver exactly once, with the CP's figures.
  std::uint64_t unacked = 0;
  std::uint64_t no_ticket = 0;
  std::uint64_t unsettled = 0;
  std::uint64_t mismatched = 0;
  std::uint64_t unknown_tickets = 0;
  std::uint64_t doubled_yeses = 0;
  std::uint64_t billed_after_no = 0;   // supplied for a request its driver was told no
  std::uint64_t other_charge = 0;      // supplied under another charge id than the driver was told
  std::set<std::pair<std::string, std::string>> made;
  std::ofstream file;
  if (!s_.books_dir.empty()) {
    file.open(s_.books_dir + "/records-" + std::to_string(s_.index) + ".txt");
    file.precision(17);
  }
  for (const auto& [r, request] : records_) {
    made.emplace(r.cp_id, r.charge_id);
    const int c = s_.names.cp_index(r.cp_id) - s_.share.cp_begin;
    const bool acked = c >= 0 && static_cast<std::size_t>(c) < cps_.size() &&
                       !cps_[static_cast<std::size_t>(c)].owes(r.charge_id);
    const int d = s_.names.driver_index(r.driver_id) - s_.share.driver_begin;
    const protocol::charge_record* ticket = nullptr;
    if (d >= 0 && static_cast<std::size_t>(d) < drivers_.size()) {
      const auto& drv = drivers_[static_cast<std::size_t>(d)];
      const auto& t = drv.tickets();
      if (const auto it = t.find({r.cp_id, r.charge_id}); it != t.end()) {
        ticket = &it->second;
      }
      billed_after_no += drv.refused(request) ? 1 : 0;
      if (const auto y = drv.yeses().find(request); y != drv.yeses().end() && y->second != r.charge_id) {
        ++other_charge;
      }
    }
    unacked += acked ? 0 : 1;
    no_ticket += ticket == nullptr ? 1 : 0;
    unsettled += acked && ticket != nullptr ? 0 : 1;
    if (ticket != nullptr && (std::fabs(ticket->kwh - r.kwh) > 1e-9 || std::fabs(ticket->amount - r.amount) > 1e-9)) {
      ++mismatched;
    }
    if (file) {
      file << r.cp_id << ' ' << r.charge_id << ' ' << r.driver_id << ' ' << r.kwh << ' ' << r.amount << ' '
           << (acked ? 1 : 0) << ' ' << (ticket != nullptr ? 1 : 0) << '\n';
    }
  }
  for (const auto& d : drivers_) {
    doubled_yeses += d.doubled_yeses();
    for (const auto& [key, t] : d.tickets()) {
      // A ticket for a charge none of our CPs supplied: billed for nothing.
      unknown_tickets += made.count(key) == 0 ? 1 : 0;
    }
  }
  // What the drivers' stream views say of our CPs now, against the truth.
  std::uint64_t stale = 0;
  for (const auto& d : drivers_) {
    if (!d.ready()) {
      continue;
    }
    for (std::size_t c = 0; c < cps_.size(); ++c) {
      const auto& cp = cps_[c];
      const auto truth = !cp.authenticated() ? cp_state::disconnected
                         : cp.faulty()       ? cp_state::broken
                         : cp.idle()         ? cp_state::active
                                             : cp_state::busy;
      if (truth != cp_state::busy && d.view(s_.share.cp_begin + static_cast<int>(c)) != truth) {
        ++stale;
      }
    }
  }
  report(json::object{{"event", "books"},
                      {"records", records_.size()},
                      // Not settled (yet): not acknowledged by Central, or not
                      // ticketed to the driver. 0 after a complete drain; what is
                      // lost for good needs Central's store (ev_bench checks it).
                      {"unsettled", unsettled},
                      {"unacknowledged", unacked},
                      {"no_ticket", no_ticket},
                      {"doubled", mismatched + unknown_tickets + doubled_yeses + billed_after_no + other_charge},
                      {"tickets_mismatched", mismatched},
                      {"tickets_unknown", unknown_tickets},
                      {"doubled_yeses", doubled_yeses},
                      {"billed_after_no", billed_after_no},
                      {"other_charge", other_charge},
                      {"stale_views", stale},
                      {"cpu_s", process_cpu_s()},
                      {"counters", books_.to_json()}});
}

} // namespace evnet::fleet

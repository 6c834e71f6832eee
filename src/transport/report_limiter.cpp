#include "report_limiter.hpp"

#include <algorithm>
#include <utility>

namespace evnet::transport::detail {

namespace {

void append_count(link_event& ev, std::uint64_t more) {
  if (more > 0) {
    ev.detail += " (" + std::to_string(more) + " more since the last report)";
  }
}

} // namespace

report_limiter::report_limiter(std::chrono::milliseconds window) : window_(window) {}

std::optional<link_event> report_limiter::admit(const std::string& source, link_event ev, clock::time_point now) {
  auto it = sources_.find(source);
  if (it == sources_.end()) {
    if (sources_.size() >= max_sources) {
      sweep(now);
    }
    const std::string& key = sources_.size() >= max_sources ? std::string("*") : source;
    it = sources_.find(key);
    if (it == sources_.end()) {
      sources_.emplace(key, source_state{now, 0, {}});
      return ev;
    }
  }
  auto& st = it->second;
  if (now - st.last_report >= window_) {
    // A quiet source, or one whose held reports were not flushed yet: this
    // report carries them.
    append_count(ev, st.held);
    st.last_report = now;
    st.held = 0;
    pending_.erase(it->first);
    return ev;
  }
  ++st.held;
  st.last = std::move(ev);
  pending_.insert(it->first);
  return std::nullopt;
}

std::vector<link_event> report_limiter::flush(clock::time_point now) {
  std::vector<link_event> out;
  for (auto key = pending_.begin(); key != pending_.end();) {
    auto it = sources_.find(*key);
    if (it == sources_.end()) {
      key = pending_.erase(key);
      continue;
    }
    auto& st = it->second;
    if (now - st.last_report < window_) {
      ++key;
      continue;
    }
    link_event ev = std::move(st.last);
    append_count(ev, st.held - 1);
    out.push_back(std::move(ev));
    st.last = {};
    st.held = 0;
    st.last_report = now;
    key = pending_.erase(key);
  }
  return out;
}

report_limiter::clock::time_point report_limiter::next_flush() const {
  auto next = clock::time_point::max();
  for (const auto& key : pending_) {
    if (auto it = sources_.find(key); it != sources_.end()) {
      next = std::min(next, it->second.last_report + window_);
    }
  }
  return next;
}

// Forgets sources that have nothing held and whose window has ended: to
// them a new report is a first report anyway.
void report_limiter::sweep(clock::time_point now) {
  for (auto it = sources_.begin(); it != sources_.end();) {
    if (it->second.held == 0 && now - it->second.last_report >= window_) {
      it = sources_.erase(it);
    } else {
      ++it;
    }
  }
}

} // namespace evnet::transport::detail

#include "books.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace evnet::fleet {

namespace {

// One list of every plain counter, so that JSON in, JSON out and merge never
// forget one.
template <class C, class F>
void each_counter(C& c, F&& f) {
  f("requests", c.requests);
  f("request_resends", c.request_resends);
  f("authorized", c.authorized);
  f("refused", c.refused);
  f("unanswered", c.unanswered);
  f("plan_full", c.plan_full);
  f("tickets", c.tickets);
  f("ticket_repeats", c.ticket_repeats);
  f("progress", c.progress);
  f("interrupted", c.interrupted);
  f("snapshots", c.snapshots);
  f("stream_updates", c.stream_updates);
  f("stream_heartbeats", c.stream_heartbeats);
  f("stream_gaps", c.stream_gaps);
  f("resubscribes", c.resubscribes);
  f("reservations", c.reservations);
  f("cp_refusals", c.cp_refusals);
  f("charges_started", c.charges_started);
  f("charges_cancelled", c.charges_cancelled);
  f("late_confirms", c.late_confirms);
  f("telemetry", c.telemetry);
  f("records", c.records);
  f("records_acked", c.records_acked);
  f("record_resends", c.record_resends);
  f("faults", c.faults);
  f("commands", c.commands);
  f("sessions", c.sessions);
  f("closes", c.closes);
  f("connect_timeouts", c.connect_timeouts);
  f("silences", c.silences);
  f("disconnects", c.disconnects);
  f("dropped", c.dropped);
  f("send_refused", c.send_refused);
  f("errors", c.errors);
  f("undecodable", c.undecodable);
}

json::object map_json(const std::map<std::string, std::uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) {
    o.emplace(k, v);
  }
  return o;
}

void map_from(const json::value* v, std::map<std::string, std::uint64_t>& m) {
  if (v == nullptr || !v->is_object()) {
    return;
  }
  for (const auto& [k, n] : v->items()) {
    if (n.is_number_unsigned()) {
      m[k] += n.get<std::uint64_t>();
    }
  }
}

} // namespace

json::value counters::to_json() const {
  json::object o;
  each_counter(*this, [&](const char* name, const std::uint64_t& v) { o.emplace(name, v); });
  o.emplace("refusals", map_json(refusals));
  o.emplace("error_codes", map_json(error_codes));
  o.emplace("auth_us", auth_us.to_json());
  o.emplace("telemetry_us", telemetry_us.to_json());
  return o;
}

counters counters::from_json(const json::value& v) {
  counters c;
  each_counter(c, [&](const char* name, std::uint64_t& field) {
    if (const auto* f = json::find(v, name); f != nullptr && f->is_number_unsigned()) {
      field = f->get<std::uint64_t>();
    }
  });
  map_from(json::find(v, "refusals"), c.refusals);
  map_from(json::find(v, "error_codes"), c.error_codes);
  if (const auto* h = json::find(v, "auth_us")) {
    c.auth_us = histogram::from_json(*h);
  }
  if (const auto* h = json::find(v, "telemetry_us")) {
    c.telemetry_us = histogram::from_json(*h);
  }
  return c;
}

void counters::merge(const counters& other) {
  // each_counter walks both in the same order.
  std::vector<std::uint64_t> theirs;
  each_counter(other, [&](const char*, const std::uint64_t& v) { theirs.push_back(v); });
  std::size_t i = 0;
  each_counter(*this, [&](const char*, std::uint64_t& v) { v += theirs[i++]; });
  for (const auto& [k, n] : other.refusals) {
    refusals[k] += n;
  }
  for (const auto& [k, n] : other.error_codes) {
    error_codes[k] += n;
  }
  auth_us.merge(other.auth_us);
  telemetry_us.merge(other.telemetry_us);
}

counters counters::minus(const counters& earlier) const {
  counters out = *this;
  std::vector<std::uint64_t> before;
  each_counter(earlier, [&](const char*, const std::uint64_t& v) { before.push_back(v); });
  std::size_t i = 0;
  each_counter(out, [&](const char*, std::uint64_t& v) {
    v -= std::min(v, before[i]);
    ++i;
  });
  for (const auto& [k, n] : earlier.refusals) {
    if (auto it = out.refusals.find(k); it != out.refusals.end()) {
      it->second -= std::min(it->second, n);
      if (it->second == 0) {
        out.refusals.erase(it);
      }
    }
  }
  for (const auto& [k, n] : earlier.error_codes) {
    if (auto it = out.error_codes.find(k); it != out.error_codes.end()) {
      it->second -= std::min(it->second, n);
      if (it->second == 0) {
        out.error_codes.erase(it);
      }
    }
  }
  out.auth_us.subtract(earlier.auth_us);
  out.telemetry_us.subtract(earlier.telemetry_us);
  return out;
}

std::string reason_class(const std::string& reason, const std::string& cp_prefix, const std::string& driver_prefix) {
  std::istringstream words{reason};
  std::string out;
  for (std::string w; words >> w;) {
    std::string trail;
    while (!w.empty() && (w.back() == ',' || w.back() == ':' || w.back() == '.' || w.back() == ')')) {
      trail.insert(trail.begin(), w.back());
      w.pop_back();
    }
    auto starts = [&](const std::string& p) { return !p.empty() && w.size() > p.size() && w.rfind(p, 0) == 0; };
    if (starts(cp_prefix)) {
      w = w.find('-') == std::string::npos ? "<cp>" : "<charge>";
    } else if (starts(driver_prefix)) {
      w = "<driver>";
    } else if (!w.empty() && w.find_first_not_of("0123456789") == std::string::npos) {
      w = "<n>";
    }
    if (!out.empty()) {
      out += ' ';
    }
    out += w + trail;
  }
  return out;
}

} // namespace evnet::fleet

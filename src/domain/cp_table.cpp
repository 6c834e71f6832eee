#include "evnet/domain/event_fields.hpp"
#include "evnet/domain/cp_table.hpp"

#include "evnet/vocabulary.hpp"

namespace evnet::domain {


const protocol::cp_info* cp_table::find(const std::string& cp_id) const {
  const auto it = rows_.find(cp_id);
  return it == rows_.end() ? nullptr : &it->second;
}

json::array cp_table::rows_json() const {
  json::array rows;
  rows.reserve(rows_.size());
  for (const auto& [id, cp] : rows_) {
    rows.push_back(json::value(cp_fields(cp)));
  }
  return rows;
}

std::optional<std::int64_t> cp_table::next_deadline() const {
  std::optional<std::int64_t> next;
  if (wanted_ && asked_at_) {
    next = *asked_at_ + snapshot_retry_ms;
  }
  if (watching_silence()) {
    const auto silent_at = stream_heard_ms_ + stream_silence_ms;
    if (!next || silent_at < *next) {
      next = silent_at;
    }
  }
  return next;
}

void cp_table::ask(outbox& out, std::int64_t now) {
  asked_at_ = now;
  out.send(driver_central_link, protocol::snapshot_request{});
}

void cp_table::want_snapshot(outbox& out, bool up, std::int64_t now) {
  wanted_ = true;
  if (up && !asked_at_) {
    ask(out, now);
  }
}

void cp_table::resync(outbox& out, bool up, std::int64_t now) {
  asked_at_.reset();
  // Central was away: its stream gets a fresh allowance of silence.
  stream_heard_ms_ = now;
  want_snapshot(out, up, now);
}

void cp_table::subscribe(std::uint32_t port, const char* reason, outbox& out, bool up, std::int64_t now) {
  stream_port_ = port;
  stream_heard_ms_ = now;
  out.notify("stream", {{"port", static_cast<std::int64_t>(port)}, {"reason", reason}});
  if (port == 0) {
    // An older Central: no heartbeat will tell us what the subscription
    // missed, and asking at once would only race it. The next update's
    // sequence shows a gap, as it always did.
    return;
  }
  // What the old subscription (or none) missed meanwhile: a snapshot taken
  // after subscribing covers it. Updates buffer until it comes.
  asked_at_.reset();
  want_snapshot(out, up, now);
}

void cp_table::on_tick(outbox& out, bool up, std::int64_t now) {
  // Silence counts only while Central is reachable: with the link down the
  // stream is silent for a reason the link already handles.
  if (up && watching_silence() && now - stream_heard_ms_ >= stream_silence_ms) {
    subscribe(*stream_port_, "silent", out, up, now);
    return;
  }
  if (!wanted_ || !up) {
    return;
  }
  if (!asked_at_ || now - *asked_at_ >= snapshot_retry_ms) {
    ask(out, now);
  }
}

void cp_table::on_heartbeat(const protocol::stream_heartbeat& h, outbox& out, bool up, std::int64_t now) {
  stream_heard_ms_ = now;
  // While a snapshot is awaited it decides; otherwise the stream is behind
  // what Central published: updates were lost on the way.
  if (!wanted_ && have_snapshot_ && h.seq > seq_) {
    want_snapshot(out, up, now);
  }
}

void cp_table::on_snapshot(const protocol::snapshot& s, outbox& out, bool up, std::int64_t now) {
  if (!wanted_ && have_snapshot_ && s.seq <= seq_) {
    return;  // a late answer to an earlier request: the stream is already past it
  }
  wanted_ = false;
  asked_at_.reset();
  have_snapshot_ = true;
  seq_ = s.seq;
  rows_.clear();
  for (const auto& cp : s.cps) {
    rows_[cp.cp_id] = cp;
  }
  out.notify("cps", {{"cps", rows_json()}});
  replay(out, up, now);
  if (!stream_port_ || *stream_port_ != s.stream_port) {
    const char* reason = s.stream_port == 0 ? "assumed" : stream_port_ ? "moved" : "learned";
    subscribe(s.stream_port, reason, out, up, now);
  }
}

void cp_table::replay(outbox& out, bool up, std::int64_t now) {
  while (!buffer_.empty()) {
    auto first = buffer_.begin();
    if (first->first <= seq_) {
      buffer_.erase(first);  // already in the snapshot
    } else if (first->first == seq_ + 1) {
      seq_ = first->first;
      apply(first->second.cp, out);
      buffer_.erase(first);
    } else {
      want_snapshot(out, up, now);  // a gap: keep the rest for the next snapshot
      return;
    }
  }
}

void cp_table::on_update(const protocol::cp_update& u, outbox& out, bool up, std::int64_t now) {
  stream_heard_ms_ = now;
  if (wanted_) {
    // Kept whatever its seq: only the snapshot says what is old (after a
    // restart of Central the sequence starts again).
    buffer_.insert_or_assign(u.seq, u);
    if (buffer_.size() > max_buffered) {
      buffer_.erase(buffer_.begin());  // the oldest are the likeliest inside the snapshot
    }
    return;
  }
  if (u.seq <= seq_) {
    return;  // already applied, or in the snapshot
  }
  if (u.seq != seq_ + 1) {
    buffer_.insert_or_assign(u.seq, u);
    want_snapshot(out, up, now);  // something was missed
    return;
  }
  seq_ = u.seq;
  apply(u.cp, out);
}

void cp_table::apply(const protocol::cp_info& cp, outbox& out) {
  auto& row = rows_[cp.cp_id];
  const bool state_changed = row.state != cp.state;
  row = cp;
  if (state_changed) {
    out.notify("cp_state", cp_fields(cp));
  }
}

} // namespace evnet::domain

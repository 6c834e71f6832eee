#include "driver_sim.hpp"

#include <algorithm>
#include <limits>

namespace evnet::fleet {

namespace {
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
} // namespace

driver_sim::driver_sim(std::string driver_id, const naming& names, int cps, const sim_context& ctx, counters& books,
                       std::uint32_t default_stream_port)
    : id_(std::move(driver_id)),
      names_(names),
      ctx_(ctx),
      books_(books),
      default_stream_port_(default_stream_port),
      view_(static_cast<std::size_t>(std::max(cps, 0)), static_cast<std::uint8_t>(cp_state::disconnected)) {}

cp_state driver_sim::view(int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= view_.size()) {
    return cp_state::disconnected;
  }
  return static_cast<cp_state>(view_[static_cast<std::size_t>(index)]);
}

// ---- the DEALER link ------------------------------------------------------------------

void driver_sim::hello(std::int64_t now) {
  hello_sent_at_ = now;
  out_.push_back(protocol::driver_hello{id_});
}

void driver_sim::on_up(std::int64_t now) {
  up_ = true;
  hello_acked_ = false;
  hello(now);
  // A new session: Central may have restarted, its sequence with it.
  asked_at_.reset();
  want_snapshot(now);
  for (auto& [rid, p] : pending_) {
    send_request(rid, p, now);
  }
}

void driver_sim::on_down(std::int64_t /*now*/) {
  up_ = false;
  hello_acked_ = false;
  asked_at_.reset();  // died with the link
}

void driver_sim::send_request(const std::string& request_id, pending_request& p, std::int64_t now) {
  if (!up_) {
    return;
  }
  if (p.first_sent_at == 0) {
    p.first_sent_at = now;
  } else {
    ++books_.request_resends;
  }
  p.last_sent_at = now;
  out_.push_back(protocol::charge_request{id_, p.cp_id, p.duration_s, request_id});
}

void driver_sim::request(std::string cp_id, std::int64_t duration_s, std::string request_id, std::int64_t now) {
  ++books_.requests;
  auto [it, inserted] = pending_.try_emplace(std::move(request_id));
  if (!inserted) {
    return;
  }
  it->second.cp_id = std::move(cp_id);
  it->second.duration_s = duration_s;
  it->second.made_at = now;
  send_request(it->first, it->second, now);
}

void driver_sim::on_reply(const protocol::charge_reply& r, std::int64_t now) {
  const auto it = pending_.find(r.request_id);
  if (it == pending_.end()) {
    // An answer to a resend. A second, different yes would be a second charge.
    if (r.ok) {
      if (const auto y = yeses_.find(r.request_id); y != yeses_.end() && y->second != r.charge_id) {
        ++doubled_yeses_;
      }
    }
    return;
  }
  if (r.ok) {
    ++books_.authorized;
    books_.auth_us.add(now - it->second.first_sent_at);
    yeses_.emplace(r.request_id, r.charge_id);
  } else {
    ++books_.refused;
    ++books_.refusals[reason_class(r.reason, ctx_.cp_prefix, ctx_.driver_prefix)];
    refused_.insert(r.request_id);
  }
  pending_.erase(it);
}

void driver_sim::on_message(const protocol::message& m, std::int64_t now) {
  if (const auto* r = std::get_if<protocol::charge_reply>(&m.payload)) {
    on_reply(*r, now);
  } else if (const auto* p = std::get_if<protocol::progress>(&m.payload)) {
    (void)p;
    ++books_.progress;
  } else if (const auto* t = std::get_if<protocol::ticket>(&m.payload)) {
    out_.push_back(protocol::ticket_ack{t->record.cp_id, t->record.charge_id});
    if (tickets_.try_emplace(charge_key{t->record.cp_id, t->record.charge_id}, t->record).second) {
      ++books_.tickets;
    } else {
      ++books_.ticket_repeats;
    }
  } else if (m.is<protocol::charge_interrupted>()) {
    ++books_.interrupted;
  } else if (const auto* s = std::get_if<protocol::snapshot>(&m.payload)) {
    on_snapshot(*s, now);
  } else if (const auto* a = std::get_if<protocol::ack>(&m.payload)) {
    if (a->ok && !hello_acked_) {
      hello_acked_ = true;
      introduced_at_ = now;
    }
  } else if (const auto* e = std::get_if<protocol::error_reply>(&m.payload)) {
    ++books_.errors;
    ++books_.error_codes[std::string(to_string(e->code))];
    if (e->code == errc::unauthenticated) {
      hello_acked_ = false;
      hello(now);
      if (wanted_) {
        ask_snapshot(now);
      }
      for (auto& [rid, p] : pending_) {
        send_request(rid, p, now);
      }
    } else if (e->code == errc::too_many && asked_at_) {
      *asked_at_ = now - snapshot_retry + second;  // ask again in a second
    }
  }
}

// ---- the Clone pattern ------------------------------------------------------------------

void driver_sim::want_snapshot(std::int64_t now) {
  wanted_ = true;
  if (!asked_at_) {
    ask_snapshot(now);
  }
}

void driver_sim::ask_snapshot(std::int64_t now) {
  if (!up_) {
    return;
  }
  asked_at_ = now;
  out_.push_back(protocol::snapshot_request{});
}

void driver_sim::apply(const update& u) {
  if (u.cp >= 0 && static_cast<std::size_t>(u.cp) < view_.size()) {
    view_[static_cast<std::size_t>(u.cp)] = static_cast<std::uint8_t>(u.state);
  }
}

void driver_sim::on_snapshot(const protocol::snapshot& s, std::int64_t now) {
  ++books_.snapshots;
  asked_at_.reset();
  for (const auto& cp : s.cps) {
    apply(update{names_.cp_index(cp.cp_id), cp.state});
  }
  const std::uint32_t port = s.stream_port != 0 ? s.stream_port : default_stream_port_;
  if (port != 0 && port != stream_port_) {
    // Subscribe first, then ask again: the second snapshot is the one the
    // stream continues.
    stream_port_ = port;
    subscribe_ = port;
    last_stream_at_ = now;
    buffer_.clear();
    ask_snapshot(now);
    return;
  }
  seq_ = s.seq;
  have_snapshot_ = true;
  wanted_ = false;
  replay(now);
}

void driver_sim::replay(std::int64_t now) {
  for (auto it = buffer_.begin(); it != buffer_.end();) {
    if (it->first <= seq_) {
      it = buffer_.erase(it);
      continue;
    }
    if (it->first != seq_ + 1) {
      ++books_.stream_gaps;
      want_snapshot(now);  // the rest stays buffered
      return;
    }
    apply(it->second);
    seq_ = it->first;
    it = buffer_.erase(it);
  }
}

void driver_sim::on_stream(const protocol::message& m, std::int64_t now) {
  last_stream_at_ = now;
  if (const auto* u = std::get_if<protocol::cp_update>(&m.payload)) {
    ++books_.stream_updates;
    const update up{names_.cp_index(u->cp.cp_id), u->cp.state};
    if (wanted_) {
      buffer_.emplace(u->seq, up);
      while (buffer_.size() > max_buffered) {
        buffer_.erase(buffer_.begin());
      }
      return;
    }
    if (u->seq <= seq_) {
      return;
    }
    if (u->seq != seq_ + 1) {
      ++books_.stream_gaps;
      buffer_.emplace(u->seq, up);
      want_snapshot(now);
      return;
    }
    apply(up);
    seq_ = u->seq;
  } else if (const auto* h = std::get_if<protocol::stream_heartbeat>(&m.payload)) {
    ++books_.stream_heartbeats;
    if (!wanted_ && h->seq > seq_) {
      ++books_.stream_gaps;  // the last updates never reached us
      want_snapshot(now);
    }
  }
}

// ---- time ------------------------------------------------------------------------------------

void driver_sim::on_timer(std::int64_t now) {
  if (up_ && now - hello_sent_at_ >= hello_every) {
    hello(now);
  }
  if (stream_port_ != 0 && now - last_stream_at_ >= stream_silence) {
    ++books_.resubscribes;
    subscribe_ = stream_port_;
    last_stream_at_ = now;
    want_snapshot(now);
  }
  if (wanted_ && up_ && (!asked_at_ || now - *asked_at_ >= snapshot_retry)) {
    ask_snapshot(now);
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto& p = it->second;
    if (now - p.made_at >= request_give_up) {
      ++books_.unanswered;
      it = pending_.erase(it);
      continue;
    }
    if (up_ && (p.first_sent_at == 0 || now - p.last_sent_at >= request_resend)) {
      send_request(it->first, p, now);
    }
    ++it;
  }
}

std::int64_t driver_sim::next_deadline() const {
  std::int64_t next = never;
  if (up_) {
    next = std::min(next, hello_sent_at_ + hello_every);
  }
  if (stream_port_ != 0) {
    next = std::min(next, last_stream_at_ + stream_silence);
  }
  if (wanted_ && up_) {
    next = std::min(next, asked_at_ ? *asked_at_ + snapshot_retry : 0);
  }
  for (const auto& [rid, p] : pending_) {
    next = std::min(next, p.made_at + request_give_up);
    if (up_) {
      next = std::min(next, p.first_sent_at == 0 ? 0 : p.last_sent_at + request_resend);
    }
  }
  return next;
}

} // namespace evnet::fleet

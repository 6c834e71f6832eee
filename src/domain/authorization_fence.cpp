#include "evnet/domain/authorization_fence.hpp"

namespace evnet::domain {

void authorization_fence::open(const protocol::authorize_request& req, std::int64_t now) {
  key k{req.cp_id, req.request_id};
  // A request id used again after its first authorisation closed starts afresh.
  requests_[k] = request_entry{request_state::pending, req, now + timeout_ms_, now + resend_ms};
}

const protocol::authorize_request* authorization_fence::pending(const std::string& cp_id,
                                                                const std::string& request_id) const {
  const auto it = requests_.find(key{cp_id, request_id});
  return it == requests_.end() || it->second.state != request_state::pending ? nullptr : &it->second.request;
}

bool authorization_fence::pending_at(const std::string& cp_id) const { return !pending_for(cp_id).empty(); }

std::vector<protocol::authorize_request> authorization_fence::pending_for(const std::string& cp_id) const {
  std::vector<protocol::authorize_request> out;
  for (auto it = requests_.lower_bound(key{cp_id, {}}); it != requests_.end() && it->first.first == cp_id; ++it) {
    if (it->second.state == request_state::pending) {
      out.push_back(it->second.request);
    }
  }
  return out;
}

protocol::authorize_decision authorization_fence::decide(const protocol::authorize_reply& r, bool confirmed,
                                                         std::int64_t now) {
  protocol::authorize_decision d{r.cp_id, r.request_id, r.charge_id, confirmed};
  key k{r.cp_id, r.charge_id};
  decisions_[k] = decision_entry{d, false, true, false, now + resend_ms};
  decision_order_.push_back(std::move(k));
  trim();
  return d;
}

void authorization_fence::close(const key& k, request_state s) {
  auto& e = requests_[k];
  const bool was_open = e.state == request_state::pending;
  e.state = s;
  if (was_open) {
    closed_order_.push_back(k);
  }
  trim();
}

void authorization_fence::trim() {
  while (closed_order_.size() > remembered_) {
    const auto it = requests_.find(closed_order_.front());
    if (it != requests_.end() && it->second.state != request_state::pending) {
      requests_.erase(it);
    }
    closed_order_.pop_front();
  }
  while (decision_order_.size() > remembered_) {
    decisions_.erase(decision_order_.front());
    decision_order_.pop_front();
  }
}

authorization_fence::reply_result authorization_fence::on_reply(const protocol::authorize_reply& r,
                                                                bool still_allowed, std::int64_t now,
                                                                bool already_ran) {
  reply_result out;
  const key req_key{r.cp_id, r.request_id};
  const auto req = requests_.find(req_key);
  const bool pending = req != requests_.end() && req->second.state == request_state::pending;
  if (!r.ok) {
    if (!pending) {
      return out;  // nothing was reserved, and nobody waits for this answer
    }
    out.kind = outcome::refused_by_cp;
    out.was_pending = true;
    out.request = req->second.request;
    close(req_key, request_state::refused_by_cp);
    return out;
  }
  if (const auto d = decisions_.find(key{r.cp_id, r.charge_id}); d != decisions_.end()) {
    // Decided already: the same decision again (idempotent), resent until
    // acknowledged through whichever Monitor relays it now.
    decision_entry& e = d->second;
    out.decision = e.decision;
    out.decision->confirmed = e.decision.confirmed && !e.dropped;
    if (!e.acked) {
      e.resend = true;
      e.next_send = now + resend_ms;
    }
    if (pending && !out.decision->confirmed) {
      // A new request answered with a charge id already refused.
      out.kind = outcome::cancelled;
      out.was_pending = true;
      out.request = req->second.request;
      close(req_key, request_state::cancelled);
      return out;
    }
    out.kind = outcome::repeated;
    return out;
  }
  if (already_ran) {
    // The charge happened (its record is stored): the truth is "confirmed".
    out.kind = pending ? outcome::confirmed : outcome::repeated;
    out.was_pending = pending;
    if (pending) {
      out.request = req->second.request;
      close(req_key, request_state::confirmed);
    }
    out.decision = decide(r, true, now);
    decisions_[key{r.cp_id, r.charge_id}].supplied = true;
    return out;
  }
  if (pending) {
    out.was_pending = true;
    out.request = req->second.request;
    const bool confirm = still_allowed && !refused(r.cp_id, r.charge_id);
    out.kind = confirm ? outcome::confirmed : outcome::cancelled;
    close(req_key, confirm ? request_state::confirmed : request_state::cancelled);
    out.decision = decide(r, confirm, now);
    return out;
  }
  // A yes nobody waits for: the driver was told no (timeout, refusal), the
  // request was decided with another charge id, or Central never asked
  // (it restarted). No energy without a yes: the reservation is cancelled.
  out.kind = outcome::cancelled;
  out.decision = decide(r, false, now);
  return out;
}

std::vector<protocol::authorize_request> authorization_fence::ask_again(std::int64_t now) {
  std::vector<protocol::authorize_request> out;
  for (auto& [k, e] : requests_) {
    if (e.state == request_state::pending && e.next_ask <= now && now < e.deadline) {
      out.push_back(e.request);
      e.next_ask = now + resend_ms;
    }
  }
  return out;
}

std::vector<protocol::authorize_request> authorization_fence::expire(std::int64_t now) {
  std::vector<protocol::authorize_request> out;
  std::vector<key> expired;
  for (const auto& [k, e] : requests_) {
    if (e.state == request_state::pending && e.deadline <= now) {
      out.push_back(e.request);
      expired.push_back(k);
    }
  }
  for (const auto& k : expired) {
    close(k, request_state::timed_out);
  }
  return out;
}

std::vector<protocol::authorize_request> authorization_fence::withdraw(const std::string& cp_id,
                                                                      const std::string& driver_id) {
  std::vector<protocol::authorize_request> out;
  std::vector<key> closed;
  for (const auto& [k, e] : requests_) {
    const bool cp_fits = cp_id.empty() || e.request.cp_id == cp_id;
    const bool driver_fits = driver_id.empty() || e.request.driver_id == driver_id;
    if (e.state == request_state::pending && cp_fits && driver_fits) {
      out.push_back(e.request);
      closed.push_back(k);
    }
  }
  for (const auto& k : closed) {
    close(k, request_state::timed_out);
  }
  return out;
}

authorization_fence::ack_outcome authorization_fence::on_decision_ack(const protocol::decision_ack& a) {
  const auto it = decisions_.find(key{a.cp_id, a.charge_id});
  if (it == decisions_.end()) {
    return ack_outcome::ignored;
  }
  decision_entry& d = it->second;
  d.acked = true;
  if (a.ok) {
    // The CP took it. A "no" that follows (a delayed resend reaching a
    // restarted Engine) cannot take back a confirmation already applied.
    d.supplied = true;
    return ack_outcome::done;
  }
  if (d.decision.confirmed && !d.dropped && !d.supplied) {
    // The CP had dropped the reservation before our yes arrived: nothing
    // was supplied. (Should a record for it come all the same, the CP did
    // supply after all, and the record is billed: evidence beats an ack.)
    d.dropped = true;
    return ack_outcome::late_confirm;
  }
  return ack_outcome::done;
}

std::vector<protocol::authorize_decision> authorization_fence::due(std::int64_t now) {
  std::vector<protocol::authorize_decision> out;
  for (auto& [k, d] : decisions_) {
    if (!d.acked && d.resend && d.next_send <= now) {
      out.push_back(d.decision);
      d.next_send = now + resend_ms;
    }
  }
  return out;
}

void authorization_fence::supplied(const std::string& cp_id, const std::string& charge_id) {
  if (const auto it = decisions_.find(key{cp_id, charge_id}); it != decisions_.end()) {
    it->second.supplied = true;
    it->second.acked = true;  // the confirmation evidently arrived
  }
}

void authorization_fence::monitor_gone(const std::string& cp_id) {
  for (auto it = decisions_.lower_bound(key{cp_id, {}}); it != decisions_.end() && it->first.first == cp_id; ++it) {
    it->second.resend = false;
  }
}

bool authorization_fence::refused(const std::string& cp_id, const std::string& charge_id) const {
  const auto it = decisions_.find(key{cp_id, charge_id});
  return it != decisions_.end() && !it->second.decision.confirmed;
}

} // namespace evnet::domain

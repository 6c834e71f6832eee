#include "evnet/domain/record_keeper.hpp"

#include "evnet/domain/event_fields.hpp"

namespace evnet::domain {

namespace {

std::pair<std::string, std::string> key_of(const protocol::charge_record& r) { return {r.cp_id, r.charge_id}; }

error store_failure() { return error{errc::store, "the Engine's store is failing"}; }

} // namespace

// ---- memory_ledger ------------------------------------------------------------------

status memory_ledger::save_open(const open_charge& c) {
  if (failing) {
    return store_failure();
  }
  open_ = c;
  return ok_value;
}

status memory_ledger::save_finished(const protocol::charge_record& r) {
  if (failing) {
    return store_failure();
  }
  bool known = false;
  for (const auto& [saved, acked] : records_) {
    known = known || (saved.cp_id == r.cp_id && saved.charge_id == r.charge_id);
  }
  if (!known) {
    records_.emplace_back(r, false);
  }
  if (open_ && open_->cp_id == r.cp_id && open_->view.charge_id == r.charge_id) {
    open_.reset();
  }
  return ok_value;
}

status memory_ledger::acknowledge(const std::string& cp_id, const std::string& charge_id) {
  if (failing) {
    return store_failure();
  }
  for (auto& [saved, acked] : records_) {
    if (saved.cp_id == cp_id && saved.charge_id == charge_id) {
      acked = true;
    }
  }
  return ok_value;
}

result<ledger_contents> memory_ledger::load() {
  if (failing) {
    return store_failure();
  }
  return ledger_contents{open_, unacknowledged()};
}

std::vector<protocol::charge_record> memory_ledger::unacknowledged() const {
  std::vector<protocol::charge_record> out;
  for (const auto& [saved, acked] : records_) {
    if (!acked) {
      out.push_back(saved);
    }
  }
  return out;
}

// ---- record_keeper ------------------------------------------------------------------

record_keeper::record_keeper(engine_ledger& ledger, outbox& out, std::int64_t now)
    : ledger_(ledger), out_(out), last_resend_ms_(now), last_hello_ms_(now) {}

std::optional<open_charge> record_keeper::recover() {
  auto loaded = ledger_.load();
  if (!loaded) {
    store_error(loaded.err().message);
    return std::nullopt;
  }
  for (auto& r : loaded->unacknowledged) {
    unacked_[key_of(r)] = r;
  }
  return std::move(loaded->open);
}

void record_keeper::finish(const protocol::charge_record& r) {
  if (auto st = ledger_.save_finished(r); !st) {
    store_error(st.err().message);
  }
  unacked_[key_of(r)] = r;
  last_record_ = r;
  out_.notify("finished", ticket_fields(r));
  to_central(protocol::charge_finished{r});
}

void record_keeper::on_record_ack(const protocol::record_ack& a) {
  auto it = unacked_.find({a.cp_id, a.charge_id});
  if (it == unacked_.end()) {
    return;
  }
  if (auto st = ledger_.acknowledge(a.cp_id, a.charge_id); !st) {
    store_error(st.err().message);
    return;  // resent later; Central deduplicates
  }
  unacked_.erase(it);
  out_.notify("acknowledged", {{"cp", a.cp_id}, {"charge_id", a.charge_id}});
}

void record_keeper::introduce(std::string cp_id, std::int64_t now) {
  hello_as_ = std::move(cp_id);
  hello(now);
}

void record_keeper::on_connected(std::int64_t now) {
  central_up_ = true;
  // A new session: whatever was offered while the link was down was dropped.
  if (introduced()) {
    hello(now);
  }
  resend(now);
}

void record_keeper::on_disconnected() { central_up_ = false; }

void record_keeper::on_unauthenticated(std::int64_t now) {
  // Central restarted or expired us: introduce ourselves again, then what
  // it has not acknowledged (same link, so the hello arrives first).
  if (introduced()) {
    hello(now);
    resend(now);
  }
}

void record_keeper::on_tick(std::int64_t now) {
  if (now - last_resend_ms_ >= resend_every_ms) {
    resend(now);
  }
  if (introduced() && now - last_hello_ms_ >= hello_every_ms) {
    hello(now);
  }
}

void record_keeper::store_error(std::string message) {
  out_.notify("error", {{"code", errc::store}, {"message", std::move(message)}});
}

void record_keeper::hello(std::int64_t now) {
  last_hello_ms_ = now;
  to_central(protocol::engine_hello{*hello_as_});
}

void record_keeper::resend(std::int64_t now) {
  last_resend_ms_ = now;
  for (const auto& [key, r] : unacked_) {
    to_central(protocol::charge_finished{r});
  }
}

} // namespace evnet::domain

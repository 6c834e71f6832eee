#include "evnet/domain/central_machine.hpp"

#include "evnet/domain/billing.hpp"
#include "evnet/domain/event_fields.hpp"
#include "evnet/text.hpp"

#include <cstdio>
#include <type_traits>

namespace evnet::domain {

namespace {

// Charges started at the CP itself carry a pseudo driver id ("@ALC1"): no
// ticket goes to anybody.
bool is_local_driver(const std::string& id) { return !id.empty() && id.front() == '@'; }

std::string spelled(cp_order o) { return std::string(to_string(o)); }

protocol::charge_request request_of(const protocol::authorize_request& a) {
  return protocol::charge_request{a.driver_id, a.cp_id, a.duration_s, a.request_id};
}

// What anyone on the stream may see of a CP: never who charges there nor
// how much.
protocol::cp_info public_info(protocol::cp_info info) {
  info.driver_id.clear();
  info.kwh = 0.0;
  info.amount = 0.0;
  return info;
}

bool same_public_fields(const protocol::cp_info& a, const protocol::cp_info& b) {
  return a.cp_id == b.cp_id && a.location == b.location && a.price == b.price && a.state == b.state;
}

// The id a hello claims, for the audit trail.
std::string claimed_by(const protocol::message& msg) {
  if (const auto* a = std::get_if<protocol::cp_auth>(&msg.payload)) {
    return "cp:" + a->cp_id;
  }
  if (const auto* h = std::get_if<protocol::engine_hello>(&msg.payload)) {
    return "cp:" + h->cp_id;
  }
  if (const auto* h = std::get_if<protocol::driver_hello>(&msg.payload)) {
    return "driver:" + h->driver_id;
  }
  return {};
}

// printable_id(), keeping "" (CURVE off: no identity) as it is.
std::string shown_id(const std::string& s) { return s.empty() ? s : printable_id(s); }

std::string peer_source(const std::string& peer) { return "peer " + printable_id(peer); }

} // namespace

// ---- memory_book ---------------------------------------------------------------

status memory_book::refuse_if_failing() const {
  if (failing) {
    return error{errc::store, "the book is failing"};
  }
  return ok_value;
}

result<seed> memory_book::load_registry() { return registry_; }

result<std::vector<std::string>> memory_book::stopped_cps() {
  return std::vector<std::string>(stopped_.begin(), stopped_.end());
}

result<bool> memory_book::record_charge(const protocol::charge_record& r) {
  if (auto st = refuse_if_failing(); !st) {
    return st.err();
  }
  const auto [it, inserted] = charges_.try_emplace({r.cp_id, r.charge_id}, r);
  if (inserted && !is_local_driver(r.driver_id)) {
    owed_.insert(it->first);
  }
  return inserted;
}

result<bool> memory_book::knows_charge(const std::string& cp_id, const std::string& charge_id) {
  if (charges_.contains({cp_id, charge_id})) {
    return true;
  }
  for (const auto& [k, yes] : yeses_) {
    if (yes.cp_id == cp_id && yes.charge_id == charge_id) {
      return true;
    }
  }
  return false;
}

status memory_book::record_yes(const protocol::charge_request& req, const std::string& charge_id) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  yeses_.try_emplace({req.driver_id, req.request_id},
                     protocol::charge_reply{true, "", req.cp_id, charge_id, req.request_id});
  return ok_value;
}

result<std::optional<protocol::charge_reply>> memory_book::yes_for(const std::string& driver_id,
                                                                   const std::string& request_id) {
  const auto it = yeses_.find({driver_id, request_id});
  return it == yeses_.end() ? std::nullopt : std::optional<protocol::charge_reply>(it->second);
}

result<std::vector<protocol::charge_record>> memory_book::undelivered_tickets(const std::string& driver_id) {
  std::vector<protocol::charge_record> out;
  for (const auto& k : owed_) {
    if (const auto& r = charges_.at(k); r.driver_id == driver_id) {
      out.push_back(r);
    }
  }
  return out;
}

status memory_book::mark_delivered(const std::string& cp_id, const std::string& charge_id) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  owed_.erase({cp_id, charge_id});
  return ok_value;
}

bool memory_book::delivered(const std::string& cp_id, const std::string& charge_id) const {
  return charges_.contains({cp_id, charge_id}) && !owed_.contains({cp_id, charge_id});
}

status memory_book::set_stopped(const std::string& cp_id, bool stopped, const audit_entry& e) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  if (stopped) {
    stopped_.insert(cp_id);
  } else {
    stopped_.erase(cp_id);
  }
  audits_.push_back(e);
  return ok_value;
}

result<bool> memory_book::add_cp(const cp_record& r) {
  if (auto st = refuse_if_failing(); !st) {
    return st.err();
  }
  for (auto& cp : registry_.cps) {
    if (cp.id == r.id) {
      cp = r;
      return false;
    }
  }
  registry_.cps.push_back(r);
  return true;
}

status memory_book::log_event(const std::string& kind, const std::string& text) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  events_.emplace_back(kind, text);
  return ok_value;
}

status memory_book::audit(const audit_entry& e) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  audits_.push_back(e);
  return ok_value;
}

status memory_book::log_and_audit(const std::string& kind, const std::string& text, const audit_entry& e) {
  if (auto st = refuse_if_failing(); !st) {
    return st;
  }
  events_.emplace_back(kind, text);
  audits_.push_back(e);
  return ok_value;
}

result<std::string> memory_book::revoke(const std::string& id, const audit_entry& e) {
  if (auto st = refuse_if_failing(); !st) {
    return st.err();
  }
  std::string kind;
  for (const auto& cp : registry_.cps) {
    if (cp.id == id) {
      kind = "cp";
    }
  }
  for (const auto& d : registry_.drivers) {
    if (kind.empty() && d.id == id) {
      kind = "driver";
    }
  }
  if (kind.empty()) {
    return error{errc::unknown_cp, "no CP or driver " + id + " has a key"};
  }
  revoked_.insert(id);
  audits_.push_back(e);
  return kind;
}

result<network> load_network(charge_book& book) {
  auto registry = book.load_registry();
  if (!registry) {
    return registry.err();
  }
  auto stopped = book.stopped_cps();
  if (!stopped) {
    return stopped.err();
  }
  network model;
  for (auto& cp : registry->cps) {
    model.add_cp(cp);
  }
  for (auto& d : registry->drivers) {
    model.add_driver(d);
  }
  for (const auto& id : *stopped) {
    (void) model.stop(id);
  }
  (void) model.take_changes();
  return model;
}

// ---- central_machine -------------------------------------------------------------

central_machine::central_machine(charge_book& book, network model, std::uint64_t first_seq)
    : book_(book), model_(std::move(model)), seq_(first_seq), correlation_(first_seq) {
  (void) model_.take_changes();
  for (const auto& cp : model_.snapshot()) {
    shown_[cp.cp_id] = cp.state;
    published_[cp.cp_id] = public_info(cp);
  }
}

template <class T>
void central_machine::to_monitor(const std::string& cp_id, T body, std::uint64_t corr) {
  if (const auto* peer = peers_.monitor_of(cp_id)) {
    out_.send(*peer, std::move(body), corr);
  }
}

void central_machine::start(std::int64_t /*now*/) {
  json::array rows;
  for (const auto& cp : model_.snapshot()) {
    rows.push_back(json::value(cp_fields(cp)));
  }
  out_.notify("cps", {{"cps", std::move(rows)}});
  message("CENTRAL system status OK");
}

void central_machine::on_message(const std::string& peer, const protocol::message& msg, std::int64_t now) {
  on_message(peer, std::string{}, msg, now);
}

void central_machine::on_message(const std::string& peer, const std::string& user_id, const protocol::message& msg,
                                 std::int64_t now) {
  if (!user_id.empty() && revoked_.contains(user_id)) {
    return;  // a revoked key hears nothing more (the transport drops most of these already)
  }
  user_ = user_id;
  if (trusted(peer, msg, now)) {
    handle(peer, msg, now);
  }
  user_.clear();
  flush();
}

// ---- trust -------------------------------------------------------------------------------

// A charge started at an OCPP charge point: its gateway's Monitor (bound to
// that CP with the CP's key and its OCPP password) asks in the name of the
// driver whose idTag the charge point read. Central still checks that the
// driver is registered (network::can_charge) and the CP free.
bool central_machine::ocpp_request(const std::string& peer, const protocol::message& msg) const {
  const auto* r = std::get_if<protocol::charge_request>(&msg.payload);
  if (r == nullptr || is_local_driver(r->driver_id) || !ocpp_monitors_.contains(peer) ||
      !peers_.is_monitor_of(peer, r->cp_id)) {
    return false;
  }
  const auto key = parse_user_id(user_);
  return user_.empty() || (key.what == key_claim::kind::cp && key.id == r->cp_id);
}

bool central_machine::trusted(const std::string& peer, const protocol::message& msg, std::int64_t now) {
  if (user_.empty()) {
    return true;  // CURVE off: claims are taken as they come
  }
  if (ocpp_request(peer, msg)) {
    return true;
  }
  const auto why = forbidden(parse_user_id(user_), peers_.who(peer), msg.payload);
  if (!why) {
    return true;
  }
  refuse(peer, msg, *why, now);
  return false;
}

void central_machine::refuse(const std::string& peer, const protocol::message& msg, const std::string& reason,
                             std::int64_t now) {
  out_.send(peer, protocol::error_reply{errc::forbidden, reason}, msg.correlation);
  // A flood of forged messages costs one line and one row a second.
  const auto held = refusals_.admit(peer, now);
  if (!held) {
    return;
  }
  const std::string shown = printable_id(peer);
  const std::string type(msg.type());
  json::object fields{{"peer", shown}, {"identity", shown_id(user_)}, {"type", type}, {"reason", reason}};
  if (*held > 0) {
    fields.emplace("suppressed", *held);
  }
  out_.notify("refused", fields);
  const std::string claimed = claimed_by(msg);
  audit_entry e{now, peer_source(peer), claimed.empty() ? "refused" : "hello", {}, "refused: " + reason};
  if (!claimed.empty()) {
    e.params.emplace("claimed", claimed);
  }
  e.params.emplace("identity", shown_id(user_));
  e.params.emplace("peer", shown);
  e.params.emplace("type", type);
  if (*held > 0) {
    e.params.emplace("suppressed", *held);
  }
  if (auto st = book_.audit(e); !st) {
    store_error(st.err());
  }
}

void central_machine::audit_hello(const std::string& peer, const std::string& claimed, const std::string& outcome,
                                  std::int64_t now) {
  const bool refused = outcome != "ok";
  if (refused && !refusals_.admit(peer, now)) {
    return;  // a peer repeating a refused hello is audited once a second
  }
  audit_entry e{now, peer_source(peer), "hello",
                {{"claimed", claimed}, {"identity", shown_id(user_)}, {"peer", printable_id(peer)}}, outcome};
  if (auto st = book_.audit(e); !st) {
    store_error(st.err());
  }
}

void central_machine::on_admission(bool admitted, const std::string& identity, const std::string& key,
                                   const std::string& address, const std::string& detail, std::int64_t now) {
  // The key itself (Z85) goes into the parameters, where JSON escapes it.
  const std::string who = !identity.empty() ? "key " + shown_id(identity) : key.empty() ? "no key" : "unregistered key";
  const std::string source = who + " from " + (address.empty() ? std::string("an unknown address") : shown_id(address));
  json::object params{{"identity", identity}, {"key", key}, {"address", address}};
  if (admitted) {
    if (auto st = book_.audit(audit_entry{now, source, "auth", std::move(params), "admitted"}); !st) {
      store_error(st.err());
    }
    return;
  }
  const auto held = admissions_.admit(key.empty() ? "address " + address : "key " + key, now);
  if (!held) {
    return;
  }
  if (*held > 0) {
    params.emplace("suppressed", *held);
  }
  json::object fields{{"peer", shown_id(address)}, {"identity", shown_id(identity)}, {"type", "auth"},
                      {"reason", detail}};
  if (*held > 0) {
    fields.emplace("suppressed", *held);
  }
  out_.notify("refused", std::move(fields));
  if (auto st = book_.audit(audit_entry{now, source, "auth", std::move(params), "refused: " + detail}); !st) {
    store_error(st.err());
  }
}

void central_machine::on_rejected_frame(const std::string& peer, const std::string& user_id, const std::string& detail,
                                        std::int64_t now) {
  const auto held = malformed_.admit(peer, now);
  if (!held) {
    return;
  }
  audit_entry e{now, peer_source(peer), "malformed", {{"peer", printable_id(peer)}, {"identity", shown_id(user_id)}},
                "refused: " + detail};
  if (*held > 0) {
    e.params.emplace("suppressed", *held);
  }
  if (auto st = book_.audit(e); !st) {
    store_error(st.err());
  }
}

std::vector<std::string> central_machine::take_revoked() { return std::exchange(newly_revoked_, {}); }

void central_machine::readmit(const std::string& user_id) { revoked_.erase(user_id); }

void central_machine::on_snapshot_request(const std::string& peer, std::uint64_t corr, std::int64_t now) {
  // The table is for the network's own members, and cheap to ask for only a
  // few times a second.
  if (peers_.who(peer) == nullptr) {
    return out_.send(peer, protocol::error_reply{errc::unauthenticated, "introduce yourself before asking for the table"},
                     corr);
  }
  if (!snapshots_.take(peer, now)) {
    return out_.send(peer, protocol::error_reply{errc::too_many, "at most 3 snapshots a second"}, corr);
  }
  out_.send(peer, protocol::snapshot{seq_, public_snapshot(), stream_port_}, corr);
}

std::vector<protocol::cp_info> central_machine::public_snapshot() const {
  std::vector<protocol::cp_info> rows;
  for (auto& cp : model_.snapshot()) {
    rows.push_back(public_info(std::move(cp)));
  }
  return rows;
}

void central_machine::handle(const std::string& peer, const protocol::message& msg, std::int64_t now) {
  const auto corr = msg.correlation;
  if (const auto* a = std::get_if<protocol::cp_auth>(&msg.payload)) {
    return on_cp_auth(peer, corr, *a, now);
  }
  if (const auto* h = std::get_if<protocol::engine_hello>(&msg.payload)) {
    return on_engine_hello(peer, corr, *h, now);
  }
  if (const auto* h = std::get_if<protocol::driver_hello>(&msg.payload)) {
    return on_driver_hello(peer, corr, *h, now);
  }
  if (msg.is<protocol::snapshot_request>()) {
    return on_snapshot_request(peer, corr, now);
  }
  if (msg.is<protocol::error_reply>() || msg.is<protocol::heartbeat>()) {
    return;  // a peer's complaint is the owner's to log; never answered
  }
  switch (peers_.judge(peer, msg.payload)) {
  case verdict::unauthenticated:
    return out_.send(peer, protocol::error_reply{errc::unauthenticated, "authenticate first (hello or cp_auth)"}, corr);
  case verdict::unexpected:
    return out_.send(
        peer, protocol::error_reply{errc::unexpected, "CENTRAL does not accept " + std::string(msg.type()) + " from this peer"},
        corr);
  case verdict::not_allowed: {
    if (ocpp_request(peer, msg)) {
      break;
    }
    const auto& r = msg.as<protocol::charge_request>();
    return out_.send(peer, protocol::charge_reply{false, "not allowed to request this charge", r.cp_id, "", r.request_id},
                     corr);
  }
  case verdict::allowed:
    break;
  }
  const peer_identity& who = *peers_.who(peer);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, protocol::cp_status>) {
          on_cp_status(peer, body, now);
        } else if constexpr (std::is_same_v<T, protocol::authorize_reply>) {
          on_authorize_reply(body, now);
        } else if constexpr (std::is_same_v<T, protocol::decision_ack>) {
          on_decision_ack(body);
        } else if constexpr (std::is_same_v<T, protocol::ack>) {
          on_ack(who.id, corr, body);
        } else if constexpr (std::is_same_v<T, protocol::charge_request>) {
          on_charge_request(peer, corr, body, now);
        } else if constexpr (std::is_same_v<T, protocol::telemetry>) {
          on_telemetry(body);
        } else if constexpr (std::is_same_v<T, protocol::charge_finished>) {
          on_charge_finished(peer, corr, body.record, now);
        } else if constexpr (std::is_same_v<T, protocol::ticket_ack>) {
          on_ticket_ack(peer, who.id, msg, now);
        }
      },
      msg.payload);
}

void central_machine::on_peer_gone(const std::string& peer, std::int64_t /*now*/) {
  ocpp_monitors_.erase(peer);
  if (auto who = peers_.forget(peer)) {
    lost(*who);
  }
  flush();
}

// ---- introductions -----------------------------------------------------------------

void central_machine::on_cp_auth(const std::string& peer, std::uint64_t corr, const protocol::cp_auth& a,
                                 std::int64_t now) {
  // A Monitor re-authenticating on the same link keeps its session.
  const bool same_link = peers_.is_monitor_of(peer, a.cp_id);
  if (!same_link && !a.ocpp_password.empty() && !(ocpp_check_ && ocpp_check_(a.cp_id, a.ocpp_password))) {
    // An OCPP charge point whose Basic credentials do not match: the gateway
    // refuses its WebSocket upgrade. The reason does not say which part was
    // wrong; the audit row says it was the password.
    const std::string why = "OCPP credentials refused for " + a.cp_id;
    audit_hello(peer, "cp:" + a.cp_id, "refused: wrong OCPP password", now);
    out_.send(peer, protocol::cp_auth_reply{false, why, {}, errc::forbidden}, corr);
    out_.notify("auth", {{"cp", a.cp_id}, {"ok", false}, {"reason", why}});
    message("authentication denied for " + a.cp_id + ": wrong OCPP password");
    return;
  }
  if (!same_link) {
    auto record = model_.authenticate(a.cp_id);
    if (!record) {
      audit_hello(peer, "cp:" + a.cp_id, "refused: " + record.err().message, now);
      out_.send(peer, protocol::cp_auth_reply{false, record.err().message, {}, record.err().code}, corr);
      out_.notify("auth", {{"cp", a.cp_id}, {"ok", false}, {"reason", record.err().message}});
      message("authentication denied for " + a.cp_id + ": " + record.err().message);
      return;
    }
    if (auto b = peers_.bind(peer, peer_identity{peer_role::monitor, a.cp_id}); b.lost) {
      lost(*b.lost);
    }
  }
  if (!a.ocpp_password.empty()) {
    ocpp_monitors_.insert(peer);  // its password was checked above
  }
  const auto& r = model_.find(a.cp_id)->record;
  out_.send(peer, protocol::cp_auth_reply{true, "", {r.id, r.location, r.price}}, corr);
  if (!same_link) {
    audit_hello(peer, "cp:" + a.cp_id, "ok", now);
    out_.notify("auth", {{"cp", a.cp_id}, {"ok", true}, {"reason", ""}});
    message("authentication accepted for " + a.cp_id);
  }
  // Bring the CP in line with the operator's last word (including a STOP
  // given while it was away) and ask again what it may not have heard.
  reapply(a.cp_id, now);
  for (auto& req : fence_.pending_for(a.cp_id)) {
    to_monitor(a.cp_id, std::move(req), ++correlation_);
  }
}

void central_machine::on_engine_hello(const std::string& peer, std::uint64_t corr, const protocol::engine_hello& h,
                                      std::int64_t now) {
  if (!model_.knows_cp(h.cp_id)) {
    audit_hello(peer, "cp:" + h.cp_id, "refused: CP " + h.cp_id + " is not registered", now);
    out_.send(peer, protocol::ack{false, "CP " + h.cp_id + " is not registered"}, corr);
    return;
  }
  auto b = peers_.bind(peer, peer_identity{peer_role::engine, h.cp_id});
  if (b.lost) {
    lost(*b.lost);
  }
  out_.send(peer, protocol::ack{true, ""}, corr);
  if (b.is_new) {
    audit_hello(peer, "cp:" + h.cp_id, "ok", now);
    out_.notify("engine", {{"cp", h.cp_id}, {"status", "connected"}});
    // A restarted Engine has forgotten a STOP (it keeps it in memory only).
    if (model_.find(h.cp_id)->condition.stopped) {
      order(h.cp_id, cp_order::stop, /*announced=*/false, now);
    }
  }
}

void central_machine::on_driver_hello(const std::string& peer, std::uint64_t corr, const protocol::driver_hello& h,
                                      std::int64_t now) {
  if (!model_.knows_driver(h.driver_id)) {
    audit_hello(peer, "driver:" + h.driver_id, "refused: driver " + h.driver_id + " is not registered", now);
    out_.send(peer, protocol::ack{false, "driver " + h.driver_id + " is not registered"}, corr);
    return;
  }
  auto b = peers_.bind(peer, peer_identity{peer_role::driver, h.driver_id});
  if (b.lost) {
    lost(*b.lost);
  }
  out_.send(peer, protocol::ack{true, ""}, corr);
  if (!b.is_new) {
    return;
  }
  audit_hello(peer, "driver:" + h.driver_id, "ok", now);
  auto owed = book_.undelivered_tickets(h.driver_id);
  if (!owed) {
    return store_error(owed.err());
  }
  for (const auto& r : *owed) {
    tickets_.owe(r, now);
    send_ticket(r);
  }
}

void central_machine::lost(const peer_identity& who, const std::string& why) {
  switch (who.role) {
  case peer_role::monitor: {
    fence_.monitor_gone(who.id);
    auto running = model_.monitor_lost(who.id);
    message(who.id + " disconnected (" + why + ")");
    if (running) {
      // The Engine ends the charge itself when its Monitor goes silent and
      // reports the final figures; the ticket follows from that report.
      interrupt(who.id, *running, "CP " + who.id + " disconnected");
    }
    break;
  }
  case peer_role::engine:
    break;
  case peer_role::driver:
    tickets_.forget_driver(who.id);  // they wait in the book for its next hello
    break;
  }
}

// ---- CP health -------------------------------------------------------------------------

void central_machine::on_cp_status(const std::string& peer, const protocol::cp_status& s, std::int64_t now) {
  const auto* entry = model_.find(s.cp_id);
  const bool was_ok = entry->condition.engine_ok;
  const bool was_out = entry->condition.out_of_service;
  model_.engine_status(s.cp_id, s.engine_ok, s.out_of_service);
  // A fault and a recovery are logged and audited in one transaction.
  const auto log = [&](const std::string& kind, const std::string& text) {
    out_.notify("message", {{"text", text}});
    const audit_entry e{now, peer_source(peer), kind, {{"cp", s.cp_id}, {"detail", s.detail}}, "ok"};
    if (auto st = book_.log_and_audit(kind, text, e); !st) {
      store_error(st.err());
    }
  };
  if (was_ok && !s.engine_ok) {
    out_.notify("fault", {{"cp", s.cp_id}, {"detail", s.detail}});
    log("fault", s.cp_id + " reported a fault: " + s.detail);
    if (entry->charge && !interrupted_.contains(entry->charge->charge_id)) {
      interrupt(s.cp_id, *entry->charge, "CP " + s.cp_id + " reported a fault: " + s.detail);
    }
  } else if (!was_ok && s.engine_ok) {
    out_.notify("recovered", {{"cp", s.cp_id}, {"detail", s.detail}});
    log("recovery", s.cp_id + " recovered");
  }
  // Out of service by its own say (an OCPP charge point's Unavailable): a
  // charge already running goes on (the charge point ends it and reports
  // it); no new charge is authorised until it is back in service.
  if (!was_out && s.out_of_service) {
    out_.notify("out_of_service", {{"cp", s.cp_id}, {"out_of_service", true}});
    log("out_of_service", s.cp_id + " reports itself out of service");
  } else if (was_out && !s.out_of_service) {
    out_.notify("out_of_service", {{"cp", s.cp_id}, {"out_of_service", false}});
    log("in_service", s.cp_id + " reports itself back in service");
  }
}

void central_machine::interrupt(const std::string& cp_id, const session& s, const std::string& reason) {
  interrupted_.insert(s.charge_id);
  out_.notify("interrupted", {{"cp", cp_id}, {"charge_id", s.charge_id}, {"driver", s.driver_id}, {"kwh", s.kwh},
                              {"amount", s.amount}, {"reason", reason}});
  if (const auto* peer = peers_.driver_peer(s.driver_id)) {
    out_.send(*peer, protocol::charge_interrupted{cp_id, s.charge_id, s.kwh, s.amount, reason});
  }
}

// ---- charges ------------------------------------------------------------------------------

void central_machine::on_charge_request(const std::string& peer, std::uint64_t corr, const protocol::charge_request& req,
                                        std::int64_t now) {
  const auto seen = requests_.on_request(req, peer, corr);
  if (seen.state == request_ledger::seen::answered) {
    return out_.send(peer, seen.answer, corr);  // a retry: same answer, no second charge
  }
  if (seen.state == request_ledger::seen::in_flight) {
    return;  // still asking the CP; the answer goes to this asker
  }
  // A yes an earlier Central gave (its answers died with it) is given again.
  if (auto yes = book_.yes_for(req.driver_id, req.request_id); yes.ok() && yes->has_value()) {
    if (auto waiter = requests_.answer(req.driver_id, req.request_id, **yes)) {
      out_.send(waiter->peer, **yes, waiter->correlation);
    }
    return;
  }
  out_.notify("request", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"duration", req.duration_s},
                          {"request_id", req.request_id}});
  auto allowed = model_.can_charge(req.cp_id, req.driver_id, req.duration_s);
  if (allowed && fence_.pending_at(req.cp_id)) {
    allowed = error{errc::busy, "CP " + req.cp_id + " is busy"};  // one authorisation at a time
  }
  if (!allowed) {
    return answer(req, protocol::charge_reply{false, allowed.err().message, req.cp_id, "", req.request_id});
  }
  protocol::authorize_request ask{req.cp_id, req.driver_id, req.duration_s, req.request_id};
  fence_.open(ask, now);
  to_monitor(req.cp_id, std::move(ask), ++correlation_);
}

void central_machine::answer(const protocol::charge_request& req, protocol::charge_reply r) {
  if (r.ok) {
    out_.notify("authorized", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"charge_id", r.charge_id}});
    message("charge authorized: " + req.driver_id + " at " + req.cp_id);
  } else {
    out_.notify("denied", {{"driver", req.driver_id}, {"cp", req.cp_id}, {"reason", r.reason}});
    message("charge denied: " + req.driver_id + " at " + req.cp_id + ": " + r.reason);
  }
  if (auto waiter = requests_.answer(req.driver_id, req.request_id, r)) {
    out_.send(waiter->peer, std::move(r), waiter->correlation);
  }
}

void central_machine::on_authorize_reply(const protocol::authorize_reply& r, std::int64_t now) {
  status allowed = ok_value;
  if (const auto* p = fence_.pending(r.cp_id, r.request_id)) {
    allowed = model_.can_charge(p->cp_id, p->driver_id, p->duration_s);
  }
  // A charge an earlier Central confirmed (its yes or its record is in the
  // book; this Central restarted and lost the fence's memory) is confirmed
  // again and started no more: its telemetry or its record follows.
  bool already_ran = false;
  if (r.ok && !r.charge_id.empty()) {
    const auto known = book_.knows_charge(r.cp_id, r.charge_id);
    already_ran = known.ok() && *known;
  }
  auto decided = fence_.on_reply(r, allowed.ok(), now, already_ran);
  const auto req = request_of(decided.request);
  switch (decided.kind) {
  case authorization_fence::outcome::confirmed: {
    if (!already_ran) {
      session s;
      s.charge_id = r.charge_id;
      s.driver_id = req.driver_id;
      s.duration_s = req.duration_s;
      s.started_ms = now;
      model_.charge_started(req.cp_id, s);
    }
    if (auto st = book_.record_yes(req, r.charge_id); !st) {
      store_error(st.err());
    }
    (void) book_.log_event("authorized", req.driver_id + " at " + req.cp_id + " charge " + r.charge_id);
    answer(req, protocol::charge_reply{true, "", req.cp_id, r.charge_id, req.request_id});
    break;
  }
  case authorization_fence::outcome::cancelled:
    if (decided.was_pending) {
      const auto reason = allowed ? "CP " + req.cp_id + " offered charge " + r.charge_id + ", which was refused before"
                                  : allowed.err().message;
      answer(req, protocol::charge_reply{false, reason, req.cp_id, "", req.request_id});
    } else {
      message("late authorisation of charge " + r.charge_id + " at " + r.cp_id + " cancelled");
    }
    break;
  case authorization_fence::outcome::refused_by_cp:
    answer(req, protocol::charge_reply{false, "CP " + req.cp_id + " refused: " + r.reason, req.cp_id, "",
                                       req.request_id});
    break;
  case authorization_fence::outcome::repeated:
  case authorization_fence::outcome::ignored:
    break;
  }
  if (decided.decision) {
    to_monitor(r.cp_id, std::move(*decided.decision), ++correlation_);
  }
}

void central_machine::on_decision_ack(const protocol::decision_ack& a) {
  if (fence_.on_decision_ack(a) != authorization_fence::ack_outcome::late_confirm) {
    return;
  }
  // The CP dropped the reservation before our yes arrived: nothing was
  // supplied. End the charge we had announced; nothing is billed.
  if (auto s = model_.charge_dropped(a.cp_id, a.charge_id)) {
    s->kwh = 0.0;
    s->amount = 0.0;
    interrupt(a.cp_id, *s, "the CP dropped the authorisation");
    interrupted_.erase(s->charge_id);  // no record will follow
  }
}

void central_machine::on_telemetry(const protocol::telemetry& t) {
  // The fence decides what may be adopted: a refused charge never is,
  // whatever its Engine says.
  const bool refused = fence_.refused(t.cp_id, t.charge_id);
  if (!refused) {
    fence_.supplied(t.cp_id, t.charge_id);  // telemetry: the yes arrived
  }
  if (!model_.charge_progress(t, /*adoptable=*/!refused)) {
    return;
  }
  out_.notify("telemetry", {{"cp", t.cp_id}, {"charge_id", t.charge_id}, {"driver", t.driver_id}, {"kwh", t.kwh},
                            {"amount", t.amount}});
  if (const auto* peer = peers_.driver_peer(t.driver_id)) {
    out_.send(*peer, protocol::progress{t.cp_id, t.charge_id, t.kwh, t.amount});
  }
}

void central_machine::on_charge_finished(const std::string& peer, std::uint64_t corr, const protocol::charge_record& r,
                                         std::int64_t now) {
  if (fence_.refused(r.cp_id, r.charge_id)) {
    // Acknowledged so that the Engine stops resending it; never billed.
    out_.send(peer, protocol::record_ack{r.cp_id, r.charge_id}, corr);
    out_.notify("error", {{"code", errc::refused},
                          {"message", "charge " + r.charge_id + " at " + r.cp_id + " was refused: not billed"}});
    return;
  }
  fence_.supplied(r.cp_id, r.charge_id);
  if (bill(r, now)) {
    out_.send(peer, protocol::record_ack{r.cp_id, r.charge_id}, corr);
  }  // else not acknowledged: the Engine sends it again
}

bool central_machine::bill(const protocol::charge_record& r, std::int64_t now) {
  auto stored = book_.record_charge(r);
  if (!stored) {
    store_error(stored.err());
    return false;
  }
  model_.charge_finished(r);
  if (!*stored) {
    return true;  // already ticketed: a retry never bills twice
  }
  interrupted_.erase(r.charge_id);
  out_.notify("ticket", ticket_fields(r));
  char figures[64];
  std::snprintf(figures, sizeof figures, "%.0f kWh, %.2f EUR", r.kwh, r.amount);
  message("ticket " + r.cp_id + " " + r.driver_id + ": " + figures + " (" + std::string(to_string(r.reason)) + ")");
  if (!is_local_driver(r.driver_id) && peers_.driver_peer(r.driver_id) != nullptr) {
    tickets_.owe(r, now);
    send_ticket(r);
  }
  return true;
}

void central_machine::send_ticket(const protocol::charge_record& r) {
  if (const auto* peer = peers_.driver_peer(r.driver_id)) {
    out_.send(*peer, protocol::ticket{r});
  }
}

void central_machine::on_ticket_ack(const std::string& peer, const std::string& driver_id, const protocol::message& msg,
                                    std::int64_t now) {
  const auto& a = msg.as<protocol::ticket_ack>();
  // Only the driver a ticket was sent to may settle it; another one trying
  // is refused (without learning whose it is). An ack for a ticket no longer
  // owed is a harmless retry.
  if (const auto* owner = tickets_.owner(a.cp_id, a.charge_id); owner != nullptr && *owner != driver_id) {
    return refuse(peer, msg, "driver " + driver_id + " may not acknowledge a ticket it is not owed", now);
  }
  if (!tickets_.owed_to(driver_id, a.cp_id, a.charge_id)) {
    return;
  }
  if (auto st = book_.mark_delivered(a.cp_id, a.charge_id); !st) {
    return store_error(st.err());  // still owed: resent, acknowledged again
  }
  tickets_.settle(a.cp_id, a.charge_id);
  // The operator (and a script) can tell a ticket the driver holds from one
  // still owed.
  out_.notify("delivered", {{"cp", a.cp_id}, {"charge_id", a.charge_id}, {"driver", driver_id}});
}

// ---- operator orders --------------------------------------------------------------------

void central_machine::on_operator(const operator_command& cmd, std::int64_t now) {
  switch (cmd.verb) {
  case operator_verb::none:
    break;
  case operator_verb::quit:
    out_.notify("message", {{"text", "CENTRAL shutting down"}});
    quit_ = true;
    break;
  case operator_verb::list: {
    json::array rows;
    for (const auto& cp : model_.snapshot()) {
      rows.push_back(json::value(cp_fields(cp)));
    }
    out_.notify("cps", {{"cps", std::move(rows)}});
    break;
  }
  case operator_verb::order:
    for (const auto& id : cmd.all ? model_.cp_ids() : std::vector<std::string>{cmd.target}) {
      if (auto st = model_.order(id, cmd.order); !st) {
        out_.notify("command", {{"command", cmd.order}, {"cp", id}, {"ok", false}, {"reason", st.err().message}});
        message(spelled(cmd.order) + " " + id + ": " + st.err().message);
        continue;
      }
      const bool stop = cmd.order == cp_order::stop;
      const audit_entry e{now, "operator", stop ? "stop" : "resume", {{"cp", id}}, "ok"};
      if (auto saved = book_.set_stopped(id, stop, e); !saved) {
        store_error(saved.err());
      }
      order(id, cmd.order, /*announced=*/true, now);
    }
    break;
  case operator_verb::revoke:
    revoke(cmd.target, now);
    break;
  case operator_verb::add: {
    cp_record r{cmd.target, cmd.location, cmd.price};
    if (auto added = book_.add_cp(r); !added) {
      return store_error(added.err());
    }
    model_.add_cp(r);
    message("CP " + r.id + " registered at " + r.location);
    break;
  }
  }
  flush();
}

void central_machine::revoke(const std::string& id, std::int64_t now) {
  auto kind = book_.revoke(id, audit_entry{now, "operator", "revoke", {{"id", id}}, "ok"});
  if (!kind) {
    out_.notify("error", {{"code", kind.err().code}, {"message", "revoke " + id + ": " + kind.err().message}});
    return;
  }
  cut_off(*kind == "cp", id, now);
}

void central_machine::on_revoked_elsewhere(const std::string& user_id, std::int64_t now) {
  const auto key = parse_user_id(user_id);
  const bool cp = key.what == key_claim::kind::cp;
  if ((!cp && key.what != key_claim::kind::driver) || revoked_.contains(user_id)) {
    return;
  }
  cut_off(cp, key.id, now);
  flush();
}

void central_machine::reload_registry(std::int64_t /*now*/) {
  auto registry = book_.load_registry();
  if (!registry) {
    store_error(registry.err());
    return;
  }
  for (const auto& cp : registry->cps) {
    const auto* known = model_.find(cp.id);
    if (known == nullptr || !(known->record == cp)) {
      model_.add_cp(cp);
      message("CP " + cp.id + " registered at " + cp.location);
    }
  }
  for (const auto& d : registry->drivers) {
    if (!model_.knows_driver(d.id)) {
      model_.add_driver(d);
    }
  }
  flush();
}

// Everything a revoked key held ends now.
void central_machine::cut_off(bool cp, const std::string& id, std::int64_t now) {
  const std::string user = (cp ? "cp:" : "driver:") + id;
  if (revoked_.insert(user).second) {
    newly_revoked_.push_back(user);
  }
  const std::string why = "key revoked";
  if (cp) {
    // Its charge ends now, billed for what was supplied; its pending
    // authorisations are answered no; then its Monitor and Engine are
    // forgotten and the CP shows DISCONNECTED.
    end_revoked_charge(id, now);
    for (const auto& ask : fence_.withdraw(id, {})) {
      answer(request_of(ask), protocol::charge_reply{false, "CP " + id + " is no longer trusted (key revoked)", id, "",
                                                     ask.request_id});
    }
    std::vector<std::string> holders;
    for (const auto* holder : {peers_.monitor_of(id), peers_.engine_of(id)}) {
      if (holder != nullptr) {
        holders.push_back(*holder);
      }
    }
    for (const auto& routing_id : holders) {
      if (auto who = peers_.forget(routing_id)) {
        lost(*who, why);
      }
    }
  } else {
    // Its requests die with it (no answer reaches a revoked key); a charge
    // already running goes on at its CP and is billed as usual.
    for (const auto& ask : fence_.withdraw({}, id)) {
      (void) requests_.answer(ask.driver_id, ask.request_id,
                              protocol::charge_reply{false, "key revoked", ask.cp_id, "", ask.request_id});
    }
    if (const auto* holder = peers_.driver_peer(id)) {
      const std::string routing_id = *holder;
      if (auto who = peers_.forget(routing_id)) {
        lost(*who, why);
      }
    }
  }
  out_.notify("revoked", {{"id", id}, {"kind", cp ? "cp" : "driver"}});
  message("key of " + std::string(cp ? "CP " : "driver ") + id + " revoked: nothing signed by it is accepted any more");
}

void central_machine::end_revoked_charge(const std::string& cp_id, std::int64_t now) {
  const auto* entry = model_.find(cp_id);
  if (entry == nullptr || !entry->charge) {
    return;
  }
  const session s = *entry->charge;
  protocol::charge_record r;
  r.cp_id = cp_id;
  r.charge_id = s.charge_id;
  r.driver_id = s.driver_id;
  r.kwh = s.kwh;  // as its last telemetry said
  r.price = entry->record.price;
  r.amount = amount_for(r.kwh, r.price);
  r.start_ms = s.started_ms;
  r.end_ms = now;
  r.reason = end_reason::revoked;
  fence_.supplied(cp_id, s.charge_id);
  // A store failure leaves the charge running in the model: its Engine's own
  // record (under a new key) or the operator can still settle it.
  (void) bill(r, now);
}

void central_machine::order(const std::string& cp_id, cp_order what, bool announced, std::int64_t now) {
  if (peers_.monitor_of(cp_id) == nullptr) {
    if (announced) {
      out_.notify("command", {{"command", what}, {"cp", cp_id}, {"ok", true},
                              {"reason", "CP is disconnected; applied when it returns"}});
      message(cp_id + " " + spelled(what) + " pending until it reconnects");
    }
    return;
  }
  const auto o = commands_.issue(cp_id, what, announced, ++correlation_, now);
  to_monitor(cp_id, protocol::cp_command{cp_id, what, "operator"}, o.correlation);
}

void central_machine::reapply(const std::string& cp_id, std::int64_t now) {
  order(cp_id, model_.find(cp_id)->condition.stopped ? cp_order::stop : cp_order::resume, /*announced=*/false, now);
}

void central_machine::on_ack(const std::string& cp_id, std::uint64_t corr, const protocol::ack& a) {
  const auto s = commands_.on_ack(cp_id, corr);
  if (!s || !s->report) {
    return;
  }
  out_.notify("command", {{"command", s->o.what}, {"cp", cp_id}, {"ok", a.ok}, {"reason", a.reason}});
  message(cp_id + (s->o.what == cp_order::stop ? " out of order" : " resumed") +
          (a.ok ? std::string{} : " (CP answered: " + a.reason + ")"));
}

// ---- time ------------------------------------------------------------------------------------

void central_machine::on_tick(std::int64_t now) {
  // An unacknowledged STOP/RESUME still holds in the model (and is applied
  // again when the CP re-authenticates); the operator is told it is pending.
  for (const auto& o : commands_.overdue(now)) {
    out_.notify("command", {{"command", o.what}, {"cp", o.cp_id}, {"ok", false},
                            {"reason", "the CP did not acknowledge; applied when it reconnects"}});
    message(o.cp_id + " did not acknowledge " + spelled(o.what));
  }
  for (const auto& o : commands_.due(now)) {
    to_monitor(o.cp_id, protocol::cp_command{o.cp_id, o.what, "operator"}, o.correlation);
  }
  for (auto& ask : fence_.ask_again(now)) {
    to_monitor(ask.cp_id, ask, ++correlation_);
  }
  for (const auto& ask : fence_.expire(now)) {
    answer(request_of(ask), protocol::charge_reply{false, "CP " + ask.cp_id + " did not answer", ask.cp_id, "",
                                                   ask.request_id});
  }
  for (const auto& d : fence_.due(now)) {
    to_monitor(d.cp_id, d, ++correlation_);
  }
  // Tickets are resent until acknowledged; the driver deduplicates.
  for (const auto& r : tickets_.due(now)) {
    send_ticket(r);
  }
  refusals_.prune(now);
  admissions_.prune(now);
  malformed_.prune(now);
  snapshots_.prune(now);
  flush();
  // After flush(): the heartbeat names the last update this tick published.
  if (!last_hugz_ms_ || now - *last_hugz_ms_ >= stream_heartbeat_ms) {
    last_hugz_ms_ = now;
    hugz_ = protocol::stream_heartbeat{seq_};
  }
}

// ---- outputs -----------------------------------------------------------------------------------

void central_machine::message(const std::string& text) {
  out_.notify("message", {{"text", text}});
  (void) book_.log_event("message", text);
}

void central_machine::store_error(const error& e) {
  out_.notify("error", {{"code", e.code}, {"message", e.message}});
}

// Publishes every CP whose public info changed (one stream message each)
// and tells the view about state changes.
void central_machine::flush() {
  for (const auto& id : model_.take_changes()) {
    auto info = model_.info(id);
    const auto shown = shown_.find(id);
    if (shown == shown_.end() || shown->second != info.state) {
      shown_[id] = info.state;
      out_.notify("cp_state", cp_fields(info));
      (void) book_.log_event("cp_state", id + " " + std::string(to_string(info.state)));
    }
    // The stream is public: only a change anyone may see is published.
    auto visible = public_info(std::move(info));
    if (const auto was = published_.find(id); was != published_.end() && same_public_fields(was->second, visible)) {
      continue;
    }
    published_[id] = visible;
    out_.publish(protocol::cp_update{++seq_, std::move(visible)});
  }
}

} // namespace evnet::domain

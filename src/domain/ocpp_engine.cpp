#include "evnet/domain/ocpp_engine.hpp"

#include "evnet/domain/billing.hpp"

#include <algorithm>
#include <array>
#include <variant>

namespace evnet::domain {

namespace {

struct status_name {
  ocpp_status status;
  std::string_view name;
};

constexpr std::array<status_name, 9> status_names{{
    {ocpp_status::available, "Available"},
    {ocpp_status::preparing, "Preparing"},
    {ocpp_status::charging, "Charging"},
    {ocpp_status::suspended_ev, "SuspendedEV"},
    {ocpp_status::suspended_evse, "SuspendedEVSE"},
    {ocpp_status::finishing, "Finishing"},
    {ocpp_status::reserved, "Reserved"},
    {ocpp_status::unavailable, "Unavailable"},
    {ocpp_status::faulted, "Faulted"},
}};

error store_failure() { return error{errc::store, "the gateway's store is failing"}; }

json::object id_tag_info(std::string_view status) { return json::object{{"status", std::string(status)}}; }

} // namespace

std::optional<ocpp_status> parse_ocpp_status(std::string_view s) {
  for (const auto& n : status_names) {
    if (n.name == s) {
      return n.status;
    }
  }
  return std::nullopt;
}

std::string_view to_string(ocpp_status s) {
  for (const auto& n : status_names) {
    if (n.status == s) {
      return n.name;
    }
  }
  return "Unknown";
}

cp_state state_for(ocpp_status s) {
  switch (s) {
    case ocpp_status::charging:
    case ocpp_status::suspended_ev:
    case ocpp_status::suspended_evse:
    case ocpp_status::finishing:
      return cp_state::busy;
    case ocpp_status::faulted:
      return cp_state::broken;
    case ocpp_status::unavailable:
      return cp_state::out_of_order;
    case ocpp_status::available:
    case ocpp_status::preparing:
    case ocpp_status::reserved:
      break;
  }
  return cp_state::active;
}

// ---- memory_ocpp_ledger ---------------------------------------------------------------

result<ocpp_transaction> memory_ocpp_ledger::open_transaction(const ocpp_transaction& t) {
  if (failing) {
    return store_failure();
  }
  for (const auto& [id, known] : transactions_) {
    if (known.cp_id == t.cp_id && known.charge_id == t.charge_id) {
      return known;
    }
  }
  ocpp_transaction made = t;
  made.id = next_id_++;
  made.closed = false;
  transactions_[made.id] = made;
  return made;
}

result<std::optional<ocpp_transaction>> memory_ocpp_ledger::transaction(std::int64_t id) {
  if (failing) {
    return store_failure();
  }
  const auto it = transactions_.find(id);
  return it == transactions_.end() ? std::optional<ocpp_transaction>{} : std::optional<ocpp_transaction>{it->second};
}

result<std::optional<ocpp_transaction>> memory_ocpp_ledger::open_transaction_of(const std::string& cp_id) {
  if (failing) {
    return store_failure();
  }
  for (const auto& [id, t] : transactions_) {
    if (t.cp_id == cp_id && !t.closed) {
      return std::optional<ocpp_transaction>{t};
    }
  }
  return std::optional<ocpp_transaction>{};
}

status memory_ocpp_ledger::close_transaction(std::int64_t id) {
  if (failing) {
    return store_failure();
  }
  if (auto it = transactions_.find(id); it != transactions_.end()) {
    it->second.closed = true;
  }
  return ok_value;
}

// ---- ocpp_engine: construction and evnet's side -----------------------------------------

ocpp_engine::ocpp_engine(std::string cp_id, ocpp_ledger& ledger, std::int64_t now)
    : cp_id_(std::move(cp_id)), ledger_(ledger), records_(ledger, out_, now) {
  // (The gateway saves no open charge: its transactions stand for them.)
  (void)records_.recover();
  // The charge point still holds its transaction: it goes on until its
  // StopTransaction, whenever that comes.
  if (auto open = ledger_.open_transaction_of(cp_id_); !open) {
    error_notice(errc::store, open.err().message);
  } else if (*open) {
    tx_ = **open;
    tx_started_ms_ = now;
  }
  settle_state();
}

void ocpp_engine::on_monitor(const protocol::message& msg, std::int64_t now) {
  deadlines(now);
  const auto corr = msg.correlation;
  if (std::holds_alternative<protocol::health_check>(msg.payload)) {
    on_health(corr);
  } else if (const auto* c = std::get_if<protocol::engine_configure>(&msg.payload)) {
    on_configure(corr, c->config, now);
  } else if (const auto* req = std::get_if<protocol::authorize_request>(&msg.payload)) {
    on_authorize(corr, *req, now);
  } else if (const auto* d = std::get_if<protocol::authorize_decision>(&msg.payload)) {
    on_decision(corr, *d, now);
  } else if (const auto* cmd = std::get_if<protocol::cp_command>(&msg.payload)) {
    on_cp_command(corr, *cmd, now);
  } else if (!msg.is<protocol::error_reply>() && !msg.is<protocol::ack>()) {
    to_monitor(protocol::error_reply{errc::unexpected, std::string(msg.type()) + " is not for the Engine"}, corr);
  }
  settle_state();
}

void ocpp_engine::on_central(const protocol::message& msg, std::int64_t now) {
  deadlines(now);
  if (const auto* a = std::get_if<protocol::record_ack>(&msg.payload)) {
    records_.on_record_ack(*a);
  } else if (const auto* e = std::get_if<protocol::error_reply>(&msg.payload);
             e != nullptr && e->code == errc::unauthenticated) {
    records_.on_unauthenticated(now);
  }
  settle_state();
}

void ocpp_engine::on_central_connected(std::int64_t now) {
  records_.on_connected(now);
  settle_state();
}

void ocpp_engine::on_central_disconnected(std::int64_t /*now*/) { records_.on_disconnected(); }

void ocpp_engine::on_tick(std::int64_t now) {
  deadlines(now);
  records_.on_tick(now);
  settle_state();
}

// ---- the charge point's side ----------------------------------------------------------------

void ocpp_engine::on_connected(std::int64_t now) {
  deadlines(now);
  online_ = true;
  out_.notify("charge_point", {{"cp", cp_id_}, {"status", "connected"}});
  settle_state();
}

void ocpp_engine::on_disconnected(std::int64_t now) {
  deadlines(now);
  online_ = false;
  held_.reset();  // its answer has nowhere to go
  wanted_.reset();
  out_.notify("charge_point", {{"cp", cp_id_}, {"status", "disconnected"}});
  // Nothing can start on a charge point we cannot reach; a charge that runs
  // goes on there and is settled by its queued StopTransaction.
  if (pending_ && !pending_->confirmed) {
    out_.notify("cancelled", {{"cp", cp_id_},
                              {"charge_id", pending_->charge_id},
                              {"driver", pending_->driver_id},
                              {"reason", "the charge point disconnected"}});
    pending_.reset();
  } else if (pending_) {
    never_started("the charge point disconnected before starting", now);
  }
  settle_state();
}

void ocpp_engine::on_status(int connector, ocpp_status s, std::int64_t now) {
  deadlines(now);
  // Connector 0 is the whole charge point; evnet's CPs have one connector.
  if (connector == 0 || connector == 1) {
    status_ = s;
    out_.notify("ocpp_status", {{"cp", cp_id_}, {"connector", connector}, {"status", std::string(to_string(s))}});
  }
  settle_state();
}

void ocpp_engine::on_start_transaction(const std::string& call_id, const std::string& id_tag,
                                       std::int64_t meter_start_wh, std::int64_t timestamp_ms, std::int64_t now) {
  deadlines(now);
  // A StartTransaction sent again (the charge point did not get our answer):
  // the same transaction.
  if (tx_ && tx_->driver_id == id_tag && tx_->meter_start_wh == meter_start_wh && tx_->started_ms == timestamp_ms) {
    answers_.push_back(ocpp_answer{call_id, {{"transactionId", tx_->id}, {"idTagInfo", id_tag_info("Accepted")}}});
    return;
  }
  if (pending_ && pending_->confirmed && !tx_ && id_tag == pending_->driver_id && config_) {
    start_transaction(call_id, meter_start_wh, timestamp_ms, now);
    settle_state();
    return;
  }
  // A charge the charge point started on its own: Central is asked for it.
  if (can_hold()) {
    hold(held_call{call_id, "StartTransaction", id_tag, meter_start_wh, timestamp_ms, now});
    settle_state();
    return;
  }
  refuse_start(call_id, id_tag, meter_start_wh, timestamp_ms, tx_ ? "ConcurrentTx" : "Invalid",
               tx_ ? "another transaction is running" : "the charge point cannot start a charge now");
  settle_state();
}

void ocpp_engine::on_authorize_call(const std::string& call_id, const std::string& id_tag, std::int64_t now) {
  deadlines(now);
  if (pending_ && pending_->confirmed && pending_->driver_id == id_tag) {
    answers_.push_back(ocpp_answer{call_id, {{"idTagInfo", id_tag_info("Accepted")}}});
    return;
  }
  if (can_hold()) {
    hold(held_call{call_id, "Authorize", id_tag, 0, 0, now});
    return;
  }
  answers_.push_back(ocpp_answer{call_id, {{"idTagInfo", id_tag_info(tx_ ? "ConcurrentTx" : "Invalid")}}});
}

void ocpp_engine::on_charge_refused(const std::string& reason, std::int64_t now) {
  deadlines(now);
  if (held_) {
    error_notice(errc::refused, "CENTRAL refused the charge for " + held_->id_tag + ": " + reason);
    answer_held("Invalid", now);
  }
  settle_state();
}

bool ocpp_engine::can_hold() const {
  return online_ && config_ && !tx_ && !pending_ && !held_ && !stopped_ && status_ != ocpp_status::faulted &&
         status_ != ocpp_status::unavailable;
}

void ocpp_engine::hold(held_call h) {
  out_.notify("local_start", {{"cp", cp_id_}, {"driver", h.id_tag}, {"action", h.action}});
  wanted_ = h.id_tag;
  held_ = std::move(h);
}

// The held call's answer: Accepted only comes from Central's confirmation
// (on_decision); anything else refuses it.
void ocpp_engine::answer_held(std::string_view status, std::int64_t /*now*/) {
  if (!held_) {
    return;
  }
  const auto h = std::move(*held_);
  held_.reset();
  wanted_.reset();  // no longer wanted, if nobody asked yet
  if (h.action == "Authorize") {
    answers_.push_back(ocpp_answer{h.call_id, {{"idTagInfo", id_tag_info(status)}}});
  } else {
    refuse_start(h.call_id, h.id_tag, h.meter_start_wh, h.timestamp_ms, status, "CENTRAL did not authorise it");
  }
}

// The confirmed pending charge becomes a transaction.
void ocpp_engine::start_transaction(const std::string& call_id, std::int64_t meter_start_wh, std::int64_t timestamp_ms,
                                    std::int64_t now) {
  ocpp_transaction t;
  t.cp_id = cp_id_;
  t.charge_id = pending_->charge_id;
  t.driver_id = pending_->driver_id;
  t.price = config_->price;
  t.meter_start_wh = meter_start_wh;
  t.started_ms = timestamp_ms;
  t.duration_s = pending_->duration_s;
  auto opened = ledger_.open_transaction(t);
  if (!opened) {
    // Without the mapping written down, the charge could be billed twice
    // after a restart: refuse rather than supply unrecorded.
    error_notice(errc::store, opened.err().message);
    answers_.push_back(ocpp_answer{call_id, {{"transactionId", 0}, {"idTagInfo", id_tag_info("Invalid")}}});
    never_started("the gateway's store is failing", now);
    return;
  }
  tx_ = *opened;
  tx_started_ms_ = now;
  kwh_ = 0.0;
  last_kwh_sent_ = -1.0;
  remote_stop_sent_ = false;
  pending_.reset();
  answers_.push_back(ocpp_answer{call_id, {{"transactionId", tx_->id}, {"idTagInfo", id_tag_info("Accepted")}}});
  out_.notify("plugged", {{"cp", cp_id_}, {"charge_id", tx_->charge_id}, {"transaction", tx_->id}});
}

// Not a charge Central confirmed. The answer still needs a transactionId:
// a real one, closed at once, so that the StopTransaction the charge point
// will send for it is recognised and bills nothing.
void ocpp_engine::refuse_start(const std::string& call_id, const std::string& id_tag, std::int64_t meter_start_wh,
                               std::int64_t timestamp_ms, std::string_view status, const std::string& why) {
  ocpp_transaction refused;
  refused.cp_id = cp_id_;
  refused.charge_id = "refused:" + call_id + ":" + std::to_string(timestamp_ms);
  refused.driver_id = id_tag;
  refused.meter_start_wh = meter_start_wh;
  refused.started_ms = timestamp_ms;
  std::int64_t id = 0;
  if (auto made = ledger_.open_transaction(refused); made) {
    id = made->id;
    (void)ledger_.close_transaction(id);
  }
  answers_.push_back(ocpp_answer{call_id, {{"transactionId", id}, {"idTagInfo", id_tag_info(status)}}});
  error_notice(errc::not_allowed, "StartTransaction for " + id_tag + " refused: " + why);
}

void ocpp_engine::on_meter(std::int64_t transaction_id, double register_kwh, std::int64_t now) {
  deadlines(now);
  if (!tx_ || (transaction_id != 0 && transaction_id != tx_->id)) {
    return;  // a sample outside the running charge (queued from an older one): nothing to show
  }
  const double start_kwh = static_cast<double>(tx_->meter_start_wh) / 1000.0;
  kwh_ = std::max(0.0, register_kwh - start_kwh);
  if (kwh_ != last_kwh_sent_) {
    last_kwh_sent_ = kwh_;
    const double amount = amount_for(kwh_, tx_->price);
    to_central(protocol::telemetry{cp_id_, tx_->charge_id, tx_->driver_id, ++telemetry_seq_, kwh_, amount, tx_->price});
    out_.notify("progress",
                {{"cp", cp_id_}, {"charge_id", tx_->charge_id}, {"driver", tx_->driver_id}, {"kwh", kwh_},
                 {"amount", amount}});
  }
}

void ocpp_engine::on_stop_transaction(const std::string& call_id, std::int64_t transaction_id,
                                      std::int64_t meter_stop_wh, std::int64_t timestamp_ms, std::int64_t now) {
  deadlines(now);
  auto known = ledger_.transaction(transaction_id);
  if (!known) {
    // Without the ledger nothing can be billed safely: InternalError, and
    // the charge point sends the StopTransaction again (OCPP 1.6, 4.10).
    error_notice(errc::store, known.err().message);
    answers_.push_back(ocpp_answer{call_id, {}, "the gateway could not record the StopTransaction: send it again"});
    return;
  }
  if (!*known) {
    error_notice(errc::no_charge, "StopTransaction for unknown transaction " + std::to_string(transaction_id));
    answers_.push_back(ocpp_answer{call_id, {{"idTagInfo", id_tag_info("Invalid")}}});
    return;
  }
  const auto& t = **known;
  if (!t.closed) {
    protocol::charge_record r;
    r.cp_id = t.cp_id;
    r.charge_id = t.charge_id;
    r.driver_id = t.driver_id;
    r.kwh = std::max<double>(0.0, static_cast<double>(meter_stop_wh - t.meter_start_wh) / 1000.0);
    r.price = t.price;
    r.amount = amount_for(r.kwh, t.price);
    r.start_ms = t.started_ms;
    r.end_ms = std::max(timestamp_ms, t.started_ms);
    r.reason = stopped_ && remote_stop_sent_ ? end_reason::stopped
               : remote_stop_sent_           ? end_reason::completed
                                             : end_reason::unplugged;
    // The record first: if the close is lost, the replayed StopTransaction
    // makes the same record again, which the ledger and Central deduplicate.
    records_.finish(r);
    if (auto st = ledger_.close_transaction(t.id); !st) {
      error_notice(errc::store, st.err().message);
    }
  }
  if (tx_ && tx_->id == t.id) {
    tx_.reset();
    remote_stop_sent_ = false;
    last_kwh_sent_ = -1.0;
  }
  answers_.push_back(ocpp_answer{call_id, {{"idTagInfo", id_tag_info("Accepted")}}});
  settle_state();
}

void ocpp_engine::on_request_answered(const std::string& action, bool accepted, std::int64_t now) {
  deadlines(now);
  if (action == "RemoteStartTransaction" && !accepted && pending_ && pending_->confirmed) {
    never_started("the charge point refused to start", now);
  } else if (!accepted) {
    error_notice(errc::refused, "the charge point refused " + action);
  }
  settle_state();
}

cp_state ocpp_engine::state() const {
  if (stopped_) {
    return cp_state::out_of_order;
  }
  if (status_ == ocpp_status::faulted) {
    return cp_state::broken;
  }
  if (tx_ || (pending_ && pending_->confirmed)) {
    return cp_state::busy;
  }
  return state_for(status_);
}

// ---- the Monitor's requests ---------------------------------------------------------------

void ocpp_engine::on_health(std::uint64_t corr) {
  protocol::health_reply r;
  // The gateway's Monitor exists only while the charge point's WebSocket is
  // (being) connected: its health is its own report, not the connection.
  r.ok = status_ != ocpp_status::faulted;
  r.configured = config_.has_value();
  r.state = state();
  // Unavailable is the charge point's own word (after Central's STOP too:
  // then it stays OUT_OF_ORDER after RESUME until the charge point says
  // Available, which is the truth).
  r.out_of_service = status_ == ocpp_status::unavailable;
  r.charging = tx_.has_value() || (pending_ && pending_->confirmed);
  if (tx_) {
    r.charge.charge_id = tx_->charge_id;
    r.charge.driver_id = tx_->driver_id;
    r.charge.plugged = true;
    r.charge.kwh = kwh_;
    r.charge.amount = amount_for(kwh_, tx_->price);
    r.charge.duration_s = tx_->duration_s;
  } else if (pending_ && pending_->confirmed) {
    r.charge.charge_id = pending_->charge_id;
    r.charge.driver_id = pending_->driver_id;
    r.charge.duration_s = pending_->duration_s;
  }
  r.has_last = records_.last_record().has_value();
  if (records_.last_record()) {
    r.last = *records_.last_record();
  }
  to_monitor(std::move(r), corr);
}

void ocpp_engine::on_configure(std::uint64_t corr, const protocol::cp_config& c, std::int64_t now) {
  if (c.cp_id != cp_id_) {
    const std::string why = "this gateway session is CP " + cp_id_ + ", not " + c.cp_id;
    to_monitor(protocol::ack{false, std::string(to_string(errc::wrong_cp)) + ": " + why}, corr);
    error_notice(errc::wrong_cp, why);
    return;
  }
  const bool changed = !config_ || config_->price != c.price || config_->location != c.location;
  config_ = c;
  to_monitor(protocol::ack{true, ""}, corr);
  if (changed) {
    out_.notify("configured", {{"cp", c.cp_id}, {"location", c.location}, {"price", c.price}});
    records_.introduce(cp_id_, now);
  }
}

void ocpp_engine::on_authorize(std::uint64_t corr, const protocol::authorize_request& req, std::int64_t now) {
  protocol::authorize_reply reply;
  reply.cp_id = req.cp_id;
  reply.request_id = req.request_id;
  const auto refuse = [&](std::string why) {
    reply.reason = std::move(why);
    to_monitor(std::move(reply), corr);
  };
  if (req.cp_id != cp_id_) {
    return refuse("this gateway session serves " + cp_id_);
  }
  if (pending_ && pending_->request_id == req.request_id) {
    reply.ok = true;  // a retry: the same reservation
    reply.charge_id = pending_->charge_id;
    return to_monitor(std::move(reply), corr);
  }
  if (!config_) {
    return refuse(std::string(to_string(errc::not_configured)));
  }
  if (!online_) {
    return refuse("the charge point is not connected to the gateway");
  }
  if (status_ == ocpp_status::faulted) {
    return refuse("the charge point reports a fault");
  }
  if (stopped_ || status_ == ocpp_status::unavailable) {
    return refuse("the charge point is out of order");
  }
  if (tx_ || pending_) {
    return refuse("busy");
  }
  pending_ = pending{req.request_id, new_charge_id(now), req.driver_id, req.duration_s, now, false, false, false};
  // The charge a held call of the charge point asked for: it has started it
  // (or will, after Authorize) without being told to.
  pending_->local = held_ && held_->id_tag == req.driver_id;
  reply.ok = true;
  reply.charge_id = pending_->charge_id;
  to_monitor(std::move(reply), corr);
  out_.notify("reserved", {{"cp", cp_id_},
                           {"charge_id", pending_->charge_id},
                           {"driver", req.driver_id},
                           {"duration", req.duration_s},
                           {"request_id", req.request_id}});
}

void ocpp_engine::on_decision(std::uint64_t corr, const protocol::authorize_decision& d, std::int64_t now) {
  protocol::decision_ack ack{d.cp_id, d.request_id, d.charge_id, true, ""};
  const auto matches = [&](const std::string& charge_id, const std::string& request_id) {
    return d.charge_id.empty() ? request_id == d.request_id : charge_id == d.charge_id;
  };
  const bool is_pending = pending_ && matches(pending_->charge_id, pending_->request_id);
  const bool is_running = tx_ && d.charge_id == tx_->charge_id;
  if (d.cp_id != cp_id_) {
    ack.ok = false;
    ack.reason = to_string(errc::wrong_cp);
  } else if (d.confirmed) {
    if (is_pending && !pending_->confirmed) {
      pending_->confirmed = true;
      pending_->since_ms = now;  // from now on, the wait for StartTransaction
      out_.notify("authorized", {{"cp", cp_id_},
                                 {"charge_id", pending_->charge_id},
                                 {"driver", pending_->driver_id},
                                 {"duration", pending_->duration_s}});
      if (!pending_->local) {
        pending_->remote_start_sent = true;
        request("RemoteStartTransaction", {{"connectorId", 1}, {"idTag", pending_->driver_id}});
      } else if (held_ && held_->action == "StartTransaction") {
        const auto h = std::move(*held_);
        held_.reset();
        start_transaction(h.call_id, h.meter_start_wh, h.timestamp_ms, now);
      } else if (held_) {
        answer_held("Accepted", now);  // its StartTransaction follows
      }
    } else if (!is_pending && !is_running) {
      ack.ok = false;  // nothing was, nothing will be supplied
      ack.reason = to_string(errc::reservation_expired);
    }
  } else if (is_pending && !pending_->confirmed) {
    out_.notify("cancelled", {{"cp", cp_id_},
                              {"charge_id", pending_->charge_id},
                              {"driver", pending_->driver_id},
                              {"reason", "cancelled by CENTRAL"}});
    if (pending_->local) {
      answer_held("Invalid", now);
    }
    pending_.reset();
  } else if (is_pending || is_running) {
    ack.ok = false;  // a confirmed charge is never taken back
    ack.reason = to_string(errc::invalid_state);
  }
  to_monitor(std::move(ack), corr);
}

void ocpp_engine::on_cp_command(std::uint64_t corr, const protocol::cp_command& c, std::int64_t now) {
  switch (c.command) {
    case cp_order::stop: {
      stopped_ = true;
      if (pending_ && !pending_->confirmed) {
        out_.notify("cancelled", {{"cp", cp_id_},
                                  {"charge_id", pending_->charge_id},
                                  {"driver", pending_->driver_id},
                                  {"reason", std::string(to_string(end_reason::stopped))}});
        pending_.reset();
      } else if (pending_) {
        never_started(to_string(end_reason::stopped), now);
      }
      if (tx_ && !remote_stop_sent_) {
        remote_stop_sent_ = true;
        request("RemoteStopTransaction", {{"transactionId", tx_->id}});
      }
      request("ChangeAvailability", {{"connectorId", 0}, {"type", "Inoperative"}});
      out_.notify("stopped", {{"cp", cp_id_}});
      break;
    }
    case cp_order::resume:
      stopped_ = false;
      request("ChangeAvailability", {{"connectorId", 0}, {"type", "Operative"}});
      out_.notify("resumed", {{"cp", cp_id_}});
      break;
  }
  to_monitor(protocol::ack{true, ""}, corr);
}

// ---- charges ----------------------------------------------------------------------------------

void ocpp_engine::deadlines(std::int64_t now) {
  if (held_ && now - held_->since_ms >= held_timeout_ms) {
    error_notice(errc::no_answer, "no decision from CENTRAL for " + held_->id_tag + " in time");
    answer_held("Invalid", now);
  }
  if (pending_ && !pending_->confirmed && now - pending_->since_ms >= reservation_timeout_ms) {
    out_.notify("cancelled", {{"cp", cp_id_},
                              {"charge_id", pending_->charge_id},
                              {"driver", pending_->driver_id},
                              {"reason", "no decision from CENTRAL in time"}});
    pending_.reset();
  } else if (pending_ && pending_->confirmed && now - pending_->since_ms >= plug_timeout_ms) {
    never_started("no StartTransaction from the charge point", now);
  }
  // A charge with a duration ends at the charge point when it is reached.
  if (tx_ && tx_->duration_s > 0 && !remote_stop_sent_ && online_ &&
      now - tx_started_ms_ >= tx_->duration_s * 1000) {
    remote_stop_sent_ = true;
    request("RemoteStopTransaction", {{"transactionId", tx_->id}});
  }
}

// A confirmed charge that never started: Central announced it, so it ends
// with a record (0 kWh), like an Engine's charge nobody plugged in.
void ocpp_engine::never_started(std::string_view why, std::int64_t now) {
  if (!pending_) {
    return;
  }
  protocol::charge_record r;
  r.cp_id = cp_id_;
  r.charge_id = pending_->charge_id;
  r.driver_id = pending_->driver_id;
  r.price = config_ ? config_->price : 0.0;
  r.start_ms = now;
  r.end_ms = now;
  r.reason = end_reason::never_plugged;
  out_.notify("cancelled", {{"cp", cp_id_},
                            {"charge_id", pending_->charge_id},
                            {"driver", pending_->driver_id},
                            {"reason", std::string(why)}});
  pending_.reset();
  records_.finish(r);
}

// ---- small things -------------------------------------------------------------------------------

void ocpp_engine::request(std::string action, json::object payload) {
  requests_.push_back(ocpp_request{std::move(action), std::move(payload)});
}

void ocpp_engine::error_notice(errc code, std::string message) {
  out_.notify("error", {{"code", code}, {"message", std::move(message)}});
}

void ocpp_engine::settle_state() {
  const auto s = state();
  if (s != state_shown_) {
    state_shown_ = s;
    out_.notify("state", {{"cp", cp_id_}, {"state", s}});
  }
}

// Unique per charge point and across restarts of the gateway: the time in
// ms and a counter (two charges in one millisecond differ by the counter).
std::string ocpp_engine::new_charge_id(std::int64_t now) {
  return cp_id_ + "-" + std::to_string(now) + "-" + std::to_string(++charges_made_);
}

} // namespace evnet::domain

#include "evnet/ocpp/station.hpp"

#include "evnet/ocpp/messages.hpp"

#include <array>

namespace evnet::ocpp {

namespace {

// Actions 1.6 defines that a charge point may send and evnet does not
// handle: NotSupported (known, not supported) rather than NotImplemented
// (unknown).
constexpr std::array<std::string_view, 3> known_unhandled{"DataTransfer", "DiagnosticsStatusNotification",
                                                          "FirmwareStatusNotification"};

std::string status_of(const json::value& payload) {
  if (payload.is_object()) {
    if (const auto it = payload.find("status"); it != payload.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return {};
}

} // namespace

station::station(domain::ocpp_engine& engine, std::int64_t heartbeat_interval_s)
    : engine_(engine), heartbeat_interval_s_(heartbeat_interval_s) {}

void station::on_text(std::string_view text, std::int64_t now) {
  auto parsed = parse(text);
  if (!parsed) {
    const auto& e = parsed.err();
    note("in", "", e.id, {{"error", std::string(to_string(e.code))}, {"description", e.description}});
    if (e.answer) {
      texts_.push_back(encode(frame{to_call_error(e)}));
      note("out", "CALLERROR", e.id, {{"code", std::string(to_string(e.code))}});
    }
    return;
  }
  if (const auto* c = std::get_if<call>(&*parsed)) {
    on_call(*c, now);
  } else if (const auto* r = std::get_if<call_result>(&*parsed)) {
    on_answer(r->id, false, r->payload, now);
  } else if (const auto* e = std::get_if<call_error>(&*parsed)) {
    on_answer(e->id, true, json::value(json::object{}), now);
  }
  collect(now);
}

void station::on_tick(std::int64_t now) {
  if (cp_call_open_ && now - cp_call_since_ms_ >= call_timeout_ms) {
    note("timeout", "", *cp_call_open_, {{"unanswered", true}});
    cp_call_open_.reset();
  }
  if (in_flight_ && now >= in_flight_->deadline_ms) {
    const auto gone = *in_flight_;
    in_flight_.reset();
    note("timeout", gone.action, gone.id);
    engine_.on_request_answered(gone.action, false, now);
  }
  collect(now);
}

void station::pump(std::int64_t now) { collect(now); }

void station::on_connected(std::int64_t now) {
  connected_ = true;
  collect(now);
}

void station::on_disconnected(std::int64_t now) {
  connected_ = false;
  cp_call_open_.reset();  // the charge point sends it again on its next connection
  if (in_flight_) {
    const auto gone = *in_flight_;
    in_flight_.reset();
    engine_.on_request_answered(gone.action, false, now);
  }
  collect(now);
}

// ---- the charge point's CALLs ------------------------------------------------------------

void station::on_call(const call& c, std::int64_t now) {
  note("in", c.action, c.id);
  if (cp_call_open_) {
    if (*cp_call_open_ == c.id) {
      note("in", c.action, c.id, {{"duplicate", true}});  // its answer is on its way
      return;
    }
    return refuse(c.id, call_error_code::generic_error,
                  "CALL " + *cp_call_open_ + " of this charge point is still unanswered: OCPP-J allows one at a time",
                  c.action);
  }
  if (registration_ == registration_status::rejected && c.action != boot_notification_req::action) {
    return refuse(c.id, call_error_code::security_error,
                  "the central system rejected this charge point: only BootNotification is answered", c.action);
  }
  const auto invalid = [&](const frame_error& e) {
    refuse(c.id, e.code, e.description, c.action);
  };
  if (c.action == boot_notification_req::action) {
    auto req = from_json<boot_notification_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    const bool accepted = registration_ == registration_status::accepted;
    return answer(c.id,
                  to_json(boot_notification_conf{registration_, now, accepted ? heartbeat_interval_s_ : retry_interval_s}),
                  c.action);
  }
  if (c.action == heartbeat_req::action) {
    auto req = from_json<heartbeat_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    return answer(c.id, to_json(heartbeat_conf{now}), c.action);
  }
  if (c.action == status_notification_req::action) {
    auto req = from_json<status_notification_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    if (const auto s = domain::parse_ocpp_status(to_string(req->status))) {
      engine_.on_status(static_cast<int>(req->connector_id), *s, now);
    }
    return answer(c.id, to_json(status_notification_conf{}), c.action);
  }
  if (c.action == authorize_req::action) {
    auto req = from_json<authorize_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    engine_.on_authorize_call(c.id, req->id_tag, now);
    cp_call_open_ = c.id;  // until collect() finds its answer
    cp_call_since_ms_ = now;
    return;  // answered by the engine (collect), at once or once Central decided
  }
  if (c.action == start_transaction_req::action) {
    auto req = from_json<start_transaction_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    engine_.on_start_transaction(c.id, req->id_tag, req->meter_start, req->timestamp, now);
    cp_call_open_ = c.id;
    cp_call_since_ms_ = now;
    return;  // answered by the engine (collect)
  }
  if (c.action == meter_values_req::action) {
    auto req = from_json<meter_values_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    // In order: the last register reading of the message is the one that stays.
    for (const auto& mv : req->meter_value) {
      for (const auto& sample : mv.sampled_value) {
        if (const auto kwh = energy_kwh(sample)) {
          engine_.on_meter(req->transaction_id.value_or(0), *kwh, now);
        }
      }
    }
    return answer(c.id, to_json(meter_values_conf{}), c.action);
  }
  if (c.action == stop_transaction_req::action) {
    auto req = from_json<stop_transaction_req>(c.payload);
    if (!req) {
      return invalid(req.err());
    }
    engine_.on_stop_transaction(c.id, req->transaction_id, req->meter_stop, req->timestamp, now);
    cp_call_open_ = c.id;
    cp_call_since_ms_ = now;
    return;  // answered by the engine (collect)
  }
  for (const auto known : known_unhandled) {
    if (c.action == known) {
      return refuse(c.id, call_error_code::not_supported, c.action + " is not supported by evnet", c.action);
    }
  }
  refuse(c.id, call_error_code::not_implemented, "unknown action " + c.action, c.action);
}

// ---- answers to our CALLs ------------------------------------------------------------------

void station::on_answer(const std::string& id, bool error, const json::value& payload, std::int64_t now) {
  if (!in_flight_ || in_flight_->id != id) {
    // A late answer (after our timeout) or one to nothing we asked: the
    // spec never answers a CALLRESULT or CALLERROR, so it is only noted.
    note("in", error ? "CALLERROR" : "CALLRESULT", id, {{"unexpected", true}});
    return;
  }
  const auto done = *in_flight_;
  in_flight_.reset();
  const bool accepted = !error && status_of(payload) == "Accepted";
  note("in", done.action, id, {{"answer", error ? std::string("CALLERROR") : status_of(payload)}});
  engine_.on_request_answered(done.action, accepted, now);
}

// ---- output ----------------------------------------------------------------------------------

void station::answer(const std::string& id, json::value payload, std::string_view action) {
  texts_.push_back(encode(frame{call_result{id, std::move(payload)}}));
  note("out", std::string(action), id);
}

void station::refuse(const std::string& id, call_error_code code, std::string description, std::string_view action) {
  note("out", "CALLERROR", id, {{"code", std::string(to_string(code))}, {"action", std::string(action)}});
  texts_.push_back(encode(frame{call_error{id, code, std::move(description), json::object{}}}));
}

// What the engine produced: answers to the charge point's CALLs first (it
// waits for them), then our own CALLs, one at a time.
void station::collect(std::int64_t now) {
  for (auto& a : engine_.take_answers()) {
    if (cp_call_open_ == a.call_id) {
      cp_call_open_.reset();
    }
    if (a.internal_error) {
      refuse(a.call_id, call_error_code::internal_error, std::move(*a.internal_error), "CALLRESULT");
      continue;
    }
    answer(a.call_id, json::value(std::move(a.payload)), "CALLRESULT");
  }
  for (auto& r : engine_.take_requests()) {
    queue_.push_back(std::move(r));
  }
  send_next(now);
}

void station::send_next(std::int64_t now) {
  if (in_flight_ || queue_.empty() || !connected_) {
    return;
  }
  auto r = std::move(queue_.front());
  queue_.pop_front();
  outstanding o{"evnet-" + std::to_string(++next_id_), r.action, now + call_timeout_ms};
  texts_.push_back(encode(frame{call{o.id, r.action, json::value(std::move(r.payload))}}));
  note("out", r.action, o.id);
  in_flight_ = std::move(o);
}

void station::note(std::string dir, std::string action, std::string id, json::object extra) {
  extra["dir"] = std::move(dir);
  extra["action"] = std::move(action);
  extra["id"] = std::move(id);
  log_.push_back(std::move(extra));
}

} // namespace evnet::ocpp

#include "evnet/domain/event_fields.hpp"
#include "evnet/domain/driver_runner.hpp"

#include "evnet/vocabulary.hpp"

#include <type_traits>
#include <variant>

namespace evnet::domain {

namespace {


void earliest(std::optional<std::int64_t>& acc, std::int64_t t) {
  if (!acc || t < *acc) {
    acc = t;
  }
}

} // namespace

driver_runner::driver_runner(driver_runner_settings settings) : settings_(std::move(settings)) {}

// ---- link, hello, small helpers --------------------------------------------------

std::string driver_runner::unreachable_text() const { return "cannot reach CENTRAL at " + settings_.central_address; }

void driver_runner::error_event(errc code, std::string message) {
  out_.notify("error", {{"code", code}, {"message", std::move(message)}});
}

bool driver_runner::is_current(const std::string& charge_id) const {
  return charge_ && !charge_->charge_id.empty() && charge_->charge_id == charge_id;
}

void driver_runner::hello(std::int64_t now) {
  last_hello_ms_ = now;
  if (up_) {
    out_.send(central_link, protocol::driver_hello{settings_.driver_id});
  }
}

void driver_runner::start(std::int64_t /*now*/) {
  out_.notify("started", {{"driver", settings_.driver_id}, {"central", settings_.central_address}});
}

void driver_runner::on_connected(std::int64_t now) {
  up_ = true;
  known_ = true;
  out_.notify("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + settings_.central_address}});
  // Nothing offered before this moment reached Central (the transport drops
  // frames on a link that is down): introduce ourselves, ask for the table
  // and repeat the request in flight.
  hello(now);
  table_.resync(out_, up_, now);
  if (charge_ && charge_->step == phase::requesting) {
    send_request(now);
  }
}

void driver_runner::on_disconnected(std::int64_t /*now*/) {
  // The transport reports every failed attempt: tell once per outage (or
  // once when the link never came up).
  const bool news = up_ || !known_;
  up_ = false;
  known_ = true;
  if (news) {
    out_.notify("central", {{"status", "unreachable"}, {"text", unreachable_text() + ", retrying"}});
  }
}

void driver_runner::reintroduce(std::int64_t now) {
  // Central restarted or expired us: say who we are, then repeat what it
  // may have refused (the request keeps its id, so it cannot charge twice;
  // a restarted Central also restarted its stream's sequence).
  hello(now);
  table_.resync(out_, up_, now);
  if (charge_ && charge_->step == phase::requesting) {
    send_request(now);
  }
}

// ---- Central and the stream ---------------------------------------------------------

void driver_runner::on_central(const protocol::message& msg, std::int64_t now) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, protocol::snapshot>) {
          table_.on_snapshot(body, out_, up_, now);
        } else if constexpr (std::is_same_v<T, protocol::ack>) {
          on_ack(body);
        } else if constexpr (std::is_same_v<T, protocol::charge_reply>) {
          on_charge_reply(body, now);
        } else if constexpr (std::is_same_v<T, protocol::progress>) {
          on_progress(body);
        } else if constexpr (std::is_same_v<T, protocol::charge_interrupted>) {
          on_interrupted(body, now);
        } else if constexpr (std::is_same_v<T, protocol::ticket>) {
          on_ticket(body.record, now);
        } else if constexpr (std::is_same_v<T, protocol::error_reply>) {
          if (body.code == errc::unauthenticated) {
            reintroduce(now);
          }
        }
      },
      msg.payload);
}

void driver_runner::on_stream(const protocol::message& msg, std::int64_t now) {
  if (const auto* u = std::get_if<protocol::cp_update>(&msg.payload)) {
    table_.on_update(*u, out_, up_, now);
  } else if (const auto* h = std::get_if<protocol::stream_heartbeat>(&msg.payload)) {
    table_.on_heartbeat(*h, out_, up_, now);
  }
}

void driver_runner::on_ack(const protocol::ack& a) {
  // The only ack a driver gets answers its hello. A refusal is told once,
  // not every 5 s; an acceptance re-arms it.
  if (a.ok) {
    refusal_reported_ = false;
  } else if (!refusal_reported_) {
    refusal_reported_ = true;
    error_event(errc::unknown_driver, a.reason);
  }
}

// ---- the charge ----------------------------------------------------------------------

void driver_runner::request_charge(const std::string& cp_id, std::int64_t duration_s, bool for_file,
                                   std::int64_t now) {
  if (charge_) {
    error_event(errc::busy, "a charge at " + charge_->cp_id + " is already in progress");
    return;
  }
  charge_ = current_charge{};
  charge_->cp_id = cp_id;
  charge_->duration_s = duration_s;
  charge_->for_file = for_file;
  charge_->attempts = 1;
  charge_->request_id = settings_.driver_id + "-" + std::to_string(now) + "-" + std::to_string(++requests_);
  out_.notify("requested", {{"cp", cp_id}, {"duration", duration_s}, {"request_id", charge_->request_id}});
  if (known_down()) {
    out_.notify("denied", {{"cp", cp_id}, {"reason", unreachable_text()}});
    end_charge(false, now);
    return;
  }
  // Not connected yet (just started): the request waits for the link and
  // is sent when it comes up, or denied at its deadline.
  send_request(now);
}

void driver_runner::send_request(std::int64_t now) {
  charge_->deadline_ms = now + request_timeout_ms;
  if (up_) {
    out_.send(central_link, protocol::charge_request{settings_.driver_id, charge_->cp_id, charge_->duration_s,
                                                     charge_->request_id});
  }
}

void driver_runner::on_charge_reply(const protocol::charge_reply& r, std::int64_t now) {
  if (!charge_ || r.request_id != charge_->request_id || charge_->step != phase::requesting) {
    return;  // an answer to a retry we no longer wait for
  }
  if (!r.ok) {
    out_.notify("denied", {{"cp", r.cp_id}, {"reason", r.reason}});
    end_charge(false, now);
    return;
  }
  charge_->charge_id = r.charge_id;
  charge_->step = phase::authorized;
  charge_->deadline_ms = now + plug_wait_ms;
  out_.notify("authorized", {{"cp", r.cp_id}, {"charge_id", r.charge_id}});
}

void driver_runner::on_progress(const protocol::progress& p) {
  if (!is_current(p.charge_id)) {
    return;
  }
  if (charge_->step != phase::charging) {
    charge_->step = phase::charging;
    out_.notify("plugged", {{"cp", p.cp_id}, {"charge_id", p.charge_id}});
  }
  out_.notify("progress", {{"cp", p.cp_id}, {"charge_id", p.charge_id}, {"kwh", p.kwh}, {"amount", p.amount}});
}

void driver_runner::on_interrupted(const protocol::charge_interrupted& i, std::int64_t now) {
  out_.notify("interrupted", {{"cp", i.cp_id}, {"charge_id", i.charge_id}, {"kwh", i.kwh}, {"amount", i.amount},
                              {"reason", i.reason}});
  if (is_current(i.charge_id)) {
    // The ticket follows when the CP reports its final figures; the driver
    // is free to go on meanwhile.
    end_charge(false, now);
  }
}

void driver_runner::on_ticket(const protocol::charge_record& r, std::int64_t now) {
  // Every copy is acknowledged: Central resends until an ack reaches it.
  out_.send(central_link, protocol::ticket_ack{r.cp_id, r.charge_id});
  if (tickets_seen_.emplace(r.cp_id, r.charge_id).second) {
    out_.notify("ticket", ticket_fields(r));  // a resend is not shown again
  }
  // Even a resend ends the charge it settles: its first copy may have come
  // while our request's answer was still on its way (a restarted Central
  // answers a retried request with the charge already ticketed).
  if (is_current(r.charge_id)) {
    end_charge(true, now);
  }
}

void driver_runner::end_charge(bool ok, std::int64_t now) {
  const bool was_file_service = charge_ && charge_->for_file;
  charge_.reset();
  if (!file_) {
    return;
  }
  if (!was_file_service) {
    // A single charge ended: a file given meanwhile (or whose pause ended
    // meanwhile) goes on now.
    if (!file_->running && !file_->waiting) {
      start_service(now);
    }
    return;
  }
  const auto& s = file_->services[file_->index];
  (ok ? file_->done : file_->failed) += 1;
  out_.notify("service", {{"index", file_->index + 1}, {"total", file_->services.size()}, {"cp", s.cp_id},
                          {"status", ok ? "done" : "failed"}});
  file_->running = false;
  file_->waiting = true;
  file_->resume_ms = now + pause_between_services_ms;
  out_.notify("waiting", {{"seconds", pause_between_services_ms / 1000}});
}

// ---- files ---------------------------------------------------------------------------

void driver_runner::start_file(const std::string& path, result<request_plan> loaded, std::int64_t now) {
  if (file_) {
    error_event(errc::busy, "file " + file_->path + " is still running");
    return;
  }
  if (!loaded) {
    error_event(loaded.err().code, loaded.err().message);
    return;
  }
  json::array errors;
  for (const auto& e : loaded->errors) {
    errors.push_back(json::value(json::object{{"line", e.line}, {"text", e.text}, {"message", e.message}}));
  }
  out_.notify("file", {{"path", path}, {"services", loaded->services.size()}, {"errors", std::move(errors)}});
  file_ = file_run{};
  file_->path = path;
  file_->services = std::move(loaded->services);
  if (!charge_) {
    start_service(now);
  }
  // Otherwise it begins when the current charge ends.
}

void driver_runner::start_service(std::int64_t now) {
  if (file_->index >= file_->services.size()) {
    out_.notify("file_done", {{"path", file_->path}, {"done", file_->done}, {"failed", file_->failed}});
    file_.reset();
    return;
  }
  const auto& s = file_->services[file_->index];
  out_.notify("service", {{"index", file_->index + 1}, {"total", file_->services.size()}, {"cp", s.cp_id},
                          {"status", "running"}});
  file_->running = true;
  const std::int64_t duration = s.duration_s > 0 ? s.duration_s : settings_.default_duration_s;
  request_charge(s.cp_id, duration, true, now);
}

// ---- console and time ----------------------------------------------------------------

void driver_runner::on_console(const driver_command& cmd, std::int64_t now) {
  if (std::holds_alternative<driver_cmd::list>(cmd)) {
    if (!table_.have_snapshot()) {
      error_event(errc::unreachable, unreachable_text() + ": no CP list yet");
      return;
    }
    out_.notify("cps", {{"cps", table_.rows_json()}});
  } else if (const auto* c = std::get_if<driver_cmd::charge>(&cmd)) {
    request_charge(c->cp_id, c->duration_s.value_or(settings_.default_duration_s), false, now);
  }
  // nothing, file, quit: nothing to decide here.
}

void driver_runner::on_bad_command(const error& e, std::int64_t /*now*/) { error_event(e.code, e.message); }

void driver_runner::on_tick(std::int64_t now) {
  if (up_ && now - last_hello_ms_ >= hello_every_ms) {
    hello(now);
  }
  table_.on_tick(out_, up_, now);

  if (charge_ && charge_->step != phase::charging && charge_->deadline_ms <= now) {
    if (charge_->step == phase::requesting) {
      if (charge_->attempts < max_attempts && up_) {
        ++charge_->attempts;
        send_request(now);
      } else {
        out_.notify("denied", {{"cp", charge_->cp_id}, {"reason", unreachable_text() + " (no answer)"}});
        end_charge(false, now);
      }
    } else {
      out_.notify("interrupted", {{"cp", charge_->cp_id}, {"charge_id", charge_->charge_id}, {"kwh", 0.0},
                                  {"amount", 0.0}, {"reason", "the charge never started (not plugged in)"}});
      end_charge(false, now);
    }
  }

  if (file_ && file_->waiting && file_->resume_ms <= now) {
    file_->waiting = false;
    ++file_->index;
    if (!charge_) {
      start_service(now);
    }
    // Otherwise a single charge was started in the pause: the file goes on
    // when it ends.
  }
}

std::optional<std::int64_t> driver_runner::next_deadline() const {
  std::optional<std::int64_t> t;
  if (up_) {
    earliest(t, last_hello_ms_ + hello_every_ms);
  }
  if (const auto snap = table_.next_deadline()) {
    earliest(t, *snap);
  }
  if (charge_ && charge_->step != phase::charging) {
    earliest(t, charge_->deadline_ms);
  }
  if (file_ && file_->waiting) {
    earliest(t, file_->resume_ms);
  }
  return t;
}

} // namespace evnet::domain

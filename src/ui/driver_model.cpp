#include "evnet/ui/driver_model.hpp"

#include <optional>
#include <utility>

namespace evnet::ui {

namespace {

using tone = message_log::tone;

// The Engine ends a charge `completed` (its duration ran out) or
// `unplugged`; every other reason (STOP, fault, lost monitor, ...) cut it
// short. A ticket without a reason we know is not read as cut short.
bool was_cut_short(std::optional<end_reason> reason) {
  return reason.has_value() && *reason != end_reason::completed && *reason != end_reason::unplugged;
}

} // namespace

driver_model::driver_model() : messages_(100) {}

void driver_model::apply(const json::value& ev) {
  const std::string name = field::text(ev, "event");
  const std::int64_t ts = field::integer(ev, "ts");
  const std::string cp = field::text(ev, "cp");

  if (name == "started") {
    driver_ = field::text(ev, "driver", driver_);
    central_ = field::text(ev, "central", central_);
    messages_.push(ts, "driver " + driver_ + " started, CENTRAL at " + central_);
  } else if (name == "central") {
    reachable_ = field::text(ev, "status") == "connected";
    central_text_ = field::text(ev, "text", reachable_ ? "connected to CENTRAL" : "cannot reach CENTRAL");
    messages_.push(ts, central_text_, reachable_ ? tone::good : tone::bad);
  } else if (name == "cps") {
    merge_cps(cps_, selected_, ev);
  } else if (name == "cp_state") {
    if (!cp.empty()) {
      merge_cp(cps_[cp], ev);
      if (selected_.empty()) {
        selected_ = cp;
      }
    }
  } else if (name == "requested") {
    charge c;
    c.cp = cp;
    c.duration = field::integer(ev, "duration");
    c.requested_at = ts;
    charge_ = std::move(c);
    if (page_ == page::cps) {
      page_ = page::charge;
    }
    messages_.push(ts, "requested a charge at " + cp);
  } else if (name == "authorized") {
    if (!charge_ || charge_->cp != cp) {
      charge_ = charge{};
      charge_->cp = cp;
      charge_->requested_at = ts;
    }
    charge_->authorized = true;
    charge_->charge_id = field::text(ev, "charge_id");
    // A timed charge starts by itself; only an open-ended one waits for the plug.
    messages_.push(ts, cp + " authorised the charge" + (charge_->duration > 0 ? "" : ", plug in"), tone::good);
  } else if (name == "denied") {
    if (!charge_ || charge_->cp != cp) {
      charge_ = charge{};
      charge_->cp = cp;
    }
    charge_->denied = true;
    charge_->ended_at = ts;
    charge_->reason = field::text(ev, "reason");
    messages_.push(ts, cp + " denied: " + charge_->reason, tone::bad);
  } else if (name == "plugged" || name == "progress") {
    if (!charge_ || charge_->cp != cp || charge_->finished || charge_->interrupted) {
      // Joined a charge already under way (e.g. after a restart).
      charge_ = charge{};
      charge_->cp = cp;
      charge_->requested_at = ts;
      charge_->authorized = true;
    }
    charge_->charge_id = field::text(ev, "charge_id", charge_->charge_id);
    if (!charge_->plugged) {
      charge_->plugged = true;
      charge_->plugged_at = ts;
    }
    charge_->kwh = field::number(ev, "kwh", charge_->kwh);
    charge_->amount = field::number(ev, "amount", charge_->amount);
    if (name == "plugged") {
      messages_.push(ts, "plugged in at " + cp + ", charging");
    }
  } else if (name == "interrupted") {
    if (!charge_) {
      charge_ = charge{};
      charge_->cp = cp;
    }
    charge_->interrupted = true;
    charge_->ended_at = ts;
    charge_->reason = field::text(ev, "reason");
    charge_->kwh = field::number(ev, "kwh", charge_->kwh);
    charge_->amount = field::number(ev, "amount", charge_->amount);
    messages_.push(ts, "charge at " + cp + " interrupted: " + charge_->reason, tone::bad);
  } else if (name == "ticket") {
    ticket_view t = parse_ticket(ev);
    const bool cut_short = was_cut_short(t.ended);
    if (charge_ && charge_->cp == t.cp) {
      charge_->finished = true;
      // A STOP or a fault ends the charge with a ticket, not an
      // `interrupted` event: the driver must still read it as cut short.
      charge_->interrupted = charge_->interrupted || cut_short;
      if (charge_->ended_at == 0) {
        charge_->ended_at = ts;
      }
      charge_->kwh = t.kwh;
      charge_->amount = t.amount;
      if (charge_->reason.empty()) {
        charge_->reason = t.reason;
      }
    }
    if (cut_short) {
      messages_.push(ts, "charge at " + t.cp + " interrupted: " + t.reason, tone::bad);
    }
    messages_.push(ts, "ticket " + t.cp + ": " + format_fixed(t.kwh, 2) + " kWh, " +
                           format_fixed(t.amount, 2) + " EUR", tone::good);
    tickets_.insert(tickets_.begin(), std::move(t));
  } else if (name == "file") {
    file_run run;
    run.path = field::text(ev, "path");
    if (const json::value* s = field::find(ev, "services"); s != nullptr) {
      run.total = s->is_array() ? static_cast<std::int64_t>(s->size()) : field::integer(ev, "services");
    }
    if (const json::value* errs = field::find(ev, "errors"); errs != nullptr && errs->is_array()) {
      for (const auto& e : *errs) {
        run.errors.push_back("line " + std::to_string(field::integer(e, "line")) + ": " +
                             field::text(e, "message") + " (" + field::text(e, "text") + ")");
      }
    }
    messages_.push(ts, "file " + run.path + ": " + std::to_string(run.total) + " services" +
                           (run.errors.empty() ? "" : ", " + std::to_string(run.errors.size()) + " bad lines"),
                   run.errors.empty() ? tone::info : tone::bad);
    file_ = std::move(run);
  } else if (name == "service") {
    if (!file_) {
      file_ = file_run{};
    }
    service s;
    s.index = field::integer(ev, "index");
    s.cp = cp;
    s.status = field::text(ev, "status");
    if (s.status == "failed" && charge_ && charge_->cp == s.cp) {
      // The service event says only "failed"; the charge says why.
      s.reason = charge_->reason;
    }
    file_->total = field::integer(ev, "total", file_->total);
    file_->waiting_until = 0;
    file_->services[s.index] = s;
  } else if (name == "waiting") {
    if (!file_) {
      file_ = file_run{};
    }
    file_->waiting_until = ts + field::integer(ev, "seconds") * 1000;
  } else if (name == "file_done") {
    if (!file_) {
      file_ = file_run{};
    }
    file_->finished = true;
    file_->waiting_until = 0;
    file_->done = field::integer(ev, "done");
    file_->failed = field::integer(ev, "failed");
    messages_.push(ts, "file done: " + std::to_string(file_->done) + " done, " + std::to_string(file_->failed) +
                           " failed", file_->failed == 0 ? tone::good : tone::bad);
  } else if (name == "error") {
    messages_.push(ts, "error: " + field::text(ev, "message", field::text(ev, "code")), tone::bad);
  }
}

std::size_t driver_model::selected_index() const { return selection_index(cps_, selected_); }

void driver_model::move_selection(long delta) { selected_ = moved_selection(cps_, selected_, delta); }

std::optional<std::string> driver_model::sent(std::string line, std::int64_t now_ms) {
  messages_.push(now_ms, "> " + line);
  return line;
}

std::optional<std::string> driver_model::on_key(int key, std::int64_t now_ms) {
  if (form_.active()) {
    if (form_.on_key(key) == form::outcome::done) {
      return finish_form(now_ms);
    }
    return std::nullopt;
  }
  switch (key) {
    case '1':
      page_ = page::cps;
      break;
    case '2':
      page_ = page::charge;
      break;
    case '3':
      page_ = page::file;
      break;
    case '4':
      page_ = page::tickets;
      break;
    case keys::tab:
      page_ = static_cast<page>((static_cast<int>(page_) + 1) % 4);
      break;
    case keys::up:
      move_selection(-1);
      break;
    case keys::down:
      move_selection(1);
      break;
    case keys::page_up:
      move_selection(-10);
      break;
    case keys::page_down:
      move_selection(10);
      break;
    case 'c':
    case keys::enter:
      form_ = form("CHARGE", {{"Charge at CP", selected_}, {"Duration in seconds (empty = default)", ""}});
      break;
    case 'f':
      form_ = form("FILE", {{"Run file of services", "config/requests.txt"}});
      break;
    case 'l':
      return sent("list", now_ms);
    case 'q':
    case 'Q':
      return sent("quit", now_ms);
    default:
      break;
  }
  return std::nullopt;
}

std::optional<std::string> driver_model::finish_form(std::int64_t now_ms) {
  std::vector<std::string> v = form_.values();
  if (form_.action() == "CHARGE") {
    if (v[0].empty() || split_words(v[0]).size() != 1) {
      messages_.push(now_ms, "charge: give one CP id", tone::bad);
      return std::nullopt;
    }
    if (v[1].empty()) {
      return sent("charge " + v[0], now_ms);
    }
    if (!parse_seconds(v[1])) {
      messages_.push(now_ms, "charge: the duration is a whole number of seconds", tone::bad);
      return std::nullopt;
    }
    return sent("charge " + v[0] + " " + v[1], now_ms);
  }
  if (form_.action() == "FILE") {
    if (v[0].empty()) {
      messages_.push(now_ms, "file: give a path", tone::bad);
      return std::nullopt;
    }
    return sent("file " + v[0], now_ms);
  }
  return std::nullopt;
}

} // namespace evnet::ui

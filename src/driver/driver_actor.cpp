#include "driver_actor.hpp"

#include "evnet/domain/request_file.hpp"
#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/clock.hpp"
#include "evnet/runtime/json_views.hpp"
#include "evnet/runtime/link_status.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/runtime/view.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace evnet::driver {

namespace {

using namespace std::chrono_literals;
using runtime::make_event;

constexpr auto tick_period = 500ms;
constexpr auto pause_between_services = 4s;
// A request unanswered for this long is sent again with the same request id
// (Central answers a repeat with its first answer), at most `max_attempts` times.
constexpr std::int64_t request_timeout_ms = 4000;
constexpr int max_attempts = 3;
// An authorised charge that never starts supplying (nobody plugged in) is
// given up after this long; the CP drops the authorisation itself too.
constexpr std::int64_t plug_wait_ms = 70'000;
constexpr std::int64_t hello_every_ms = 5000;

enum class phase { requesting, authorized, charging };

struct current_charge {
  std::string cp_id;
  std::string request_id;
  std::string charge_id;
  std::int64_t duration_s = 0;
  phase step = phase::requesting;
  int attempts = 1;
  std::int64_t deadline_ms = 0;
  bool interrupted = false;
};

struct file_run {
  std::string path;
  std::vector<domain::service> services;
  std::size_t index = 0;
  int done = 0;
  int failed = 0;
  bool started = false;
  bool waiting = false;
};

class driver_actor : public caf::event_based_actor {
public:
  driver_actor(caf::actor_config& cfg, driver_links links, driver_settings settings, caf::actor view)
      : caf::event_based_actor(cfg), links_(std::move(links)), settings_(std::move(settings)), view_(std::move(view)) {}

  caf::behavior make_behavior() override {
    send(this, runtime::tick_atom::value);
    emit("started", {{"driver", settings_.driver_id}, {"central", links_.central_address}});
    if (!settings_.file.empty()) {
      start_file(settings_.file);
    }
    return {
      [this](transport::inbound& in) {
        if (in.link == links_.stream) {
          on_stream(in);
        } else {
          on_central(in);
        }
      },
      [this](transport::link_event& ev) { on_link_event(ev); },
      [this](runtime::command_atom, const std::string& line) { on_command(line); },
      [this](runtime::tick_atom) {
        on_tick();
        delayed_send(this, tick_period, runtime::tick_atom::value);
      },
      [this](runtime::next_atom) { next_service(); },
      [this](runtime::quit_atom) {
        send(view_, runtime::quit_atom::value);
        quit();
      },
    };
  }

private:
  std::string sender() const { return "driver:" + settings_.driver_id; }

  void emit(std::string name, json::object fields = {}) {
    send(view_, runtime::event_atom::value, make_event(std::move(name), std::move(fields)));
  }

  void error_event(const std::string& code, const std::string& text) {
    emit("error", {{"code", code}, {"message", text}});
  }

  template <class T>
  void to_central(T body) {
    links_.net->send(links_.central, protocol::make(sender(), std::move(body), ++correlation_));
  }

  std::string unreachable_text() const { return "cannot reach CENTRAL at " + links_.central_address; }

  void hello() {
    last_hello_ms_ = runtime::now_ms();
    to_central(protocol::driver_hello{settings_.driver_id});
  }

  // ---- the CP table (Clone pattern) --------------------------------------------

  void request_snapshot() {
    if (!snapshot_pending_) {
      snapshot_pending_ = true;
      to_central(protocol::snapshot_request{});
    }
  }

  void on_stream(transport::inbound& in) {
    if (!in.msg.is<protocol::cp_update>()) {
      return;
    }
    const auto& u = in.msg.as<protocol::cp_update>();
    if (!have_snapshot_ || u.seq <= seq_) {
      return;  // before our snapshot, or already in it
    }
    if (u.seq != seq_ + 1) {
      request_snapshot();  // a gap: something was missed (or Central restarted)
      return;
    }
    seq_ = u.seq;
    apply(u.cp);
  }

  void apply(const protocol::cp_info& cp) {
    auto& row = table_[cp.cp_id];
    bool state_changed = row.state != cp.state;
    row = cp;
    if (state_changed) {
      emit("cp_state", runtime::cp_fields(cp));
    }
  }

  void emit_cps() {
    json::array rows;
    for (const auto& [id, cp] : table_) {
      rows.push_back(runtime::cp_json(cp));
    }
    emit("cps", {{"cps", std::move(rows)}});
  }

  // ---- Central ---------------------------------------------------------------

  void on_central(transport::inbound& in) {
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, protocol::snapshot>) {
            snapshot_pending_ = false;
            have_snapshot_ = true;
            seq_ = body.seq;
            table_.clear();
            for (const auto& cp : body.cps) {
              table_[cp.cp_id] = cp;
            }
            emit_cps();
          } else if constexpr (std::is_same_v<T, protocol::ack>) {
            if (!body.ok && body.reason != hello_refusal_) {
              hello_refusal_ = body.reason;
              error_event("unknown_driver", body.reason);
            }
          } else if constexpr (std::is_same_v<T, protocol::charge_reply>) {
            on_charge_reply(body);
          } else if constexpr (std::is_same_v<T, protocol::progress>) {
            on_progress(body);
          } else if constexpr (std::is_same_v<T, protocol::charge_interrupted>) {
            on_interrupted(body);
          } else if constexpr (std::is_same_v<T, protocol::ticket>) {
            on_ticket(body.record);
          } else if constexpr (std::is_same_v<T, protocol::error_reply>) {
            on_error_reply(body);
          }
        },
        in.msg.payload);
  }

  void on_error_reply(const protocol::error_reply& e) {
    if (e.code != "unauthenticated") {
      runtime::log_line(sender(), "CENTRAL answered " + e.code + ": " + e.detail);
      return;
    }
    // Central restarted and forgot us: introduce ourselves and repeat any
    // request in flight (same request id, so it cannot charge twice).
    hello();
    if (charge_ && charge_->step == phase::requesting) {
      send_request();
    }
  }

  void send_request() {
    charge_->deadline_ms = runtime::now_ms() + request_timeout_ms;
    to_central(protocol::charge_request{settings_.driver_id, charge_->cp_id, charge_->duration_s, charge_->request_id});
  }

  void on_charge_reply(const protocol::charge_reply& r) {
    if (!charge_ || r.request_id != charge_->request_id || charge_->step != phase::requesting) {
      return;  // an answer to a retry we no longer wait for
    }
    if (!r.ok) {
      emit("denied", {{"cp", r.cp_id}, {"reason", r.reason}});
      end_charge(false);
      return;
    }
    charge_->charge_id = r.charge_id;
    charge_->step = phase::authorized;
    charge_->deadline_ms = runtime::now_ms() + plug_wait_ms;
    emit("authorized", {{"cp", r.cp_id}, {"charge_id", r.charge_id}});
  }

  void on_progress(const protocol::progress& p) {
    if (!charge_ || p.charge_id != charge_->charge_id) {
      return;
    }
    if (charge_->step != phase::charging) {
      charge_->step = phase::charging;
      emit("plugged", {{"cp", p.cp_id}, {"charge_id", p.charge_id}});
    }
    emit("progress", {{"cp", p.cp_id}, {"charge_id", p.charge_id}, {"kwh", p.kwh}, {"amount", p.amount}});
  }

  void on_interrupted(const protocol::charge_interrupted& i) {
    emit("interrupted", {{"cp", i.cp_id}, {"charge_id", i.charge_id}, {"kwh", i.kwh}, {"amount", i.amount},
                         {"reason", i.reason}});
    if (charge_ && i.charge_id == charge_->charge_id) {
      // The ticket follows when the CP reports its final figures; the
      // driver is free to go on meanwhile.
      end_charge(false);
    }
  }

  void on_ticket(const protocol::charge_record& r) {
    to_central(protocol::ticket_ack{r.cp_id, r.charge_id});
    if (!tickets_seen_.insert(r.cp_id + "/" + r.charge_id).second) {
      return;  // a resend: already shown
    }
    emit("ticket", runtime::ticket_fields(r));
    if (charge_ && r.charge_id == charge_->charge_id) {
      end_charge(true);
    }
  }

  // ---- charges and files -------------------------------------------------------

  void request_charge(const std::string& cp_id, std::int64_t duration_s) {
    if (charge_) {
      error_event("busy", "a charge at " + charge_->cp_id + " is already in progress");
      return;
    }
    charge_ = current_charge{};
    charge_->cp_id = cp_id;
    charge_->duration_s = duration_s;
    charge_->request_id = settings_.driver_id + "-" + std::to_string(runtime::now_ms()) + "-" +
                          std::to_string(++requests_);
    emit("requested", {{"cp", cp_id}, {"duration", duration_s}, {"request_id", charge_->request_id}});
    if (central_.known_down()) {
      emit("denied", {{"cp", cp_id}, {"reason", unreachable_text()}});
      end_charge(false);
      return;
    }
    // Not connected yet (just started): the request waits for the link and
    // is resent when it comes up, or denied at its deadline.
    send_request();
  }

  void end_charge(bool ok) {
    charge_.reset();
    if (file_ && !file_->started) {
      file_->started = true;  // the file was given while a single charge ran
      start_service();
      return;
    }
    if (!file_ || file_->waiting || file_->index >= file_->services.size()) {
      return;
    }
    const auto& s = file_->services[file_->index];
    (ok ? file_->done : file_->failed) += 1;
    emit("service", {{"index", file_->index + 1}, {"total", file_->services.size()}, {"cp", s.cp_id},
                     {"status", ok ? "done" : "failed"}});
    file_->waiting = true;
    emit("waiting", {{"seconds", std::chrono::duration_cast<std::chrono::seconds>(pause_between_services).count()}});
    delayed_send(this, pause_between_services, runtime::next_atom::value);
  }

  void start_file(const std::string& path) {
    if (file_) {
      error_event("busy", "file " + file_->path + " is still running");
      return;
    }
    auto plan = domain::load_request_file(path);
    if (!plan) {
      error_event("file", plan.err().message);
      return;
    }
    json::array errors;
    for (const auto& e : plan->errors) {
      errors.push_back(json::object{{"line", e.line}, {"text", e.text}, {"message", e.message}});
    }
    emit("file", {{"path", path}, {"services", plan->services.size()}, {"errors", std::move(errors)}});
    file_ = file_run{path, std::move(plan->services)};
    file_->started = !charge_;  // otherwise it begins when the current charge ends
    if (file_->started) {
      start_service();
    }
  }

  void next_service() {
    if (!file_) {
      return;
    }
    file_->waiting = false;
    ++file_->index;
    start_service();
  }

  void start_service() {
    if (file_->index >= file_->services.size()) {
      emit("file_done", {{"path", file_->path}, {"done", file_->done}, {"failed", file_->failed}});
      file_.reset();
      return;
    }
    const auto& s = file_->services[file_->index];
    emit("service", {{"index", file_->index + 1}, {"total", file_->services.size()}, {"cp", s.cp_id},
                     {"status", "running"}});
    request_charge(s.cp_id, s.duration_s > 0 ? s.duration_s : settings_.default_duration_s);
  }

  // ---- links, time, commands -----------------------------------------------------

  void on_link_event(const transport::link_event& ev) {
    if (ev.link != links_.central) {
      return;
    }
    if (ev.kind == transport::event_kind::connected) {
      central_.connected();
      emit("central", {{"status", "connected"}, {"text", "connected to CENTRAL at " + links_.central_address}});
      hello();
      snapshot_pending_ = false;
      request_snapshot();
      if (charge_ && charge_->step == phase::requesting) {
        send_request();
      }
    } else if (ev.kind == transport::event_kind::disconnected && central_.disconnected()) {
      emit("central", {{"status", "unreachable"}, {"text", unreachable_text() + ", retrying"}});
    }
  }

  void on_tick() {
    const auto now = runtime::now_ms();
    if (central_.up() && now - last_hello_ms_ >= hello_every_ms) {
      hello();
    }
    if (!charge_ || charge_->deadline_ms > now) {
      return;
    }
    if (charge_->step == phase::requesting) {
      if (charge_->attempts < max_attempts && central_.up()) {
        ++charge_->attempts;
        send_request();
        return;
      }
      emit("denied", {{"cp", charge_->cp_id}, {"reason", unreachable_text() + " (no answer)"}});
      end_charge(false);
    } else if (charge_->step == phase::authorized) {
      emit("interrupted", {{"cp", charge_->cp_id}, {"charge_id", charge_->charge_id}, {"kwh", 0.0},
                           {"amount", 0.0}, {"reason", "the charge never started (not plugged in)"}});
      end_charge(false);
    }
  }

  void on_command(const std::string& raw) {
    std::istringstream in{raw};
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
      words.push_back(w);
    }
    if (words.empty()) {
      return;
    }
    const auto& verb = words[0];
    if (verb == "list" && words.size() == 1) {
      if (!have_snapshot_) {
        error_event("unreachable", unreachable_text() + ": no CP list yet");
        return;
      }
      emit_cps();
    } else if (verb == "charge" && (words.size() == 2 || words.size() == 3)) {
      std::int64_t duration = settings_.default_duration_s;
      if (words.size() == 3) {
        auto d = runtime::parse_seconds(words[2], "SECONDS");
        if (!d) {
          error_event("bad_command", d.err().message);
          return;
        }
        duration = *d;
      }
      request_charge(words[1], duration);
    } else if (verb == "file" && words.size() >= 2) {
      start_file(raw.substr(raw.find("file") + 5));
    } else if (verb == "quit" && words.size() == 1) {
      send(this, runtime::quit_atom::value);
    } else {
      error_event("bad_command",
                  "unknown command '" + raw + "' (try: list, charge <CP> [SECONDS], file <PATH>, quit)");
    }
  }

  driver_links links_;
  driver_settings settings_;
  caf::actor view_;

  runtime::link_status central_;
  std::string hello_refusal_;
  std::int64_t last_hello_ms_ = 0;
  std::uint64_t correlation_ = 0;
  std::uint64_t requests_ = 0;

  std::map<std::string, protocol::cp_info> table_;
  std::uint64_t seq_ = 0;
  bool have_snapshot_ = false;
  bool snapshot_pending_ = false;

  std::optional<current_charge> charge_;
  std::optional<file_run> file_;
  std::set<std::string> tickets_seen_;
};

} // namespace

caf::actor spawn_driver(caf::actor_system& sys, driver_links links, driver_settings settings, caf::actor view) {
  return sys.spawn<driver_actor>(std::move(links), std::move(settings), std::move(view));
}

} // namespace evnet::driver

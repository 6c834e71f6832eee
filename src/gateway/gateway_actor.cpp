#include "gateway_actor.hpp"

#include "evnet/domain/monitor_machine.hpp"
#include "evnet/domain/rate_limit.hpp"
#include "evnet/domain/ocpp_engine.hpp"
#include "evnet/ocpp/admission.hpp"
#include "evnet/ocpp/station.hpp"
#include "evnet/runtime/cli.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/security/keys.hpp"
#include "evnet/text.hpp"
#include "evnet/transport.hpp"

#include <map>
#include <utility>

namespace evnet::gateway {

// What the WebSocket server's thread and the sessions' transport threads
// send to the actor. Only ever exchanged inside this process.
struct ws_upgrade_msg {
  ocpp::upgrade_request req;
};
struct ws_open_msg {
  ocpp::conn_id conn = 0;
};
struct ws_text_msg {
  ocpp::conn_id conn = 0;
  std::string text;
};
struct ws_closed_msg {
  ocpp::conn_id conn = 0;
  std::string reason;
};
struct ws_refused_msg {
  ocpp::ws_refusal refusal;
};

} // namespace evnet::gateway

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_upgrade_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_open_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_text_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_closed_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_refused_msg)

namespace evnet::gateway {

namespace {

class ws_bridge final : public ocpp::ws_sink {
public:
  explicit ws_bridge(caf::actor target) : target_(std::move(target)) {}
  void on_upgrade_request(ocpp::upgrade_request req) override { caf::anon_send(target_, ws_upgrade_msg{std::move(req)}); }
  void on_open(ocpp::conn_id conn) override { caf::anon_send(target_, ws_open_msg{conn}); }
  void on_text(ocpp::conn_id conn, std::string text) override {
    caf::anon_send(target_, ws_text_msg{conn, std::move(text)});
  }
  void on_closed(ocpp::conn_id conn, std::string reason) override {
    caf::anon_send(target_, ws_closed_msg{conn, std::move(reason)});
  }
  void on_refused(ocpp::ws_refusal refusal) override { caf::anon_send(target_, ws_refused_msg{std::move(refusal)}); }

private:
  caf::actor target_;
};

// One WebSocket's Monitor half: the charge point's Monitor and its two
// links to Central with its key, on the gateway's one transport. A
// candidate (an upgrade Central has not answered yet) is a session of its
// own, so that a refused attempt never touches the live one. The links
// close with the session (close()): the transport reports nothing more of
// them, and link ids are never reused, so a late message for a closed
// link finds no session and is dropped.
struct session {
  std::unique_ptr<domain::monitor_machine> monitor;
  transport::link_id monitor_link = 0;
  transport::link_id engine_link = 0;
  ocpp::conn_id conn = 0;
  bool engine_link_up = false;  // seen while a candidate too: told to the Engine when it goes live
  bool rejected = false;        // Central refused the live session: its links are closed
};

// A charge point as the gateway knows it. The Engine half (ledger, machine,
// OCPP conversation) lives as long as the process; a session lives as long
// as one WebSocket connection.
struct charge_point {
  std::unique_ptr<domain::ocpp_ledger> ledger;
  std::unique_ptr<domain::ocpp_engine> engine;
  std::unique_ptr<ocpp::station> station;
  std::unique_ptr<session> live;       // its open WebSocket's
  std::unique_ptr<session> candidate;  // an upgrade waiting for Central's answer
};

class gateway_actor : public runtime::core_actor {
public:
  gateway_actor(caf::actor_config& cfg, gateway_settings settings, ocpp::ws_server& ws, transport::transport& net,
                std::unique_ptr<store::ocpp_store> store, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), std::chrono::milliseconds{domain::monitor_machine::tick_ms}),
        settings_(std::move(settings)),
        ws_(ws),
        net_(net),
        store_(std::move(store)) {}

protected:
  void on_start() override { announce(); }

  caf::message_handler extra_handlers() override {
    return {
        [this](ws_upgrade_msg& m) {
          on_upgrade(std::move(m.req));
          handled();
        },
        [this](ws_open_msg& m) {
          on_open(m.conn);
          handled();
        },
        [this](ws_text_msg& m) {
          on_text(m.conn, m.text);
          handled();
        },
        [this](ws_closed_msg& m) {
          on_closed(m.conn, m.reason);
          handled();
        },
        [this](ws_refused_msg& m) {
          audit_refusal(m.refusal);  // first: once the event is out, the row is there
          emit("refused", {{"path", printable_text(m.refusal.path)},
                           {"remote", m.refusal.remote},
                           {"status", m.refusal.http_status},
                           {"reason", m.refusal.reason}});
          handled();
        },
    };
  }

  // The sessions' links to Central, all on the gateway's one transport.
  void on_inbound(transport::inbound& in) override { on_session_inbound(in); }
  void on_link_event(const transport::link_event& ev) override { on_session_event(ev); }

  void on_command(const std::string& line) override {
    const auto command = ocpp::parse_gateway_command(line);
    if (command == ocpp::gateway_command::quit) {
      on_quit();
    } else if (command == ocpp::gateway_command::list) {
      json::array cps;
      for (const auto& [id, cp] : cps_) {
        cps.push_back(json::object{{"cp", id},
                                   {"connected", cp.live != nullptr},
                                   {"state", cp.engine->state()},
                                   {"charging", cp.engine->charging()}});
      }
      emit("list", {{"cps", std::move(cps)}});
    } else if (command == ocpp::gateway_command::unknown) {
      emit("error", {{"code", errc::bad_command}, {"message", "unknown command (list, quit)"}});
    }
  }

  void on_tick(std::int64_t now) override {
    announce();
    audit_limit_.prune(now);
    std::erase_if(decided_, [now](const auto& kv) { return now - kv.second.at_ms > 60'000; });
    for (auto& [id, cp] : cps_) {
      for (auto* s : {cp.live.get(), cp.candidate.get()}) {
        if (s != nullptr) {
          s->monitor->on_tick(now);
        }
      }
      cp.engine->on_tick(now);
      cp.station->on_tick(now);
      flush(id, cp);
    }
  }

  void on_quit() override {
    for (auto& [id, cp] : cps_) {
      end(cp.candidate);
      end(cp.live);
    }
    quit_now();
  }

private:
  // `started`, once the WebSocket server listens (main starts it after
  // spawning this actor, so the first tick may come first).
  void announce() {
    if (announced_ || ws_.bound_port() == 0) {
      return;
    }
    announced_ = true;
    emit("started", {{"listen", ws_.bound_port()},
                     {"central", runtime::host_port(settings_.central_host, settings_.central_port)}});
  }

  // ---- WebSocket ---------------------------------------------------------------------

  // A new attempt never disturbs a live session: it gets a session of its
  // own, whose cp_auth carries the password it presented. Central refuses
  // a wrong password at once (401); while the live session's Monitor is
  // still connected, Central answers "already connected" and the candidate
  // asks again every 3 s, until the live connection is gone or the
  // server's deadline answers 503.
  void on_upgrade(ocpp::upgrade_request req) {
    const auto& id = req.charge_point_id;
    const auto refuse = [&](const std::string& why) {
      decided(req.conn, id, why);
      ws_.admit(req.conn, false);
      emit("refused", {{"cp", printable_id(id)}, {"remote", req.remote}, {"status", 401}, {"reason", why}});
    };
    if (!is_safe_id(id)) {
      return refuse("not a CP id evnet can register");
    }
    if (req.user != id) {
      return refuse("the Basic user is not the charge point's id");
    }
    std::optional<security::key_pair> own;
    std::string central_key;
    if (!settings_.insecure) {
      auto pair = security::load_pair(settings_.keys_dir, security::cp_key_name(id));
      auto central = security::load_public(settings_.keys_dir, security::central_key_name());
      if (!pair || !central) {
        return refuse("the gateway holds no key for CP " + id);
      }
      central_key = *central;
      own = std::move(*pair);
    }
    auto& cp = charge_point_of(id);
    if (cp.candidate) {
      decided(cp.candidate->conn, id, "superseded by a newer attempt of the same charge point");
      ws_.admit(cp.candidate->conn, false);  // an older attempt still waiting: the newer one asks
      end(cp.candidate);
    }
    const auto now_ms = now();
    const std::string central_at = runtime::host_port(settings_.central_host, settings_.central_port);
    auto s = std::make_unique<session>();
    s->monitor = std::make_unique<domain::monitor_machine>(
        domain::monitor_setup{id, "the OCPP gateway", central_at, req.password}, now_ms);
    const auto endpoint = runtime::tcp_endpoint(settings_.central_host, settings_.central_port);
    s->monitor_link = net_.open_dealer(endpoint, "monitor:" + id, central_key, own);
    s->engine_link = net_.open_dealer(endpoint, "engine:" + id, central_key, own);
    s->conn = req.conn;
    if (s->monitor_link == 0 || s->engine_link == 0) {
      end(s);
      return refuse("the gateway's transport is not running");
    }
    routes_[s->monitor_link] = id;
    routes_[s->engine_link] = id;
    emit("upgrade", {{"cp", id}, {"remote", req.remote}, {"conn", req.conn}});
    cp.candidate = std::move(s);
    flush(id, cp);
  }

  void on_open(ocpp::conn_id conn) {
    for (auto& [id, cp] : cps_) {
      if (cp.candidate && cp.candidate->conn == conn) {
        if (cp.live) {
          ws_.close(cp.live->conn, "replaced by a new connection of the same charge point");
          end(cp.live);
        }
        cp.live = std::move(cp.candidate);
        // The Engine is in this process: its link is up from the start.
        cp.live->monitor->on_engine_connected(now());
        if (cp.live->engine_link_up) {
          cp.engine->on_central_connected(now());
        }
        cp.engine->on_connected(now());
        cp.station->set_registration(ocpp::registration_status::accepted);  // admitted: Central accepted it
        cp.station->on_connected(now());
        emit("connected", {{"cp", id}, {"conn", conn}});
        flush(id, cp);
        return;
      }
    }
    ws_.close(conn, "no session");
  }

  void on_text(ocpp::conn_id conn, const std::string& text) {
    for (auto& [id, cp] : cps_) {
      if (cp.live && cp.live->conn == conn) {
        cp.station->on_text(text, now());
        flush(id, cp);
        return;
      }
    }
  }

  // The session's links close with it: Central sees its Monitor's
  // connection close and shows the CP DISCONNECTED at once.
  void on_closed(ocpp::conn_id conn, const std::string& reason) {
    for (auto& [id, cp] : cps_) {
      if (cp.live && cp.live->conn == conn) {
        cp.engine->on_disconnected(now());
        cp.station->on_disconnected(now());
        emit("disconnected", {{"cp", id}, {"reason", reason}});
        flush(id, cp);
        end(cp.live);
        return;
      }
    }
  }

  // ---- Central, through a session's transport --------------------------------------------

  // The session a link belongs to, and its charge point; null for a link
  // already closed (a late message) or one that is not a session's.
  session* session_for(transport::link_id link, charge_point*& cp_out, std::string& id_out) {
    const auto route = routes_.find(link);
    if (route == routes_.end()) {
      return nullptr;
    }
    const auto it = cps_.find(route->second);
    if (it == cps_.end()) {
      return nullptr;
    }
    cp_out = &it->second;
    id_out = it->first;
    for (auto* s : {it->second.live.get(), it->second.candidate.get()}) {
      if (s != nullptr && (s->monitor_link == link || s->engine_link == link)) {
        return s;
      }
    }
    return nullptr;
  }

  void on_session_inbound(transport::inbound& in) {
    charge_point* cp = nullptr;
    std::string id;
    session* s = session_for(in.link, cp, id);
    if (s == nullptr) {
      return;
    }
    const auto now_ms = now();
    const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload);
    const bool unauthenticated = e != nullptr && e->code == errc::unauthenticated;
    if (in.link == s->monitor_link) {
      unauthenticated ? s->monitor->on_central_unauthenticated(now_ms) : s->monitor->on_central(in.msg, now_ms);
    } else if (in.link == s->engine_link && s == cp->live.get()) {
      cp->engine->on_central(in.msg, now_ms);
    }
    flush(id, *cp);
  }

  void on_session_event(const transport::link_event& ev) {
    charge_point* cp = nullptr;
    std::string id;
    session* s = session_for(ev.link, cp, id);
    if (s == nullptr) {
      return;
    }
    const auto now_ms = now();
    const bool up = ev.kind == transport::event_kind::connected;
    const bool down = ev.kind == transport::event_kind::disconnected;
    if (ev.kind == transport::event_kind::refused) {
      // Central's ZAP handler refused the charge point's key: it was
      // revoked (or never registered there). Not an outage: a verdict.
      const auto reason = "CENTRAL refused CP " + id + "'s key (revoked or unknown)";
      if (s == cp->live.get()) {
        reject_live(id, *cp, reason);
      } else {
        refuse_candidate(id, *cp, reason);
      }
      return;
    }
    if (ev.link == s->monitor_link) {
      if (up) {
        s->monitor->on_central_connected(now_ms);
      } else if (down) {
        s->monitor->on_central_disconnected(now_ms);
        if (s == cp->live.get() && !s->rejected) {
          cp->station->set_registration(ocpp::registration_status::pending);  // until Central answers again
        }
      }
    } else if (ev.link == s->engine_link) {
      s->engine_link_up = up || (!down && s->engine_link_up);
      if (s != cp->live.get()) {
        // a candidate's: the Engine hears of it when the session goes live
      } else if (up) {
        cp->engine->on_central_connected(now_ms);
      } else if (down) {
        cp->engine->on_central_disconnected(now_ms);
      }
    }
    flush(id, *cp);
  }

  // Closes a session's links and forgets it.
  void close_links(session& s) {
    for (auto* link : {&s.monitor_link, &s.engine_link}) {
      if (*link != 0) {
        net_.close_link(*link);
        routes_.erase(*link);
        *link = 0;
      }
    }
  }
  void end(std::unique_ptr<session>& s) {
    if (s) {
      close_links(*s);
      s.reset();
    }
  }

  // ---- the charge point ----------------------------------------------------------------

  charge_point& charge_point_of(const std::string& id) {
    auto [it, made] = cps_.try_emplace(id);
    auto& cp = it->second;
    if (made) {
      cp.ledger = store_->ledger_for(id);
      cp.engine = std::make_unique<domain::ocpp_engine>(id, *cp.ledger, now());
      cp.station = std::make_unique<ocpp::station>(*cp.engine, settings_.heartbeat_interval_s);
    }
    return cp;
  }

  // Delivers what the machines produced: between the live Monitor and the
  // Engine in process, to Central over the session's links, to the charge
  // point over its WebSocket, and the notices to the view. Until nothing
  // moves. A candidate's Monitor only authenticates: nothing it says reaches
  // the Engine until its WebSocket is the live one.
  void flush(const std::string& id, charge_point& cp) {
    const auto now_ms = now();
    if (cp.candidate) {
      auto& c = *cp.candidate;
      for (auto& sent : c.monitor->out().take_sends()) {
        if (sent.to != domain::monitor_machine::engine_link) {
          net_.send(c.monitor_link, envelope("monitor:" + id, std::move(sent)));
        }
      }
      for (auto& n : c.monitor->out().take_notices()) {
        if (candidate_notice(id, cp, n)) {
          break;  // the candidate was refused and is gone
        }
      }
    }
    for (int round = 0; round < 16; ++round) {
      bool moved = false;
      if (cp.live) {
        auto& l = *cp.live;
        for (auto& sent : l.monitor->out().take_sends()) {
          moved = true;
          const bool to_engine = sent.to == domain::monitor_machine::engine_link;
          auto m = envelope("monitor:" + id, std::move(sent));
          if (to_engine) {
            cp.engine->on_monitor(m, now_ms);
          } else {
            net_.send(l.monitor_link, m);
          }
        }
        for (auto& n : l.monitor->out().take_notices()) {
          using meaning = ocpp::monitor_notice_meaning::kind;
          const auto m = ocpp::meaning_of(n);
          if (m.what == meaning::central_answered) {
            live_auth(id, cp, m.admission);
          } else if (m.what == meaning::charge_refused) {
            moved = true;
            cp.engine->on_charge_refused(m.reason, now_ms);
          }
          n.fields["cp"] = id;
          n.fields["from"] = "monitor";
          emit(std::move(n.name), std::move(n.fields));
        }
      }
      for (auto& sent : cp.engine->out().take_sends()) {
        moved = true;
        const bool to_monitor = sent.to == domain::ocpp_engine::monitor_link;
        auto m = envelope("engine:" + id, std::move(sent));
        if (!cp.live) {
          continue;  // no session: what matters is resent on the next one
        }
        if (to_monitor) {
          cp.live->monitor->on_engine(m, now_ms);
        } else {
          net_.send(cp.live->engine_link, m);
        }
      }
      for (auto& n : cp.engine->out().take_notices()) {
        n.fields["cp"] = id;
        emit(std::move(n.name), std::move(n.fields));
      }
      if (!moved) {
        break;
      }
    }
    // A charge the charge point started itself: its Monitor asks Central.
    if (auto driver = cp.engine->take_charge_wanted()) {
      if (cp.live) {
        cp.live->monitor->request_charge_for(*driver, 0, now_ms);
        flush(id, cp);
        return;
      }
      cp.engine->on_charge_refused("the gateway is not connected to CENTRAL", now_ms);
    }
    cp.station->pump(now_ms);
    for (auto& t : cp.station->take_texts()) {
      if (cp.live) {
        ws_.send_text(cp.live->conn, std::move(t));
      }
    }
    for (auto& l : cp.station->take_log()) {
      l["cp"] = id;
      emit("ocpp", std::move(l));
    }
  }

  static protocol::message envelope(std::string sender, domain::outgoing sent) {
    protocol::message m;
    m.sender = std::move(sender);
    m.correlation = sent.correlation;
    m.payload = std::move(sent.body);
    return m;
  }

  // The live session's Monitor authenticated again after an outage (Central
  // restarted, the link was cut): Central's answer is what the charge
  // point's BootNotification gets from now on. Refused (its password
  // changed, it was removed): Rejected, and the session's links stop, since
  // the password a connection presented cannot change; the charge point
  // must connect again with the right one.
  void live_auth(const std::string& id, charge_point& cp, const ocpp::admission_verdict& verdict) {
    switch (verdict.what) {
      case ocpp::admission::admit:
        cp.station->set_registration(ocpp::registration_status::accepted);
        return;
      case ocpp::admission::wait:
        cp.station->set_registration(ocpp::registration_status::pending);
        return;
      case ocpp::admission::refuse:
        break;
    }
    reject_live(id, cp, verdict.reason);
  }

  // Central refused the connected charge point: Rejected from now on.
  void reject_live(const std::string& id, charge_point& cp, const std::string& reason) {
    cp.station->set_registration(ocpp::registration_status::rejected);
    cp.live->rejected = true;
    close_links(*cp.live);
    emit("rejected", {{"cp", id}, {"conn", cp.live->conn}, {"reason", reason}});
  }

  // The candidate Monitor's `auth` notice is Central's answer to its
  // cp_auth: ocpp::admission_for says what it means for the waiting
  // upgrade. True when the candidate is gone.
  bool candidate_notice(const std::string& id, charge_point& cp, domain::notice& n) {
    const auto m = ocpp::meaning_of(n);
    if (m.what != ocpp::monitor_notice_meaning::kind::central_answered) {
      return false;
    }
    const auto& verdict = m.admission;
    switch (verdict.what) {
      case ocpp::admission::admit:
        ws_.admit(cp.candidate->conn, true);
        n.fields["cp"] = id;
        n.fields["from"] = "monitor";
        emit(std::move(n.name), std::move(n.fields));
        return false;
      case ocpp::admission::wait:
        emit("waiting", {{"cp", id}, {"conn", cp.candidate->conn}, {"reason", verdict.reason}});
        return false;
      case ocpp::admission::refuse:
        break;
    }
    refuse_candidate(id, cp, verdict.reason);
    return true;
  }

  void refuse_candidate(const std::string& id, charge_point& cp, const std::string& reason) {
    decided(cp.candidate->conn, id, "refused by CENTRAL: " + reason);
    ws_.admit(cp.candidate->conn, false);
    emit("refused", {{"cp", id}, {"status", 401}, {"reason", reason}});
    end(cp.candidate);
  }

  // ---- the audit of refused upgrades ----------------------------------------------------

  // This actor refused `conn` (401): its words go in the audit row that the
  // server's on_refused for that connection brings.
  void decided(ocpp::conn_id conn, const std::string& cp_id, std::string why) {
    decided_[conn] = refusal_reason{cp_id, std::move(why), now()};
  }

  // Every refused upgrade is audited in the gateway's store (Central audits
  // only those it decided): at most one row a second per address, status
  // and reason, the next row saying how many it stands for, so that a
  // flood of bad upgrades is not a flood of fsyncs.
  void audit_refusal(const ocpp::ws_refusal& r) {
    store::upgrade_refusal row{now(), {}, r.remote, r.path, r.http_status, r.reason, 0};
    if (const auto it = decided_.find(r.conn); r.conn != 0 && it != decided_.end()) {
      row.cp_id = it->second.cp_id;
      row.reason = it->second.why;
      decided_.erase(it);
    } else if (r.path.starts_with("/ocpp/")) {
      row.cp_id = r.path.substr(6);
    }
    const auto held = audit_limit_.admit(row.remote + "|" + std::to_string(row.http_status) + "|" + row.reason, row.time_ms);
    if (!held) {
      return;
    }
    row.suppressed = *held;
    if (auto st = store_->audit_refusal(row); !st) {
      emit("error", {{"code", st.err().code}, {"message", st.err().message}});
    }
  }

  struct refusal_reason {
    std::string cp_id;
    std::string why;
    std::int64_t at_ms = 0;
  };
  std::map<ocpp::conn_id, refusal_reason> decided_;  // forgotten after 60 s if the server never reports it
  domain::once_per audit_limit_{1000};

  gateway_settings settings_;
  ocpp::ws_server& ws_;
  transport::transport& net_;
  std::unique_ptr<store::ocpp_store> store_;
  std::map<std::string, charge_point> cps_;
  std::map<transport::link_id, std::string> routes_;  // a session's link -> its charge point
  bool announced_ = false;
};

} // namespace

std::unique_ptr<ocpp::ws_sink> make_ws_bridge(caf::actor gateway) {
  return std::make_unique<ws_bridge>(std::move(gateway));
}

caf::actor spawn_gateway(caf::actor_system& sys, gateway_settings settings, ocpp::ws_server& ws,
                         transport::transport& net, std::unique_ptr<store::ocpp_store> store, caf::actor view) {
  return sys.spawn<gateway_actor>(std::move(settings), std::ref(ws), std::ref(net), std::move(store), std::move(view));
}

} // namespace evnet::gateway

#include "gateway_actor.hpp"

#include "evnet/domain/monitor_machine.hpp"
#include "evnet/domain/ocpp_engine.hpp"
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
struct session_inbound {
  std::string cp_id;
  std::uint64_t generation = 0;
  transport::inbound in;
};
struct session_event {
  std::string cp_id;
  std::uint64_t generation = 0;
  transport::link_event ev;
};

} // namespace evnet::gateway

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_upgrade_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_open_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_text_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_closed_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::ws_refused_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::session_inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(evnet::gateway::session_event)

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

// One session's transport, tagged so that its messages find their session
// (and a closed session's late messages are recognised as stale).
class session_sink final : public transport::sink {
public:
  session_sink(caf::actor target, std::string cp_id, std::uint64_t generation)
      : target_(std::move(target)), cp_id_(std::move(cp_id)), generation_(generation) {}
  void on_message(transport::inbound in) override {
    caf::anon_send(target_, session_inbound{cp_id_, generation_, std::move(in)});
  }
  void on_event(transport::link_event ev) override {
    caf::anon_send(target_, session_event{cp_id_, generation_, std::move(ev)});
  }

private:
  caf::actor target_;
  std::string cp_id_;
  std::uint64_t generation_;
};

// A charge point as the gateway knows it. The Engine half (ledger, machine,
// OCPP conversation) lives as long as the process; the Monitor half and the
// links to Central live as long as one WebSocket connection.
struct charge_point {
  std::unique_ptr<domain::ocpp_ledger> ledger;
  std::unique_ptr<domain::ocpp_engine> engine;
  std::unique_ptr<ocpp::station> station;

  std::unique_ptr<domain::monitor_machine> monitor;
  std::unique_ptr<session_sink> sink;
  std::unique_ptr<transport::transport> net;
  transport::link_id monitor_link = 0;
  transport::link_id engine_link = 0;
  std::uint64_t generation = 0;
  ocpp::conn_id conn = 0;     // the open WebSocket
  ocpp::conn_id pending = 0;  // an upgrade waiting for Central's answer
  bool admitted = false;
};

class gateway_actor : public runtime::core_actor {
public:
  gateway_actor(caf::actor_config& cfg, gateway_settings settings, ocpp::ws_server& ws,
                std::unique_ptr<store::ocpp_store> store, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), std::chrono::milliseconds{domain::monitor_machine::tick_ms}),
        settings_(std::move(settings)),
        ws_(ws),
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
          emit("refused", {{"path", printable_id(m.refusal.path)},
                           {"remote", m.refusal.remote},
                           {"status", m.refusal.http_status},
                           {"reason", m.refusal.reason}});
          handled();
        },
        [this](session_inbound& m) {
          on_session_inbound(m);
          handled();
        },
        [this](session_event& m) {
          on_session_event(m);
          handled();
        },
    };
  }

  // The gateway's own (empty) transport has nothing to say.
  void on_inbound(transport::inbound&) override {}
  void on_link_event(const transport::link_event&) override {}

  void on_command(const std::string& line) override {
    if (line == "quit") {
      quit_now();
    } else if (line == "list") {
      json::array cps;
      for (const auto& [id, cp] : cps_) {
        cps.push_back(json::object{{"cp", id},
                                   {"connected", cp.conn != 0},
                                   {"state", cp.engine->state()},
                                   {"charging", cp.engine->charging()}});
      }
      emit("list", {{"cps", std::move(cps)}});
    } else if (!line.empty()) {
      emit("error", {{"code", errc::bad_command}, {"message", "unknown command (list, quit)"}});
    }
  }

  void on_tick(std::int64_t now) override {
    announce();
    for (auto& [id, cp] : cps_) {
      if (cp.monitor) {
        cp.monitor->on_tick(now);
      }
      cp.engine->on_tick(now);
      cp.station->on_tick(now);
      flush(id, cp);
    }
  }

  void on_quit() override {
    for (auto& [id, cp] : cps_) {
      end_session(cp);
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

  void on_upgrade(ocpp::upgrade_request req) {
    const auto& id = req.charge_point_id;
    const auto refuse = [&](const std::string& why) {
      ws_.admit(req.conn, false);
      emit("refused", {{"cp", printable_id(id)}, {"remote", req.remote}, {"status", 401}, {"reason", why}});
    };
    if (!is_safe_id(id)) {
      return refuse("not a CP id evnet can register");
    }
    if (req.user != id) {
      return refuse("the Basic user is not the charge point's id");
    }
    std::optional<transport::curve_config> curve;
    std::string central_key;
    if (!settings_.insecure) {
      auto own = security::load_pair(settings_.keys_dir, security::cp_key_name(id));
      auto central = security::load_public(settings_.keys_dir, security::central_key_name());
      if (!own || !central) {
        return refuse("the gateway holds no key for CP " + id);
      }
      central_key = *central;
      curve = transport::curve_config{std::move(*own), nullptr};
    }
    auto& cp = session_of(id);
    if (cp.pending != 0) {
      ws_.admit(cp.pending, false);  // an older attempt still waiting: the newer wins
    }
    end_session(cp);
    const auto now_ms = now();
    const std::string central_at = runtime::host_port(settings_.central_host, settings_.central_port);
    cp.monitor = std::make_unique<domain::monitor_machine>(
        domain::monitor_setup{id, "the OCPP gateway", central_at, req.password}, now_ms);
    transport::options opts;
    opts.sender_name = "monitor:" + id;
    opts.curve = std::move(curve);
    cp.net = std::make_unique<transport::transport>(opts);
    const auto endpoint = runtime::tcp_endpoint(settings_.central_host, settings_.central_port);
    cp.monitor_link = cp.net->add_dealer(endpoint, "monitor:" + id, central_key);
    cp.engine_link = cp.net->add_dealer(endpoint, "engine:" + id, central_key);
    cp.sink = std::make_unique<session_sink>(caf::actor_cast<caf::actor>(this), id, ++cp.generation);
    cp.pending = req.conn;
    cp.admitted = false;
    if (auto st = cp.net->start(*cp.sink); !st) {
      cp.net.reset();
      cp.pending = 0;
      return refuse("cannot reach CENTRAL: " + st.err().message);
    }
    // The Engine is in this process: its link is up from the start.
    cp.monitor->on_engine_connected(now_ms);
    emit("upgrade", {{"cp", id}, {"remote", req.remote}, {"conn", req.conn}});
    flush(id, cp);
  }

  void on_open(ocpp::conn_id conn) {
    for (auto& [id, cp] : cps_) {
      if (cp.pending == conn) {
        if (cp.conn != 0 && cp.conn != conn) {
          ws_.close(cp.conn, "replaced by a new connection of the same charge point");
        }
        cp.conn = conn;
        cp.pending = 0;
        cp.engine->on_connected(now());
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
      if (cp.conn == conn) {
        cp.station->on_text(text, now());
        flush(id, cp);
        return;
      }
    }
  }

  void on_closed(ocpp::conn_id conn, const std::string& reason) {
    for (auto& [id, cp] : cps_) {
      if (cp.conn == conn) {
        cp.conn = 0;
        cp.engine->on_disconnected(now());
        cp.station->on_disconnected(now());
        emit("disconnected", {{"cp", id}, {"reason", reason}});
        flush(id, cp);
        end_session(cp);
        return;
      }
    }
  }

  // ---- Central, through the session's transport --------------------------------------

  void on_session_inbound(session_inbound& m) {
    auto it = cps_.find(m.cp_id);
    if (it == cps_.end() || it->second.generation != m.generation || !it->second.monitor) {
      return;  // a closed session's late message
    }
    auto& cp = it->second;
    const auto now_ms = now();
    const auto* e = std::get_if<protocol::error_reply>(&m.in.msg.payload);
    const bool unauthenticated = e != nullptr && e->code == errc::unauthenticated;
    if (m.in.link == cp.monitor_link) {
      unauthenticated ? cp.monitor->on_central_unauthenticated(now_ms) : cp.monitor->on_central(m.in.msg, now_ms);
    } else if (m.in.link == cp.engine_link) {
      cp.engine->on_central(m.in.msg, now_ms);
    }
    flush(m.cp_id, cp);
  }

  void on_session_event(session_event& m) {
    auto it = cps_.find(m.cp_id);
    if (it == cps_.end() || it->second.generation != m.generation || !it->second.monitor) {
      return;
    }
    auto& cp = it->second;
    const auto now_ms = now();
    const bool up = m.ev.kind == transport::event_kind::connected;
    const bool down = m.ev.kind == transport::event_kind::disconnected;
    if (m.ev.link == cp.monitor_link) {
      if (up) {
        cp.monitor->on_central_connected(now_ms);
      } else if (down) {
        cp.monitor->on_central_disconnected(now_ms);
      }
    } else if (m.ev.link == cp.engine_link) {
      if (up) {
        cp.engine->on_central_connected(now_ms);
      } else if (down) {
        cp.engine->on_central_disconnected(now_ms);
      }
    }
    flush(m.cp_id, cp);
  }

  // ---- the session -----------------------------------------------------------------------

  charge_point& session_of(const std::string& id) {
    auto [it, made] = cps_.try_emplace(id);
    auto& cp = it->second;
    if (made) {
      cp.ledger = store_->ledger_for(id);
      cp.engine = std::make_unique<domain::ocpp_engine>(id, *cp.ledger, now());
      cp.station = std::make_unique<ocpp::station>(*cp.engine, settings_.heartbeat_interval_s);
    }
    return cp;
  }

  void end_session(charge_point& cp) {
    if (cp.net) {
      cp.net->stop();
    }
    cp.net.reset();
    cp.sink.reset();
    cp.monitor.reset();
    ++cp.generation;
    cp.monitor_link = 0;
    cp.engine_link = 0;
  }

  // Delivers what the machines produced: between the Monitor and the Engine
  // in process, to Central over the session's links, to the charge point
  // over its WebSocket, and the notices to the view. Until nothing moves.
  void flush(const std::string& id, charge_point& cp) {
    const auto now_ms = now();
    for (int round = 0; round < 16; ++round) {
      bool moved = false;
      if (cp.monitor) {
        for (auto& s : cp.monitor->out().take_sends()) {
          moved = true;
          protocol::message m;
          m.sender = "monitor:" + id;
          m.correlation = s.correlation;
          m.payload = std::move(s.body);
          if (s.to == domain::monitor_machine::engine_link) {
            cp.engine->on_monitor(m, now_ms);
          } else if (cp.net) {
            cp.net->send(cp.monitor_link, m);
          }
        }
        for (auto& n : cp.monitor->out().take_notices()) {
          on_monitor_notice(id, cp, n);
        }
      }
      for (auto& s : cp.engine->out().take_sends()) {
        moved = true;
        protocol::message m;
        m.sender = "engine:" + id;
        m.correlation = s.correlation;
        m.payload = std::move(s.body);
        if (s.to == "monitor") {
          if (cp.monitor) {
            cp.monitor->on_engine(m, now_ms);
          }
        } else if (cp.net) {
          cp.net->send(cp.engine_link, m);
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
    cp.station->pump(now_ms);
    for (auto& t : cp.station->take_texts()) {
      if (cp.conn != 0) {
        ws_.send_text(cp.conn, std::move(t));
      }
    }
    for (auto& l : cp.station->take_log()) {
      l["cp"] = id;
      emit("ocpp", std::move(l));
    }
  }

  // The Monitor's `auth` notice is Central's answer to cp_auth: it decides
  // a waiting WebSocket upgrade.
  void on_monitor_notice(const std::string& id, charge_point& cp, domain::notice& n) {
    if (n.name == "auth" && cp.pending != 0 && !cp.admitted) {
      const auto ok = n.fields.find("ok");
      const bool yes = ok != n.fields.end() && ok->second.is_boolean() && ok->second.get<bool>();
      if (yes) {
        cp.admitted = true;
        ws_.admit(cp.pending, true);
      } else {
        const auto reason = n.fields.find("reason");
        ws_.admit(cp.pending, false);
        emit("refused", {{"cp", id},
                         {"status", 401},
                         {"reason", reason != n.fields.end() && reason->second.is_string()
                                        ? reason->second.get<std::string>()
                                        : std::string("refused by CENTRAL")}});
        cp.pending = 0;
        end_session(cp);
        return;
      }
    }
    n.fields["cp"] = id;
    n.fields["from"] = "monitor";
    emit(std::move(n.name), std::move(n.fields));
  }

  gateway_settings settings_;
  ocpp::ws_server& ws_;
  std::unique_ptr<store::ocpp_store> store_;
  std::map<std::string, charge_point> cps_;
  bool announced_ = false;
};

} // namespace

std::unique_ptr<ocpp::ws_sink> make_ws_bridge(caf::actor gateway) {
  return std::make_unique<ws_bridge>(std::move(gateway));
}

caf::actor spawn_gateway(caf::actor_system& sys, gateway_settings settings, ocpp::ws_server& ws,
                         std::unique_ptr<store::ocpp_store> store, caf::actor view) {
  return sys.spawn<gateway_actor>(std::move(settings), std::ref(ws), std::move(store), std::move(view));
}

} // namespace evnet::gateway

#include "simulation.hpp"

#include "evnet/domain/central_machine.hpp"
#include "evnet/domain/driver_runner.hpp"
#include "evnet/domain/engine_machine.hpp"
#include "evnet/domain/monitor_machine.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

namespace evnet::sim {

namespace {

namespace d = evnet::domain;
namespace p = evnet::protocol;

using key = std::pair<std::string, std::string>;  // (cp, charge or request id)

// Client liveness and server expiry, as the transport has them.
constexpr std::int64_t client_liveness_ms = 3000;
constexpr std::int64_t server_expiry_ms = 3500;
constexpr std::int64_t reconnect_ms = 1000;

class rng {
public:
  explicit rng(std::uint64_t seed) : g_(seed) {}
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(g_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(g_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(v.size()) - 1))];
  }

private:
  std::mt19937_64 g_;
};

// A client's connection to a server. Every reconnect is a new session with a
// new routing id; frames of an old session are never delivered.
struct link {
  std::string name;
  int session = 0;
  bool up = false;       // as the client's transport reports it
  bool broken = false;   // an outage: frames vanish
  std::int64_t paused_until = 0;
  std::int64_t last_to_server = 0;  // in-order delivery
  std::int64_t last_to_client = 0;
  std::string peer() const { return name + "#" + std::to_string(session); }
};

struct cp_node {
  std::string id;
  double price = 0.0;
  d::memory_ledger ledger;
  std::unique_ptr<d::engine_machine> engine;
  std::unique_ptr<d::monitor_machine> monitor;
  link engine_central;
  link monitor_central;
  link monitor_engine;
  bool fault = false;
};

struct driver_node {
  std::string id;
  std::unique_ptr<d::driver_runner> runner;
  link central;
  std::map<key, int> shown;  // tickets shown, by (cp, charge)
};

class world {
public:
  world(std::uint64_t seed, const options& opts) : opts_(opts), rng_(seed) {
    out_.seed = seed;
    const char* t = std::getenv("EVNET_SIM_TRACE");
    trace_ = t != nullptr && *t == '1';
  }

  outcome run();

private:
  // ---- the event loop -----------------------------------------------------------

  void at(std::int64_t t, std::function<void()> f) { queue_.push(event{t, ++order_, std::move(f)}); }

  struct event {
    std::int64_t time;
    std::uint64_t order;  // ties keep insertion order: deterministic
    std::function<void()> run;
    bool operator>(const event& o) const { return time != o.time ? time > o.time : order > o.order; }
  };

  bool active() const { return now_ < opts_.active_ms; }

  // ---- the fake network ------------------------------------------------------------

  std::int64_t latency() { return rng_.chance(0.05) ? rng_.between(200, 1500) : rng_.between(1, 40); }

  // One frame over `l` in one direction; `deliver` runs at the far end if
  // the session is still the one it was sent on.
  void carry(link& l, bool to_server, std::function<void()> deliver) {
    ++out_.frames;
    if (l.broken || (active() && rng_.chance(opts_.loss))) {
      return;
    }
    const int session = l.session;
    int copies = (active() && rng_.chance(opts_.duplicate)) ? 2 : 1;
    std::int64_t& last = to_server ? l.last_to_server : l.last_to_client;
    for (int i = 0; i < copies; ++i) {
      std::int64_t t = std::max({now_ + latency(), last, l.paused_until});
      last = t;
      at(t, [this, &l, session, deliver] {
        if (l.session == session && !l.broken) {
          deliver();
        }
      });
    }
  }

  // A short pause: frames wait, nobody notices.
  void pause(link& l, std::int64_t ms) { l.paused_until = std::max(l.paused_until, now_ + ms); }

  // An outage: the client notices after its liveness interval, the server
  // forgets the peer after its expiry, then the client reconnects under a
  // new session once the outage is over.
  void outage(link& l, std::int64_t ms, std::function<void()> client_down, std::function<void(std::string)> server_gone,
              std::function<void()> client_up) {
    if (l.broken) {
      return;
    }
    l.broken = true;
    const int session = l.session;
    const std::string old_peer = l.peer();
    at(now_ + client_liveness_ms, [this, &l, session, client_down] {
      if (l.session == session) {
        l.up = false;
        client_down();
      }
    });
    at(now_ + server_expiry_ms, [server_gone, old_peer] { server_gone(old_peer); });
    at(now_ + std::max(ms, client_liveness_ms + reconnect_ms), [this, &l, session, client_up] {
      if (l.session == session) {
        reconnect(l, client_up);
      }
    });
  }

  void reconnect(link& l, const std::function<void()>& client_up) {
    ++l.session;
    l.broken = false;
    l.up = true;
    l.last_to_client = l.last_to_server = now_;
    routing_[l.peer()] = &l;
    client_up();
  }

  // ---- Central --------------------------------------------------------------------

  void start_central() {
    auto model = d::load_network(book_);
    if (!model) {
      violation("Central cannot load its book: " + model.err().message);
      return;
    }
    central_ = std::make_unique<d::central_machine>(book_, std::move(*model),
                                                    static_cast<std::uint64_t>(out_.restarts + 1) * 1'000'000);
    ++central_incarnation_;
    central_->start(now_);
    drain_central();
  }

  void to_central(link& l, p::body body, std::uint64_t corr, const std::string& sender) {
    if (!l.up) {
      return;  // the transport drops frames offered while the link is down
    }
    const std::string peer = l.peer();
    auto msg = p::make(sender, std::move(body), corr);
    carry(l, true, [this, peer, msg] {
      if (central_) {
        trace("central <- " + peer, msg);
        central_->on_message(peer, msg, now_);
        drain_central();
      }
    });
  }

  void drain_central() {
    for (auto& s : central_->out().take_sends()) {
      observe_central(s);
      auto it = routing_.find(s.to);
      if (it == routing_.end()) {
        continue;  // ROUTER: unknown peer, dropped
      }
      link& l = *it->second;
      if (l.peer() != s.to) {
        continue;
      }
      auto msg = p::make("central", std::move(s.body), s.correlation);
      carry(l, false, [this, &l, msg] { client_receives(l, msg); });
    }
    for (auto& u : central_->out().take_updates()) {
      check_public(u.cp, "the stream");
      for (auto& dn : drivers_) {
        if (rng_.chance(0.02) && active()) {
          continue;  // a lost stream update: the subscriber sees a gap
        }
        auto msg = p::make("central", p::body{u});
        at(now_ + latency(), [this, dn = dn.get(), msg] {
          dn->runner->on_stream(msg, now_);
          drain_driver(*dn);
        });
      }
    }
    central_->out().take_notices();
    check_central();
  }

  // Who is at the client end of `l`, and hand it the message.
  void client_receives(link& l, const p::message& msg) {
    trace(l.name + " <- central", msg);
    const bool unauth = msg.is<p::error_reply>() && msg.as<p::error_reply>().code == errc::unauthenticated;
    for (auto& cp : cps_) {
      if (&l == &cp->engine_central && cp->engine) {
        unauth ? cp->engine->on_central_unauthenticated(now_) : cp->engine->on_central(msg, now_);
        drain_engine(*cp);
        return;
      }
      if (&l == &cp->monitor_central && cp->monitor) {
        unauth ? cp->monitor->on_central_unauthenticated(now_) : cp->monitor->on_central(msg, now_);
        drain_monitor(*cp);
        return;
      }
    }
    for (auto& dn : drivers_) {
      if (&l == &dn->central) {
        observe_driver_receives(*dn, msg);
        unauth ? dn->runner->reintroduce(now_) : dn->runner->on_central(msg, now_);
        drain_driver(*dn);
        return;
      }
    }
  }

  // ---- CPs ------------------------------------------------------------------------

  void start_engine(cp_node& cp) {
    cp.engine = std::make_unique<d::engine_machine>(d::engine_setup{6000, "central:7000"}, cp.ledger, now_);
    drain_engine(cp);
    // A new process: a new connection to Central.
    reconnect(cp.engine_central, [this, &cp] {
      cp.engine->on_central_connected(now_);
      drain_engine(cp);
    });
  }

  void start_monitor(cp_node& cp) {
    cp.monitor = std::make_unique<d::monitor_machine>(d::monitor_setup{cp.id, "engine:6000", "central:7000"}, now_);
    drain_monitor(cp);
    reconnect(cp.monitor_central, [this, &cp] {
      cp.monitor->on_central_connected(now_);
      drain_monitor(cp);
    });
    reconnect(cp.monitor_engine, [this, &cp] {
      cp.monitor->on_engine_connected(now_);
      drain_monitor(cp);
    });
  }

  void drain_engine(cp_node& cp) {
    for (auto& s : cp.engine->out().take_sends()) {
      observe_engine(cp, s);
      if (s.to == d::engine_machine::central_link) {
        to_central(cp.engine_central, std::move(s.body), s.correlation, cp.engine->sender());
        continue;
      }
      link& l = cp.monitor_engine;
      if (s.to != l.peer()) {
        continue;  // an old Monitor session
      }
      auto msg = p::make(cp.engine->sender(), std::move(s.body), s.correlation);
      carry(l, false, [this, &cp, msg] {
        if (cp.monitor) {
          trace(cp.id + " monitor <- engine", msg);
          cp.monitor->on_engine(msg, now_);
          drain_monitor(cp);
        }
      });
    }
    cp.engine->out().take_notices();
    check_engine(cp);
  }

  void drain_monitor(cp_node& cp) {
    for (auto& s : cp.monitor->out().take_sends()) {
      if (s.to == d::monitor_machine::central_link) {
        to_central(cp.monitor_central, std::move(s.body), s.correlation, "monitor:" + cp.id);
        continue;
      }
      link& l = cp.monitor_engine;
      if (!l.up) {
        continue;
      }
      const std::string peer = l.peer();
      auto msg = p::make("monitor:" + cp.id, std::move(s.body), s.correlation);
      carry(l, true, [this, &cp, peer, msg] {
        if (cp.engine) {
          trace(cp.id + " engine <- monitor", msg);
          cp.engine->on_monitor(peer, msg, now_);
          drain_engine(cp);
        }
      });
    }
    cp.monitor->out().take_notices();
  }

  // ---- drivers ----------------------------------------------------------------------

  void drain_driver(driver_node& dn) {
    for (auto& s : dn.runner->out().take_sends()) {
      to_central(dn.central, std::move(s.body), s.correlation, "driver:" + dn.id);
    }
    for (auto& n : dn.runner->out().take_notices()) {
      if (n.name == "ticket") {
        const auto cp = field(n.fields, "cp");
        const auto charge = field(n.fields, "charge_id");
        if (++dn.shown[{cp, charge}] > 1) {
          violation("driver " + dn.id + " was shown the ticket of " + cp + "/" + charge + " twice");
        }
      }
    }
  }

  static std::string field(const json::object& o, const char* name) {
    auto it = o.find(name);
    return it != o.end() && it->second.is_string() ? it->second.get<std::string>() : std::string{};
  }

  // ---- what the invariants need to know ------------------------------------------------

  void observe_engine(const cp_node& cp, const d::outgoing& s) {
    if (const auto* r = std::get_if<p::authorize_reply>(&s.body); r != nullptr && r->ok) {
      request_of_[{cp.id, r->charge_id}] = r->request_id;
    }
  }

  void observe_central(const d::outgoing& s) {
    if (const auto* dec = std::get_if<p::authorize_decision>(&s.body)) {
      const key k{dec->cp_id, dec->charge_id};
      if (dec->confirmed && confirmed_.insert(k).second) {
        // A CP is never BUSY for two drivers: the first yes goes out only
        // for the charge Central's model holds at that CP (resends of it
        // may follow after the charge ended, until the CP acknowledges).
        const auto* entry = central_->model().find(dec->cp_id);
        if (entry == nullptr || !entry->charge || entry->charge->charge_id != dec->charge_id) {
          violation("Central confirmed " + dec->cp_id + "/" + dec->charge_id + " while its model holds " +
                    (entry && entry->charge ? entry->charge->charge_id : std::string("no charge")));
        } else {
          owner_[k] = entry->charge->driver_id;
        }
      } else if (!dec->confirmed && cancelled_.insert(k).second) {
        ++out_.cancelled;
      }
      // One Central decides once. (A restarted Central has forgotten what its
      // predecessor decided: the Engine, which never takes back a yes it
      // acted on, is the authority then.)
      const auto decided = std::make_tuple(central_incarnation_, k.first, k.second);
      if (!decisions_.emplace(decided, dec->confirmed).second && decisions_[decided] != dec->confirmed) {
        violation("Central both confirmed and cancelled " + k.first + "/" + k.second);
      }
    }
  }

  // What a driver was told is what reached it: an answer lost on the way
  // (and asked again of a restarted Central) was never told.
  void observe_driver_receives(const driver_node& dn, const p::message& m) {
    // Privacy: a driver hears of its own charges only, and the table it is
    // sent names nobody's charge.
    if (const auto* snap = std::get_if<p::snapshot>(&m.payload)) {
      for (const auto& cp : snap->cps) {
        check_public(cp, "a snapshot sent to driver " + dn.id);
      }
    }
    const auto not_own = [&](const std::string& cp_id, const std::string& charge_id, const char* what) {
      const auto it = owner_.find({cp_id, charge_id});
      if (it != owner_.end() && it->second != dn.id) {
        violation("driver " + dn.id + " was sent " + what + " of " + it->second + "'s charge " + charge_id);
      }
    };
    if (const auto* pr = std::get_if<p::progress>(&m.payload)) {
      not_own(pr->cp_id, pr->charge_id, "the progress");
    } else if (const auto* ci = std::get_if<p::charge_interrupted>(&m.payload)) {
      not_own(ci->cp_id, ci->charge_id, "the interruption");
    } else if (const auto* tk = std::get_if<p::ticket>(&m.payload)) {
      if (tk->record.driver_id != dn.id) {
        violation("driver " + dn.id + " was sent " + tk->record.driver_id + "'s ticket " + tk->record.charge_id);
      }
    }
    if (const auto* r = std::get_if<p::charge_reply>(&m.payload)) {
      const key k{r->cp_id, r->request_id};
      if (!r->ok) {
        denied_.insert(k);
        ++out_.denials;
      } else {
        yes_.insert(k);
      }
      if (denied_.count(k) && yes_.count(k)) {
        violation("driver " + dn.id + " was told both yes and no for " + r->request_id + " at " + r->cp_id);
      }
    }
  }

  void check_engine(const cp_node& cp) {
    // No energy without a yes: whatever the Engine supplies, Central confirmed.
    if (cp.engine->cp().charging()) {
      const auto v = cp.engine->cp().current();
      if (v.kwh > 0 && !confirmed_.count({cp.id, v.charge_id})) {
        violation("CP " + cp.id + " supplies " + v.charge_id + " that Central never confirmed");
      }
    }
  }

  void check_central() {}

  void check_public(const p::cp_info& cp, const std::string& where) {
    if (!cp.driver_id.empty() || cp.kwh != 0.0 || cp.amount != 0.0) {
      violation(where + " shows " + cp.cp_id + "'s charge: driver '" + cp.driver_id + "', " + std::to_string(cp.kwh) +
                " kWh");
    }
  }

  // EVNET_SIM_TRACE=1 prints every delivery: what a replayed seed did.
  void trace(const std::string& where, const p::message& m) {
    if (!trace_) {
      return;
    }
    std::string detail;
    std::visit(
        [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (requires { b.request_id; }) {
            detail += " req=" + b.request_id;
          }
          if constexpr (requires { b.charge_id; }) {
            detail += " charge=" + b.charge_id;
          }
          if constexpr (requires { b.ok; }) {
            detail += b.ok ? " ok" : " NO";
          }
          if constexpr (requires { b.confirmed; }) {
            detail += b.confirmed ? " CONFIRMED" : " CANCELLED";
          }
          if constexpr (std::is_same_v<T, p::charge_finished> || std::is_same_v<T, p::ticket>) {
            detail += " charge=" + b.record.charge_id + " kwh=" + std::to_string(b.record.kwh);
          }
          if constexpr (requires { b.reason; }) {
            if constexpr (std::is_same_v<decltype(b.reason), const std::string>) {
              if (!b.reason.empty()) {
                detail += " (" + b.reason + ")";
              }
            }
          }
        },
        m.payload);
    std::fprintf(stderr, "%8lld %-28s %s%s\n", static_cast<long long>(now_), where.c_str(),
                 std::string(m.type()).c_str(), detail.c_str());
  }

  void violation(std::string what) {
    if (out_.violations.size() < 10) {
      std::ostringstream s;
      s << "t=" << now_ << "ms: " << what;
      out_.violations.push_back(s.str());
    }
  }

  void check_end();

  // ---- the scenario ------------------------------------------------------------------------

  void build();
  void schedule_ticks();
  void chaos();
  void settle();

  options opts_;
  bool trace_ = false;
  rng rng_;
  outcome out_;
  std::int64_t now_ = 0;
  std::uint64_t order_ = 0;
  std::priority_queue<event, std::vector<event>, std::greater<>> queue_;

  d::memory_book book_;
  std::unique_ptr<d::central_machine> central_;
  int central_incarnation_ = 0;
  std::vector<std::unique_ptr<cp_node>> cps_;
  std::vector<std::unique_ptr<driver_node>> drivers_;
  std::map<std::string, link*> routing_;  // routing id -> link (every session ever)

  std::map<key, std::string> request_of_;  // (cp, charge) -> request id
  std::set<key> confirmed_;                // (cp, charge)
  std::map<key, std::string> owner_;       // (cp, charge) -> the driver it was confirmed for
  std::set<key> cancelled_;
  std::map<std::tuple<int, std::string, std::string>, bool> decisions_;  // per Central incarnation
  std::set<key> denied_;                   // (cp, request)
  std::set<key> yes_;
};

void world::build() {
  d::seed seed;
  for (int i = 0; i < opts_.cps; ++i) {
    auto cp = std::make_unique<cp_node>();
    cp->id = "CP" + std::to_string(i + 1);
    cp->price = 0.30 + 0.07 * i;
    cp->engine_central.name = "engine-" + cp->id;
    cp->monitor_central.name = "monitor-" + cp->id;
    cp->monitor_engine.name = "monitor-" + cp->id + "-engine";
    seed.cps.push_back(d::cp_record{cp->id, "street " + std::to_string(i + 1), cp->price});
    cps_.push_back(std::move(cp));
  }
  for (int i = 0; i < opts_.drivers; ++i) {
    auto dn = std::make_unique<driver_node>();
    dn->id = "D" + std::to_string(i + 1);
    dn->central.name = "driver-" + dn->id;
    dn->runner = std::make_unique<d::driver_runner>(d::driver_runner_settings{dn->id, "central:7000", 0});
    seed.drivers.push_back(d::driver_record{dn->id, "driver " + std::to_string(i + 1)});
    drivers_.push_back(std::move(dn));
  }
  book_ = d::memory_book{std::move(seed)};
  start_central();
  for (auto& cp : cps_) {
    // Components start in any order, a little apart.
    at(rng_.between(0, 1500), [this, c = cp.get()] { start_engine(*c); });
    at(rng_.between(0, 1500), [this, c = cp.get()] { start_monitor(*c); });
  }
  for (auto& dn : drivers_) {
    at(rng_.between(0, 1500), [this, x = dn.get()] {
      x->runner->start(now_);
      reconnect(x->central, [this, x] {
        x->runner->on_connected(now_);
        drain_driver(*x);
      });
    });
  }
}

void world::schedule_ticks() {
  // Every process ticks at its own period, with its own phase.
  for (std::int64_t t = rng_.between(0, 999); t < opts_.active_ms + opts_.settle_ms; t += 1000) {
    at(t, [this] {
      if (central_) {
        central_->on_tick(now_);
        drain_central();
      }
    });
  }
  for (auto& cp : cps_) {
    for (std::int64_t t = rng_.between(0, 249); t < opts_.active_ms + opts_.settle_ms; t += d::engine_machine::tick_ms) {
      at(t, [this, c = cp.get()] {
        if (c->engine) {
          c->engine->on_tick(now_);
          drain_engine(*c);
        }
      });
    }
    for (std::int64_t t = rng_.between(0, 999); t < opts_.active_ms + opts_.settle_ms; t += d::monitor_machine::tick_ms) {
      at(t, [this, c = cp.get()] {
        if (c->monitor) {
          c->monitor->on_tick(now_);
          drain_monitor(*c);
        }
      });
    }
  }
  for (auto& dn : drivers_) {
    for (std::int64_t t = rng_.between(0, 499); t < opts_.active_ms + opts_.settle_ms; t += 500) {
      at(t, [this, x = dn.get()] {
        x->runner->on_tick(now_);
        drain_driver(*x);
      });
    }
  }
}

// One random thing happens every few hundred milliseconds of the active window.
void world::chaos() {
  for (std::int64_t t = 500; t < opts_.active_ms; t += rng_.between(100, 700)) {
    at(t, [this] {
      const auto what = rng_.between(0, 99);
      auto& cp = *cps_[static_cast<std::size_t>(rng_.between(0, opts_.cps - 1))];
      auto& dn = *drivers_[static_cast<std::size_t>(rng_.between(0, opts_.drivers - 1))];
      if (what < 30) {  // a driver asks for a charge
        if (!dn.runner->charging()) {
          ++out_.requests;
          const std::int64_t duration = rng_.chance(0.2) ? 0 : rng_.between(1, 8);
          dn.runner->on_console(d::driver_command{d::driver_cmd::charge{cp.id, duration > 0 ? std::optional<std::int64_t>(duration) : std::nullopt}}, now_);
          drain_driver(dn);
        }
      } else if (what < 40) {  // someone at the CP plugs in or unplugs
        if (cp.engine && cp.engine->cp().charging()) {
          const auto v = cp.engine->cp().current();
          cp.engine->on_console(v.plugged ? d::engine_command::unplug : d::engine_command::plug, now_);
          drain_engine(cp);
        }
      } else if (what < 45) {  // a fault, repaired a few seconds later
        if (cp.engine && !cp.fault) {
          cp.fault = true;
          cp.engine->on_console(d::engine_command::fault, now_);
          drain_engine(cp);
          at(now_ + rng_.between(1000, 6000), [this, c = &cp] {
            c->fault = false;
            if (c->engine) {
              c->engine->on_console(d::engine_command::repair, now_);
              drain_engine(*c);
            }
          });
        }
      } else if (what < 50) {  // the operator stops or resumes a CP
        if (central_) {
          d::operator_command cmd;
          cmd.verb = d::operator_verb::order;
          cmd.order = rng_.chance(0.5) ? cp_order::stop : cp_order::resume;
          cmd.target = cp.id;
          central_->on_operator(cmd, now_);
          drain_central();
        }
      } else if (what < 53) {  // a charge started at the CP itself
        if (cp.monitor) {
          cp.monitor->on_console(d::monitor_command{d::monitor_verb::charge, rng_.between(1, 6)}, now_);
          drain_monitor(cp);
        }
      } else if (what < 75) {  // a pause of up to 2 s on some link
        link* links[] = {&cp.engine_central, &cp.monitor_central, &cp.monitor_engine, &dn.central};
        pause(*links[rng_.between(0, 3)], rng_.between(100, 2000));
      } else if (what < 85) {  // a real outage on some link
        const auto ms = rng_.between(4000, 9000);
        switch (rng_.between(0, 3)) {
          case 0:
            outage(cp.engine_central, ms, [this, c = &cp] { if (c->engine) { c->engine->on_central_disconnected(now_); drain_engine(*c); } },
                   [this](const std::string& peer) { if (central_) { central_->on_peer_gone(peer, now_); drain_central(); } },
                   [this, c = &cp] { if (c->engine) { c->engine->on_central_connected(now_); drain_engine(*c); } });
            break;
          case 1:
            outage(cp.monitor_central, ms, [this, c = &cp] { if (c->monitor) { c->monitor->on_central_disconnected(now_); drain_monitor(*c); } },
                   [this](const std::string& peer) { if (central_) { central_->on_peer_gone(peer, now_); drain_central(); } },
                   [this, c = &cp] { if (c->monitor) { c->monitor->on_central_connected(now_); drain_monitor(*c); } });
            break;
          case 2:
            outage(cp.monitor_engine, ms, [] {},
                   [this, c = &cp](const std::string& peer) { if (c->engine) { c->engine->on_monitor_gone(peer, now_); drain_engine(*c); } },
                   [this, c = &cp] { if (c->monitor) { c->monitor->on_engine_connected(now_); drain_monitor(*c); } });
            break;
          default:
            outage(dn.central, ms, [this, x = &dn] { x->runner->on_disconnected(now_); drain_driver(*x); },
                   [this](const std::string& peer) { if (central_) { central_->on_peer_gone(peer, now_); drain_central(); } },
                   [this, x = &dn] { x->runner->on_connected(now_); drain_driver(*x); });
            break;
        }
      } else if (what < 90 && opts_.restarts) {  // a process dies and comes back
        ++out_.restarts;
        const auto down = rng_.between(500, 6000);
        switch (rng_.between(0, 2)) {
          case 0:
            if (central_) {
              central_.reset();
              // Every client's link to the dead Central: a long silence is an
              // outage; a short one is a reconnect under the same id that the
              // new Central does not know (it answers `unauthenticated`).
              at(now_ + down, [this] { start_central(); });
              if (down > client_liveness_ms) {
                for (auto& c : cps_) {
                  outage(c->engine_central, down, [this, x = c.get()] { if (x->engine) { x->engine->on_central_disconnected(now_); drain_engine(*x); } }, [](const std::string&) {},
                         [this, x = c.get()] { if (x->engine) { x->engine->on_central_connected(now_); drain_engine(*x); } });
                  outage(c->monitor_central, down, [this, x = c.get()] { if (x->monitor) { x->monitor->on_central_disconnected(now_); drain_monitor(*x); } }, [](const std::string&) {},
                         [this, x = c.get()] { if (x->monitor) { x->monitor->on_central_connected(now_); drain_monitor(*x); } });
                }
                for (auto& x : drivers_) {
                  outage(x->central, down, [this, y = x.get()] { y->runner->on_disconnected(now_); drain_driver(*y); }, [](const std::string&) {},
                         [this, y = x.get()] { y->runner->on_connected(now_); drain_driver(*y); });
                }
              }
            }
            break;
          case 1:
            if (cp.engine) {
              cp.engine.reset();
              cp.engine_central.broken = true;
              const std::string old_engine = cp.engine_central.peer();
              at(now_ + server_expiry_ms, [this, old_engine] { if (central_) { central_->on_peer_gone(old_engine, now_); drain_central(); } });
              at(now_ + down, [this, c = &cp] { start_engine(*c); });
            }
            break;
          default:
            if (cp.monitor) {
              cp.monitor.reset();
              cp.monitor_central.broken = true;
              cp.monitor_engine.broken = true;
              const std::string old_central = cp.monitor_central.peer();
              const std::string old_engine = cp.monitor_engine.peer();
              at(now_ + server_expiry_ms, [this, c = &cp, old_central, old_engine] {
                if (central_) { central_->on_peer_gone(old_central, now_); drain_central(); }
                if (c->engine) { c->engine->on_monitor_gone(old_engine, now_); drain_engine(*c); }
              });
              at(now_ + down, [this, c = &cp] { start_monitor(*c); });
            }
            break;
        }
      }
    });
  }
}

// After the active window: faults repaired, STOPs lifted, charges unplugged,
// so that everything owed can be settled.
void world::settle() {
  at(opts_.active_ms + 7000, [this] {
    for (auto& cp : cps_) {
      if (central_) {
        d::operator_command cmd;
        cmd.verb = d::operator_verb::order;
        cmd.order = cp_order::resume;
        cmd.target = cp->id;
        central_->on_operator(cmd, now_);
        drain_central();
      }
    }
  });
  for (std::int64_t t = opts_.active_ms + 8000; t < opts_.active_ms + opts_.settle_ms - 15000; t += 1000) {
    at(t, [this] {
      for (auto& cp : cps_) {
        if (cp->engine && cp->engine->cp().charging()) {
          const auto v = cp->engine->cp().current();
          cp->engine->on_console(v.plugged ? d::engine_command::unplug : d::engine_command::plug, now_);
          drain_engine(*cp);
        }
      }
    });
  }
}

void world::check_end() {
  const auto& stored = book_.charges();
  std::map<key, protocol::charge_record> supplied;
  for (const auto& cp : cps_) {
    for (const auto& [r, acked] : cp->ledger.records()) {
      if (!supplied.emplace(key{r.cp_id, r.charge_id}, r).second) {
        violation("Engine of " + r.cp_id + " recorded " + r.charge_id + " twice");
      }
      if (!acked) {
        violation("record " + r.cp_id + "/" + r.charge_id + " never acknowledged by Central");
      }
    }
  }
  for (const auto& [k, r] : supplied) {
    auto it = stored.find(k);
    if (it == stored.end()) {
      violation("supplied charge " + k.first + "/" + k.second + " was never stored");
      continue;
    }
    if (it->second.kwh != r.kwh || it->second.amount != r.amount || it->second.driver_id != r.driver_id) {
      violation("stored " + k.first + "/" + k.second + " differs from what the Engine supplied");
    }
  }
  for (const auto& [k, r] : stored) {
    if (!supplied.count(k)) {
      violation("Central billed " + k.first + "/" + k.second + " that no Engine supplied");
    }
    if (std::fabs(r.amount - std::round(r.kwh * r.price * 100.0) / 100.0) > 0.0051) {
      violation("amount of " + k.first + "/" + k.second + " is not kWh x price");
    }
    if (r.kwh > 0 && !confirmed_.count(k)) {
      violation("energy supplied for " + k.first + "/" + k.second + " without Central's confirmation");
    }
    if (cancelled_.count(k)) {
      violation("Central billed " + k.first + "/" + k.second + " whose request it refused");
    }
    if (auto req = request_of_.find(k); req != request_of_.end() && denied_.count({k.first, req->second})) {
      violation("a driver told 'denied' was billed for " + k.first + "/" + k.second);
    }
    ++out_.charges_billed;
    if (r.driver_id.empty() || r.driver_id.front() == '@') {
      continue;  // a charge started at the CP: no driver to ticket
    }
    int shown = 0;
    for (const auto& dn : drivers_) {
      if (auto s = dn->shown.find(k); s != dn->shown.end()) {
        shown += s->second;
        if (dn->id != r.driver_id) {
          violation("driver " + dn->id + " was shown " + r.driver_id + "'s ticket " + k.second);
        }
      }
    }
    if (shown != 1) {
      violation("the ticket of " + k.first + "/" + k.second + " was shown " + std::to_string(shown) + " times");
    }
    if (!book_.delivered(k.first, k.second)) {
      violation("the ticket of " + k.first + "/" + k.second + " is still owed");
    }
  }
  for (const auto& dn : drivers_) {
    if (dn->runner->charging()) {
      violation("driver " + dn->id + " is still waiting for a charge after the network settled");
    }
  }
  if (central_) {
    for (const auto& cp : cps_) {
      const auto* e = central_->model().find(cp->id);
      if (e != nullptr && e->charge) {
        violation("Central still shows " + cp->id + " charging " + e->charge->charge_id + " after it settled");
      }
    }
  }
}

outcome world::run() {
  build();
  schedule_ticks();
  chaos();
  settle();
  const std::int64_t end = opts_.active_ms + opts_.settle_ms;
  while (!queue_.empty() && queue_.top().time <= end) {
    auto ev = queue_.top();
    queue_.pop();
    now_ = ev.time;
    ++out_.events;
    ev.run();
  }
  now_ = end;
  check_end();
  return out_;
}

} // namespace

outcome run(std::uint64_t seed, const options& opts) {
  world w{seed, opts};
  return w.run();
}

} // namespace evnet::sim

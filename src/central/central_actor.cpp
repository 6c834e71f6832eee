#include "central_actor.hpp"

#include "evnet/domain/central_machine.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/runtime/log.hpp"
#include "evnet/security/ocpp_password.hpp"
#include "operator_command.hpp"

#include "evnet/text.hpp"

#include <chrono>
#include <set>
#include <utility>
#include <vector>

namespace evnet::central {

namespace {

const std::string central_name = "central";

// Wiring only: every decision is domain::central_machine's. This actor hands
// it the inputs with the time and sends what it produced.
class central_actor : public runtime::core_actor {
public:
  central_actor(caf::actor_config& cfg, central_links links, central_settings settings,
                std::unique_ptr<store::central_store> db, domain::network model, caf::actor view)
      : runtime::core_actor(cfg, std::move(view), std::chrono::seconds{1}),
        links_(links),
        settings_(std::move(settings)),
        db_(std::move(db)),
        // The stream's sequence starts at the wall clock so that a restarted
        // Central continues above anything subscribers saw before: they see
        // a gap and ask for a snapshot (Clone pattern) instead of ignoring us.
        machine_(*db_, std::move(model), static_cast<std::uint64_t>(now()) * 1000) {
    // Group commit: the messages, events, commands and ticks waiting
    // together share one transaction of the store, and what they produced
    // leaves only once it is durable (see begin_batch/end_batch below).
    group_inputs();
    machine_.set_stream_port(settings_.pub_port != 0 ? settings_.pub_port : settings_.port + 1);
    // OCPP charge points' passwords: the salted hash from the store, checked
    // here (Argon2id: milliseconds, and only for an OCPP gateway's cp_auth).
    machine_.set_ocpp_password_check([this](const std::string& cp_id, const std::string& password) {
      const auto hash = db_->ocpp_password_hash(cp_id);
      return hash.ok() && hash->has_value() && security::verify_ocpp_password(**hash, password);
    });
  }

protected:
  void on_start() override {
    emit("started", {{"port", settings_.port},
                     {"pub_port", machine_.stream_port()},
                     {"bind", settings_.bind},
                     {"db", settings_.db_path},
                     {"cps", machine_.model().cp_ids().size()}});
    machine_.start(now());
  }

  void on_inbound(transport::inbound& in) override {
    if (const auto* e = std::get_if<protocol::error_reply>(&in.msg.payload)) {
      // The detail is the peer's own text: JSON-escaped when logged.
      runtime::log_line(central_name, "peer " + printable_id(in.peer) + " reported error " +
                                          std::string(to_string(e->code)) + ": " + json::dump(json::value(e->detail)));
    }
    machine_.on_message(in.peer, in.user_id, in.msg, now());
  }

  void on_link_event(const transport::link_event& ev) override {
    switch (ev.kind) {
      case transport::event_kind::peer_gone: {
        machine_.on_peer_gone(ev.peer, now());
        break;
      }
      case transport::event_kind::rejected: {
        const auto who = printable_id(ev.peer);
        emit("error", {{"code", errc::rejected}, {"message", "from " + who + ": " + ev.detail}});
        runtime::log_line(central_name, "rejected frame from " + who + ": " + ev.detail);
        machine_.on_rejected_frame(ev.peer, ev.user_id, ev.detail, now());
        break;
      }
      case transport::event_kind::admitted:
      case transport::event_kind::refused: {
        // Which socket the handshake was for: requests or the stream.
        const std::string detail = std::string(ev.link == links_.publisher ? "stream" : "requests") +
                                   (ev.detail.empty() ? "" : ": " + ev.detail);
        machine_.on_admission(ev.kind == transport::event_kind::admitted, ev.user_id, ev.key, ev.address, detail,
                              now());
        break;
      }
      case transport::event_kind::send_failed: {
        runtime::log_line(central_name, "send to " + printable_id(ev.peer) + " failed: " + ev.detail);
        break;
      }
      default: {
        break;
      }
    }
  }

  void on_command(const std::string& line) override {
    auto cmd = parse_operator_command(line);
    if (!cmd) {
      emit("error", {{"code", cmd.err().code}, {"message", cmd.err().message}});
      return;
    }
    machine_.on_operator(*cmd, now());
  }

  void on_tick(std::int64_t now) override {
    follow_store(now);
    machine_.on_tick(now);
  }

  // A signal or the panel's quit: the same orderly words as the `quit`
  // command (the core commits and flushes, then after_each() quits).
  void on_quit() override {
    domain::operator_command quit;
    quit.verb = domain::operator_verb::quit;
    machine_.on_operator(quit, now());
  }

  // ---- group commit ------------------------------------------------------
  void begin_batch() override {
    if (auto st = db_->begin_batch(); !st) {
      // Only if a batch were left open, which the core never does: the
      // writes then go on one by one, each committed at once.
      emit("error", {{"code", st.err().code}, {"message", st.err().message}});
    }
  }

  // The batch's writes become durable here, before anything they justify
  // (a record_ack, a ticket, a yes) leaves in after_each(). A failed commit
  // is a failed write, handled as the machine handles one: shown to the
  // operator (an `error` event) and not acknowledged. Since the batch is
  // lost as a whole, nothing it produced for a peer leaves: every peer
  // asks again (an Engine resends its record until record_ack, a driver
  // its request, a CP its answer) and the retry is written again. Stream
  // updates and the operator's events still go: they show the state, they
  // promise nothing.
  void end_batch() override {
    if (!db_->in_batch()) {
      return;
    }
    auto st = db_->commit_batch();
    if (st) {
      return;
    }
    emit("error", {{"code", st.err().code}, {"message", st.err().message}});
    const auto withheld = machine_.out().take_sends().size();
    runtime::log_line(central_name, "store: " + st.err().message + "; " + std::to_string(withheld) +
                                        " replies withheld (their senders retry)");
  }

  bool output_waits() const override { return db_->batch_has_writes(); }
  // Nothing to send: the batch's writes (audit rows of admitted keys) may
  // wait a little for company (core_actor's max_defer).
  bool output_pending() override { return !machine_.out().empty(); }

  void after_each() override {
    auto& out = machine_.out();
    // Events first: what a peer hears has been told to the operator already.
    for (auto& n : out.take_notices()) {
      emit(std::move(n.name), std::move(n.fields));
    }
    for (auto& s : out.take_sends()) {
      protocol::message m;
      m.sender = central_name;
      m.correlation = s.correlation;
      m.payload = std::move(s.body);
      links_.net->send(links_.router, s.to, m);
    }
    for (auto& u : out.take_updates()) {
      links_.net->publish(links_.publisher, "cp", protocol::make(central_name, std::move(u)));
    }
    // The stream's heartbeat (Clone pattern) follows the updates it names.
    if (auto hugz = machine_.take_stream_heartbeat()) {
      links_.net->publish(links_.publisher, "cp", protocol::make(central_name, *hugz));
    }
    // A revoked key stops counting now: the ring refuses its handshakes and
    // its messages, the transport cuts its open connections.
    for (const auto& identity : machine_.take_revoked()) {
      if (links_.ring) {
        links_.ring->revoke(identity);
      }
      links_.net->revoke(identity);
    }
    if (machine_.quit_requested() && !quitting_) {
      quitting_ = true;
      quit_now();
    }
  }

private:
  // `tools/evnet keys add-cp|add-driver|revoke` write the store while Central
  // runs: when another connection has committed (SQLite's data_version moved),
  // take in new CPs and drivers, and bring the admitted keys in line,
  // revoking at once what the store says is revoked.
  void follow_store(std::int64_t now) {
    auto version = db_->data_version();
    if (!version || *version == data_version_) {
      return;
    }
    const bool first_look = data_version_ < 0;  // the keys main() loaded: nothing new yet
    data_version_ = *version;
    machine_.reload_registry(now);
    if (!links_.ring) {
      return;
    }
    auto keys = db_->admitted_keys();
    if (!keys) {
      emit("error", {{"code", keys.err().code}, {"message", keys.err().message}});
      return;
    }
    std::set<std::string> admitted;
    for (const auto& [key, identity] : *keys) {
      admitted.insert(identity);
    }
    std::vector<std::string> gone;
    for (const auto& identity : admitted_) {
      if (admitted.count(identity) == 0) {
        gone.push_back(identity);
      }
    }
    const auto count = keys->size();
    links_.ring->replace(std::move(*keys));
    if (!first_look) {
      emit("keys", {{"admitted", count}});
    }
    for (const auto& identity : admitted) {
      machine_.readmit(identity);  // a new key after a revocation is heard again
    }
    admitted_ = std::move(admitted);
    for (const auto& identity : gone) {
      machine_.on_revoked_elsewhere(identity, now);
    }
    // What this produced leaves with the tick's batch, after its commit.
  }

  central_links links_;
  bool quitting_ = false;
  std::int64_t data_version_ = -1;
  std::set<std::string> admitted_;  // identities the ring admitted at the last look
  central_settings settings_;
  std::unique_ptr<store::central_store> db_;  // the machine's book: declared before it
  domain::central_machine machine_;
};

} // namespace

caf::actor spawn_central(caf::actor_system& sys, central_links links, central_settings settings,
                         std::unique_ptr<store::central_store> db, domain::network model, caf::actor view) {
  return sys.spawn<central_actor>(links, std::move(settings), std::move(db), std::move(model), std::move(view));
}

} // namespace evnet::central

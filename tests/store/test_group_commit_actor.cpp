// Group commit as Central drives it (runtime::core_actor with
// group_inputs() over a central_store): messages waiting together share one
// commit, and nothing an input produced leaves before the writes it
// depends on are durable, visible to another connection. CAF's testing
// scheduler runs the actor deterministically.
//
// (It lives with the store tests because it is the store's contract seen
// from the actor; tests/runtime would mirror src/ better.)
#define BOOST_TEST_MODULE store_group_commit_actor
#include <boost/test/unit_test.hpp>

#include "evnet/runtime/actor_sink.hpp"
#include "evnet/runtime/atoms.hpp"
#include "evnet/runtime/core_actor.hpp"
#include "evnet/store/central_store.hpp"
#include "temp_dir.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace evnet;
using evnet::store::central_store;

namespace {

// What the probe did, in order: "begin", "handle X", "commit", "send X
// (visible)" or "send X (NOT visible)".
struct journal {
  std::vector<std::string> lines;
  std::size_t count(const std::string& line) const {
    std::size_t n = 0;
    for (const auto& l : lines) {
      n += l == line ? 1 : 0;
    }
    return n;
  }
};

protocol::charge_record charge(const std::string& id) {
  protocol::charge_record r;
  r.cp_id = "ALC1";
  r.charge_id = id;
  r.driver_id = "D1";
  r.kwh = 1.0;
  r.price = 0.4;
  r.amount = 0.4;
  r.reason = end_reason::completed;
  return r;
}

transport::inbound finished(const std::string& id) {
  transport::inbound in;
  in.peer = "engine-ALC1";
  in.msg = protocol::make("engine", protocol::charge_finished{charge(id)});
  return in;
}

transport::inbound telemetry(const std::string& id) {
  transport::inbound in;
  in.peer = "engine-ALC1";
  in.msg = protocol::make("engine", protocol::telemetry{"ALC1", id, "D1", 1, 0.5, 0.2});
  return in;
}

// Central's wiring in miniature: a charge_finished is recorded (a write)
// and acknowledged; telemetry writes nothing and is passed on; an admission
// is audited and answered with nothing. after_each() "sends" what is owed
// and checks, with another connection, that the record behind each
// acknowledgement is durable.
class probe : public runtime::core_actor {
public:
  probe(caf::actor_config& cfg, caf::actor view, central_store* db, central_store* other, journal* log,
        std::size_t max_inputs)
      : runtime::core_actor(cfg, std::move(view), std::chrono::hours{1}), db_(db), other_(other), log_(log) {
    group_inputs(max_inputs, std::chrono::hours{1});
  }

protected:
  void on_inbound(transport::inbound& in) override {
    if (const auto* f = std::get_if<protocol::charge_finished>(&in.msg.payload)) {
      log_->lines.push_back("handle " + f->record.charge_id);
      BOOST_TEST(db_->record_charge(f->record).ok());
      owed_.push_back(f->record.charge_id);
    } else if (const auto* t = std::get_if<protocol::telemetry>(&in.msg.payload)) {
      log_->lines.push_back("handle progress " + t->charge_id);
      progress_.push_back(t->charge_id);
    }
  }
  void on_link_event(const transport::link_event& ev) override {
    log_->lines.push_back("handle admitted " + ev.user_id);
    BOOST_TEST(db_->audit(domain::audit_entry{1, "key " + ev.user_id, "auth", {}, "admitted"}).ok());
  }
  void on_command(const std::string&) override {}
  void on_tick(std::int64_t) override {}

  void begin_batch() override {
    log_->lines.push_back("begin");
    BOOST_TEST(db_->begin_batch().ok());
  }
  void end_batch() override {
    const bool wrote = db_->batch_has_writes();
    BOOST_TEST(db_->commit_batch().ok());
    log_->lines.push_back(wrote ? "commit" : "commit (empty)");
  }
  bool output_waits() const override { return db_->batch_has_writes(); }
  bool output_pending() override { return !owed_.empty() || !progress_.empty(); }
  void after_each() override {
    for (const auto& id : progress_) {
      log_->lines.push_back("send progress " + id);
    }
    progress_.clear();
    for (const auto& id : owed_) {
      const auto known = other_->knows_charge("ALC1", id);
      const bool durable = known.ok() && *known;
      log_->lines.push_back("send ack " + id + (durable ? " (visible)" : " (NOT visible)"));
    }
    owed_.clear();
  }

private:
  central_store* db_;
  central_store* other_;
  journal* log_;
  std::vector<std::string> owed_;
  std::vector<std::string> progress_;
};

struct rig {
  evnet::test::temp_dir dir;
  std::unique_ptr<central_store> db = open();
  std::unique_ptr<central_store> other = open();
  journal log;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  caf::actor view;
  caf::actor core;

  explicit rig(std::size_t max_inputs = runtime::core_actor::default_max_inputs) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    view = sys->spawn([](caf::event_based_actor*) -> caf::behavior {
      return {
          [](runtime::event_atom, const json::value&) {},
          [](runtime::quit_atom) {},
      };
    });
    core = sys->spawn<probe>(view, db.get(), other.get(), &log, max_inputs);
    sched->run();  // the actor starts: its first tick, alone in a batch
    log.lines.clear();
  }
  ~rig() {
    caf::anon_send_exit(core, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(view, caf::exit_reason::user_shutdown);
    sched->run();
  }

  std::unique_ptr<central_store> open() {
    auto s = central_store::open(dir.file("central.db"));
    BOOST_REQUIRE(s.ok());
    return std::move(s).value();
  }
};

transport::link_event admitted(const std::string& who) {
  transport::link_event ev;
  ev.kind = transport::event_kind::admitted;
  ev.user_id = who;
  return ev;
}

} // namespace

BOOST_AUTO_TEST_CASE(messages_waiting_together_share_one_commit_and_acks_follow_it) {
  rig r;
  const auto commits = r.db->commits();
  caf::anon_send(r.core, finished("c1"));
  caf::anon_send(r.core, admitted("cp:ALC1"));
  caf::anon_send(r.core, runtime::inbound_batch{{finished("c2"), finished("c3")}});
  caf::anon_send(r.core, admitted("cp:ALC2"));
  r.sched->run();

  const std::vector<std::string> want{
      "begin",          "handle c1", "handle admitted cp:ALC1", "handle c2", "handle c3", "handle admitted cp:ALC2",
      "commit",         "send ack c1 (visible)", "send ack c2 (visible)", "send ack c3 (visible)"};
  BOOST_TEST(r.log.lines == want, boost::test_tools::per_element());
  BOOST_TEST(r.db->commits() == commits + 1);  // six writes, one fsync
  BOOST_TEST(r.other->audit_since(0)->size() == 2u);
}

BOOST_AUTO_TEST_CASE(output_that_depends_on_no_write_leaves_at_once) {
  rig r;
  caf::anon_send(r.core, telemetry("c1"));
  caf::anon_send(r.core, finished("c1"));
  caf::anon_send(r.core, telemetry("c1"));
  r.sched->run();
  // The first progress needs nothing of this batch; once the batch has
  // written, everything waits for the commit.
  const std::vector<std::string> want{"begin",  "handle progress c1", "send progress c1", "handle c1",
                                      "handle progress c1", "commit", "send progress c1",
                                      "send ack c1 (visible)"};
  BOOST_TEST(r.log.lines == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_batch_ends_after_max_inputs_messages) {
  rig r{2};
  const auto commits = r.db->commits();
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) {
    caf::anon_send(r.core, finished(id));
  }
  r.sched->run();
  BOOST_TEST(r.log.count("begin") == 3u);
  BOOST_TEST(r.log.count("commit") == 3u);
  BOOST_TEST(r.db->commits() == commits + 3);
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) {
    BOOST_TEST(r.log.count(std::string("send ack ") + id + " (visible)") == 1u, id);
  }
  BOOST_TEST(r.log.count("send ack c1 (NOT visible)") == 0u);
}

BOOST_AUTO_TEST_CASE(a_lone_message_is_committed_and_answered_alone) {
  rig r;
  caf::anon_send(r.core, finished("c1"));
  r.sched->run();
  caf::anon_send(r.core, finished("c2"));
  r.sched->run();
  const std::vector<std::string> want{"begin", "handle c1", "commit", "send ack c1 (visible)",
                                      "begin", "handle c2", "commit", "send ack c2 (visible)"};
  BOOST_TEST(r.log.lines == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(writes_nobody_waits_for_share_a_later_commit) {
  rig r;
  const auto commits = r.db->commits();
  // Admissions trickle in, each alone in the mailbox: their audit rows
  // wait for company instead of costing an fsync each...
  for (const char* who : {"cp:ALC1", "cp:ALC2", "cp:ALC3"}) {
    caf::anon_send(r.core, admitted(who));
    r.sched->run();
  }
  BOOST_TEST(r.log.count("begin") == 1u);
  BOOST_TEST(r.db->commits() == commits);
  BOOST_TEST(r.other->audit_since(0)->empty());
  // ...until the batch's timer (max_defer after it began) commits them at once.
  r.sched->trigger_timeouts();
  r.sched->run();
  BOOST_TEST(r.log.count("commit") == 1u);
  BOOST_TEST(r.db->commits() == commits + 1);
  BOOST_TEST(r.other->audit_since(0)->size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_deferred_batch_ends_as_soon_as_someone_waits) {
  rig r;
  caf::anon_send(r.core, admitted("cp:ALC1"));
  r.sched->run();  // deferred: nothing to send
  caf::anon_send(r.core, finished("c1"));
  r.sched->run();  // an ack waits: committed now, without the timer
  const std::vector<std::string> want{"begin", "handle admitted cp:ALC1", "handle c1", "commit",
                                      "send ack c1 (visible)"};
  BOOST_TEST(r.log.lines == want, boost::test_tools::per_element());
  BOOST_TEST(r.other->audit_since(0)->size() == 1u);
}

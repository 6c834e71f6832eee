#define BOOST_TEST_MODULE domain_network
#include <boost/test/unit_test.hpp>

#include "evnet/domain/network.hpp"

#include <set>
#include <string>

using evnet::cp_state;
using evnet::errc;
using evnet::domain::cp_record;
using evnet::domain::driver_record;
using evnet::domain::network;
using evnet::domain::session;
using evnet::protocol::charge_record;
using evnet::protocol::telemetry;

namespace {

using ids = std::set<std::string>;

// ALC1 and MAD1 registered, drivers D1 and D2; nobody connected yet.
struct fixture {
  network net;
  fixture() {
    net.add_cp({"ALC1", "C/ Italia 5, Alicante", 0.35});
    net.add_cp({"MAD1", "Gran Via 31, Madrid", 0.45});
    net.add_driver({"D1", "Ana"});
    net.add_driver({"D2", "Luis"});
    net.take_changes();
  }
  void connect(const std::string& id) {
    BOOST_REQUIRE(net.authenticate(id).ok());
    net.take_changes();
  }
  cp_state state(const std::string& id) const { return net.info(id).state; }
  std::string refusal(const std::string& cp, const std::string& driver, std::int64_t duration = 0) const {
    const auto s = net.can_charge(cp, driver, duration);
    return s.ok() ? "ok" : std::string(to_string(s.err().code));
  }
  void start(const std::string& cp, const std::string& charge_id, const std::string& driver = "D1") {
    session s;
    s.charge_id = charge_id;
    s.driver_id = driver;
    s.duration_s = 5;
    s.started_ms = 1'700'000'000'000;
    net.charge_started(cp, s);
  }
};

telemetry tele(const std::string& cp, const std::string& charge_id, std::uint64_t seq, double kwh, double amount) {
  telemetry t;
  t.cp_id = cp;
  t.charge_id = charge_id;
  t.driver_id = "D1";
  t.seq = seq;
  t.kwh = kwh;
  t.amount = amount;
  t.price = 0.35;
  return t;
}

charge_record record(const std::string& cp, const std::string& charge_id) {
  charge_record r;
  r.cp_id = cp;
  r.charge_id = charge_id;
  r.driver_id = "D1";
  return r;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(registry, fixture)

BOOST_AUTO_TEST_CASE(knows_what_was_added) {
  BOOST_TEST(net.knows_cp("ALC1"));
  BOOST_TEST(!net.knows_cp("ALC9"));
  BOOST_TEST(net.knows_driver("D2"));
  BOOST_TEST(!net.knows_driver("D9"));
  BOOST_TEST((net.cp_ids() == std::vector<std::string>{"ALC1", "MAD1"}));
  BOOST_TEST(net.find("ALC9") == nullptr);
  BOOST_REQUIRE(net.find("MAD1") != nullptr);
  BOOST_TEST(net.find("MAD1")->record.price == 0.45);
}

BOOST_AUTO_TEST_CASE(cp_ids_are_sorted) {
  net.add_cp({"AAA0", "x", 0.3});
  net.add_cp({"ZZZ9", "y", 0.3});
  BOOST_TEST((net.cp_ids() == std::vector<std::string>{"AAA0", "ALC1", "MAD1", "ZZZ9"}));
}

BOOST_AUTO_TEST_CASE(add_cp_replaces_location_and_price_and_marks_change) {
  connect("ALC1");
  net.add_cp({"ALC1", "C/ Nueva 1, Alicante", 0.50});
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  const auto info = net.info("ALC1");
  BOOST_TEST(info.location == "C/ Nueva 1, Alicante");
  BOOST_TEST(info.price == 0.50);
  // The connection survives a price change.
  BOOST_TEST(info.state == cp_state::active);
  // Re-adding identical data is not a change.
  net.add_cp({"ALC1", "C/ Nueva 1, Alicante", 0.50});
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(new_cps_are_disconnected_and_reported_as_changes) {
  net.add_cp({"VLC1", "Valencia", 0.38});
  BOOST_TEST((net.take_changes() == ids{"VLC1"}));
  BOOST_TEST(state("VLC1") == cp_state::disconnected);
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(monitors, fixture)

BOOST_AUTO_TEST_CASE(authenticate_returns_the_record) {
  const auto r = net.authenticate("ALC1");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST((*r == cp_record{"ALC1", "C/ Italia 5, Alicante", 0.35}));
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
}

BOOST_AUTO_TEST_CASE(authenticate_unknown_cp) {
  const auto r = net.authenticate("ALC9");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.err().code == errc::unknown_cp);
  BOOST_TEST(r.err().message == "CP ALC9 is not registered");
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(second_monitor_is_refused_and_first_keeps_the_cp) {
  connect("ALC1");
  const auto second = net.authenticate("ALC1");
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST(second.err().code == errc::already_connected);
  BOOST_TEST(second.err().message.find("ALC1") != std::string::npos);
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(reconnect_after_loss_is_allowed) {
  connect("ALC1");
  BOOST_TEST(!net.monitor_lost("ALC1").has_value());
  BOOST_TEST(state("ALC1") == cp_state::disconnected);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  BOOST_TEST(net.authenticate("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::active);
}

BOOST_AUTO_TEST_CASE(monitor_lost_returns_and_clears_the_session) {
  connect("ALC1");
  start("ALC1", "c-1");
  net.take_changes();
  const auto lost = net.monitor_lost("ALC1");
  BOOST_REQUIRE(lost.has_value());
  BOOST_TEST(lost->charge_id == "c-1");
  BOOST_TEST(lost->driver_id == "D1");
  BOOST_TEST(!net.find("ALC1")->charge.has_value());
  BOOST_TEST(!net.find("ALC1")->condition.monitor_ok);
  BOOST_TEST(state("ALC1") == cp_state::disconnected);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  // Losing it again reports nothing more.
  BOOST_TEST(!net.monitor_lost("ALC1").has_value());
  BOOST_TEST(net.take_changes().empty());
  // After the return the CP is free.
  connect("ALC1");
  BOOST_TEST(state("ALC1") == cp_state::active);
}

BOOST_AUTO_TEST_CASE(monitor_lost_for_unknown_cp_is_harmless) {
  BOOST_TEST(!net.monitor_lost("ALC9").has_value());
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(engine_status_drives_broken) {
  connect("ALC1");
  net.engine_status("ALC1", false);
  BOOST_TEST(state("ALC1") == cp_state::broken);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  // Periodic repeats of the same health are not changes.
  net.engine_status("ALC1", false);
  BOOST_TEST(net.take_changes().empty());
  net.engine_status("ALC1", true);
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  net.engine_status("ALC9", false);  // unknown: ignored
  BOOST_TEST(net.take_changes().empty());
}

// An OCPP charge point that says Unavailable: OUT_OF_ORDER, refused for
// charges, whatever the operator orders, until it says it is back.
BOOST_AUTO_TEST_CASE(out_of_service_reported_by_the_cp_is_out_of_order) {
  connect("ALC1");
  net.engine_status("ALC1", true, true);
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  net.engine_status("ALC1", true, true);
  BOOST_TEST(net.take_changes().empty());
  const auto refused = net.can_charge("ALC1", "D1", 0);
  BOOST_TEST(!refused.ok());
  BOOST_TEST((refused.err().code == evnet::errc::out_of_order));
  BOOST_TEST(net.stop("ALC1").ok());
  BOOST_TEST(net.resume("ALC1").ok());  // the operator's RESUME does not overrule the CP
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
  net.engine_status("ALC1", false, true);  // a fault comes first
  BOOST_TEST(state("ALC1") == cp_state::broken);
  net.engine_status("ALC1", true, false);
  BOOST_TEST(state("ALC1") == cp_state::active);
  // A new Monitor starts from a clean slate: its first report says.
  net.engine_status("ALC1", true, true);
  net.monitor_lost("ALC1");
  BOOST_TEST(net.authenticate("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::active);
}

BOOST_AUTO_TEST_CASE(disconnected_hides_broken_engine) {
  connect("ALC1");
  net.engine_status("ALC1", false);
  net.monitor_lost("ALC1");
  BOOST_TEST(state("ALC1") == cp_state::disconnected);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(commands, fixture)

BOOST_AUTO_TEST_CASE(stop_and_resume_connected) {
  connect("ALC1");
  BOOST_TEST(net.stop("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  // Idempotent: no second change.
  BOOST_TEST(net.stop("ALC1").ok());
  BOOST_TEST(net.take_changes().empty());
  BOOST_TEST(net.resume("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  BOOST_TEST(net.resume("ALC1").ok());
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(an_order_is_stop_or_resume) {
  connect("ALC1");
  BOOST_TEST(net.order("ALC1", evnet::cp_order::stop).ok());
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
  BOOST_TEST(net.order("ALC1", evnet::cp_order::resume).ok());
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST(net.order("ALC9", evnet::cp_order::stop).err().code == errc::unknown_cp);
}

BOOST_AUTO_TEST_CASE(stop_unknown_cp) {
  const auto s = net.stop("ALC9");
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.err().code == errc::unknown_cp);
  BOOST_TEST(s.err().message == "CP ALC9 is not registered");
  const auto r = net.resume("ALC9");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.err().code == errc::unknown_cp);
}

BOOST_AUTO_TEST_CASE(stop_while_disconnected_applies_on_return) {
  BOOST_TEST(net.stop("ALC1").ok());
  BOOST_TEST(net.find("ALC1")->condition.stopped);
  BOOST_TEST(state("ALC1") == cp_state::disconnected);
  BOOST_TEST(net.authenticate("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);

  net.monitor_lost("ALC1");
  BOOST_TEST(net.resume("ALC1").ok());
  BOOST_TEST(!net.find("ALC1")->condition.stopped);
  BOOST_TEST(net.authenticate("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::active);
}

BOOST_AUTO_TEST_CASE(stop_while_charging_keeps_session_until_finished) {
  connect("ALC1");
  start("ALC1", "c-1");
  BOOST_TEST(net.stop("ALC1").ok());
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
  BOOST_TEST(net.find("ALC1")->charge.has_value());
  net.charge_finished(record("ALC1", "c-1"));
  BOOST_TEST(!net.find("ALC1")->charge.has_value());
  BOOST_TEST(state("ALC1") == cp_state::out_of_order);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(admission, fixture)

BOOST_AUTO_TEST_CASE(active_cp_accepts_registered_and_local_drivers) {
  connect("ALC1");
  BOOST_TEST(refusal("ALC1", "D1") == "ok");
  BOOST_TEST(refusal("ALC1", "D2", 86400) == "ok");
  BOOST_TEST(refusal("ALC1", "@ALC1", 5) == "ok");
}

BOOST_AUTO_TEST_CASE(each_refusal_code) {
  BOOST_TEST(refusal("ALC9", "D1") == "unknown_cp");
  BOOST_TEST(refusal("ALC1", "D9") == "unknown_driver");
  BOOST_TEST(refusal("ALC1", "D1", -1) == "bad_duration");
  BOOST_TEST(refusal("ALC1", "D1", 86401) == "bad_duration");
  BOOST_TEST(refusal("ALC1", "D1") == "disconnected");
  connect("ALC1");
  net.engine_status("ALC1", false);
  BOOST_TEST(refusal("ALC1", "D1") == "broken");
  net.engine_status("ALC1", true);
  net.stop("ALC1");
  BOOST_TEST(refusal("ALC1", "D1") == "out_of_order");
  net.resume("ALC1");
  start("ALC1", "c-1");
  BOOST_TEST(refusal("ALC1", "D2") == "busy");
}

BOOST_AUTO_TEST_CASE(refusal_messages_are_sentences) {
  const auto unknown = net.can_charge("ALC9", "D1", 0);
  BOOST_TEST(unknown.err().message == "CP ALC9 is not registered");
  connect("ALC1");
  start("ALC1", "c-1");
  const auto busy = net.can_charge("ALC1", "D2", 0);
  BOOST_TEST(busy.err().message == "CP ALC1 is busy");
  const auto driver = net.can_charge("ALC1", "D9", 0);
  BOOST_TEST(driver.err().message.find("D9") != std::string::npos);
  BOOST_TEST(net.can_charge("MAD1", "D1", 0).err().message.find("MAD1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(checks_come_in_the_documented_order) {
  // Everything wrong at once: the earliest check wins each time.
  BOOST_TEST(refusal("ALC9", "D9", -1) == "unknown_cp");
  BOOST_TEST(refusal("ALC1", "D9", -1) == "unknown_driver");
  BOOST_TEST(refusal("ALC1", "D1", -1) == "bad_duration");

  connect("ALC1");
  start("ALC1", "c-1");
  net.stop("ALC1");
  net.engine_status("ALC1", false);
  net.monitor_lost("ALC1");
  BOOST_TEST(refusal("ALC1", "D1") == "disconnected");
  connect("ALC1");
  start("ALC1", "c-2");
  net.engine_status("ALC1", false);
  BOOST_TEST(refusal("ALC1", "D1") == "broken");
  net.engine_status("ALC1", true);
  BOOST_TEST(refusal("ALC1", "D1") == "out_of_order");
  net.resume("ALC1");
  BOOST_TEST(refusal("ALC1", "D1") == "busy");
}

BOOST_AUTO_TEST_CASE(local_ids_skip_the_driver_check_but_not_others) {
  BOOST_TEST(refusal("ALC1", "@ALC1") == "disconnected");
  BOOST_TEST(refusal("ALC1", "@whatever", 86401) == "bad_duration");
  BOOST_TEST(refusal("ALC9", "@ALC9") == "unknown_cp");
}

BOOST_AUTO_TEST_CASE(duration_bounds) {
  connect("ALC1");
  BOOST_TEST(refusal("ALC1", "D1", 0) == "ok");
  BOOST_TEST(refusal("ALC1", "D1", 1) == "ok");
  BOOST_TEST(refusal("ALC1", "D1", 86400) == "ok");
  BOOST_TEST(refusal("ALC1", "D1", 86401) == "bad_duration");
  BOOST_TEST(refusal("ALC1", "D1", -1) == "bad_duration");
}

BOOST_AUTO_TEST_CASE(without_registered_drivers_anyone_may_charge) {
  network open;
  open.add_cp({"ALC1", "Alicante", 0.35});
  BOOST_REQUIRE(open.authenticate("ALC1").ok());
  const auto s = open.can_charge("ALC1", "anybody", 0);
  BOOST_TEST(s.ok());
}

BOOST_AUTO_TEST_CASE(can_charge_changes_nothing) {
  connect("ALC1");
  BOOST_TEST(refusal("ALC1", "D1") == "ok");
  BOOST_TEST(refusal("ALC1", "D1") == "ok");
  BOOST_TEST(net.take_changes().empty());
  BOOST_TEST(state("ALC1") == cp_state::active);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(sessions, fixture)

BOOST_AUTO_TEST_CASE(charge_started_makes_the_cp_busy_with_driver_figures) {
  connect("ALC1");
  start("ALC1", "c-1", "D2");
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  const auto info = net.info("ALC1");
  BOOST_TEST(info.state == cp_state::busy);
  BOOST_TEST(info.driver_id == "D2");
  BOOST_TEST(info.kwh == 0.0);
  BOOST_TEST(info.amount == 0.0);
}

BOOST_AUTO_TEST_CASE(progress_accepts_only_newer_telemetry_of_the_running_charge) {
  connect("ALC1");
  start("ALC1", "c-1");
  net.take_changes();

  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 1, 1.0, 0.35)));
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  BOOST_TEST(net.info("ALC1").kwh == 1.0);
  BOOST_TEST(net.info("ALC1").amount == 0.35);

  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 3, 3.0, 1.05)));
  // Late or repeated: ignored, figures unchanged.
  BOOST_TEST(!net.charge_progress(tele("ALC1", "c-1", 2, 2.0, 0.70)));
  BOOST_TEST(!net.charge_progress(tele("ALC1", "c-1", 3, 9.0, 9.00)));
  BOOST_TEST(net.info("ALC1").kwh == 3.0);
  BOOST_TEST(net.find("ALC1")->charge->last_seq == 3u);
  // Another charge id, another CP, an idle CP, an unknown CP.
  BOOST_TEST(!net.charge_progress(tele("ALC1", "c-0", 4, 4.0, 1.40)));
  BOOST_TEST(!net.charge_progress(tele("MAD1", "c-1", 4, 4.0, 1.40)));
  BOOST_TEST(!net.charge_progress(tele("ALC9", "c-1", 4, 4.0, 1.40)));
  BOOST_TEST(net.info("ALC1").kwh == 3.0);
  BOOST_TEST(net.info("ALC1").amount == 1.05);
}

BOOST_AUTO_TEST_CASE(progress_of_an_unknown_charge_is_adopted_only_when_connected) {
  // As after a Central restart: the Engine is still supplying a charge that
  // the fresh model never saw start.
  BOOST_TEST(!net.charge_progress(tele("ALC1", "c-7", 5, 5.0, 1.75)));  // Monitor not back yet
  BOOST_TEST(state("ALC1") == cp_state::disconnected);
  connect("ALC1");
  BOOST_TEST(net.charge_progress(tele("ALC1", "c-7", 6, 6.0, 2.10)));
  BOOST_TEST(state("ALC1") == cp_state::busy);
  BOOST_TEST(net.info("ALC1").driver_id == "D1");
  BOOST_TEST(net.info("ALC1").kwh == 6.0);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  net.charge_finished(record("ALC1", "c-7"));
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST(!net.charge_progress(tele("ALC1", "", 1, 1.0, 0.35)));  // no charge id: nothing to adopt
}

BOOST_AUTO_TEST_CASE(a_charge_the_fence_refused_is_never_adopted) {
  connect("ALC1");
  BOOST_TEST(!net.charge_progress(tele("ALC1", "c-refused", 1, 1.0, 0.35), /*adoptable=*/false));
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST(net.take_changes().empty());
  // The running charge still progresses: adoption is about unknown charges.
  start("ALC1", "c-1");
  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 1, 1.0, 0.35), /*adoptable=*/false));
}

BOOST_AUTO_TEST_CASE(a_dropped_charge_frees_the_cp_only_if_it_is_the_running_one) {
  connect("ALC1");
  start("ALC1", "c-1");
  net.take_changes();
  BOOST_TEST(!net.charge_dropped("ALC1", "c-0").has_value());
  BOOST_TEST(!net.charge_dropped("ALC9", "c-1").has_value());
  BOOST_TEST(state("ALC1") == cp_state::busy);
  const auto dropped = net.charge_dropped("ALC1", "c-1");
  BOOST_REQUIRE(dropped.has_value());
  BOOST_TEST(dropped->driver_id == "D1");
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
}

BOOST_AUTO_TEST_CASE(progress_with_same_figures_is_not_a_change) {
  connect("ALC1");
  start("ALC1", "c-1");
  net.take_changes();
  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 1, 1.0, 0.35)));
  net.take_changes();
  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 2, 1.0, 0.35)));
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(charge_finished_frees_the_cp_only_for_its_own_charge) {
  connect("ALC1");
  start("ALC1", "c-2");
  net.take_changes();
  net.charge_finished(record("ALC1", "c-1"));  // an older charge's late record
  BOOST_TEST(state("ALC1") == cp_state::busy);
  BOOST_TEST(net.take_changes().empty());
  net.charge_finished(record("ALC1", "c-2"));
  BOOST_TEST(state("ALC1") == cp_state::active);
  BOOST_TEST((net.take_changes() == ids{"ALC1"}));
  const auto info = net.info("ALC1");
  BOOST_TEST(info.driver_id.empty());
  BOOST_TEST(info.kwh == 0.0);
  // A duplicate report changes nothing.
  net.charge_finished(record("ALC1", "c-2"));
  BOOST_TEST(net.take_changes().empty());
  net.charge_finished(record("ALC9", "c-2"));
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_CASE(driver_figures_only_while_busy) {
  connect("ALC1");
  start("ALC1", "c-1", "D2");
  BOOST_TEST(net.charge_progress(tele("ALC1", "c-1", 1, 2.0, 0.70)));
  net.engine_status("ALC1", false);
  const auto info = net.info("ALC1");
  BOOST_TEST(info.state == cp_state::broken);
  BOOST_TEST(info.driver_id.empty());
  BOOST_TEST(info.kwh == 0.0);
}

BOOST_AUTO_TEST_CASE(charge_started_for_unknown_cp_is_ignored) {
  start("ALC9", "c-1");
  BOOST_TEST(net.take_changes().empty());
  BOOST_TEST(!net.knows_cp("ALC9"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(views, fixture)

BOOST_AUTO_TEST_CASE(snapshot_lists_every_cp_in_id_order) {
  connect("MAD1");
  net.add_cp({"ALC0", "Elche", 0.30});
  const auto all = net.snapshot();
  BOOST_REQUIRE(all.size() == 3u);
  BOOST_TEST(all[0].cp_id == "ALC0");
  BOOST_TEST(all[0].state == cp_state::disconnected);
  BOOST_TEST(all[1].cp_id == "ALC1");
  BOOST_TEST(all[1].location == "C/ Italia 5, Alicante");
  BOOST_TEST(all[1].price == 0.35);
  BOOST_TEST(all[1].state == cp_state::disconnected);
  BOOST_TEST(all[2].cp_id == "MAD1");
  BOOST_TEST(all[2].state == cp_state::active);
}

BOOST_AUTO_TEST_CASE(info_for_unknown_cp) {
  const auto info = net.info("ALC9");
  BOOST_TEST(info.cp_id == "ALC9");
  BOOST_TEST(info.state == cp_state::disconnected);
  BOOST_TEST(info.location.empty());
}

BOOST_AUTO_TEST_CASE(take_changes_empties_the_set) {
  connect("ALC1");
  connect("MAD1");
  net.stop("ALC1");
  net.stop("MAD1");
  BOOST_TEST((net.take_changes() == ids{"ALC1", "MAD1"}));
  BOOST_TEST(net.take_changes().empty());
}

BOOST_AUTO_TEST_SUITE_END()

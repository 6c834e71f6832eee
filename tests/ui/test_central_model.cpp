// The operator console at city scale: the summary counts, the compact list
// window, find by id, and the redraw pacing, on central_model alone.
#define BOOST_TEST_MODULE ui_central_model
#include <boost/test/unit_test.hpp>

#include "evnet/ui/central_model.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

using namespace evnet;
using namespace evnet::ui;

namespace {

json::value event(std::string name, json::object fields = {}) {
  json::object obj{{"event", std::move(name)}, {"ts", std::int64_t{1'700'000'000'000}}};
  for (auto& f : fields) {
    obj.push_back(std::move(f));
  }
  return json::value(std::move(obj));
}

json::value cp_row(const std::string& id, const std::string& state) {
  return json::value(json::object{{"cp", id}, {"location", "Street " + id}, {"price", 0.40}, {"state", state}});
}

json::value state_event(const std::string& id, const std::string& state, const std::string& driver = "") {
  return event("cp_state", {{"cp", id}, {"location", "Street " + id}, {"price", 0.40}, {"state", state},
                            {"driver", driver}, {"kwh", 0.0}, {"amount", 0.0}});
}

std::string cp_id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "CP%04d", i);
  return buf;
}

// n CPs, CP0000 .. CP<n-1>, all ACTIVE, given in reverse order.
central_model city(int n) {
  central_model m;
  json::array rows;
  for (int i = n - 1; i >= 0; --i) {
    rows.push_back(cp_row(cp_id(i), "ACTIVE"));
  }
  m.apply(event("cps", {{"cps", std::move(rows)}}));
  return m;
}

std::optional<std::string> type_line(central_model& m, std::string_view text) {
  for (char c : text) {
    if (auto out = m.on_key(static_cast<unsigned char>(c), 0)) {
      return out;
    }
  }
  return m.on_key(keys::enter, 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_summary_counts_every_state_as_it_changes) {
  central_model m = city(5);
  BOOST_TEST(m.size() == 5u);
  BOOST_TEST(m.count(cp_state::active) == 5u);
  m.apply(state_event("CP0001", "BUSY", "D1"));
  m.apply(state_event("CP0002", "BROKEN"));
  m.apply(state_event("CP0003", "OUT_OF_ORDER"));
  m.apply(state_event("CP0004", "DISCONNECTED"));
  m.apply(state_event("CP0004", "DISCONNECTED"));  // said twice, counted once
  BOOST_TEST(m.count(cp_state::active) == 1u);
  BOOST_TEST(m.count(cp_state::busy) == 1u);
  BOOST_TEST(m.count(cp_state::broken) == 1u);
  BOOST_TEST(m.count(cp_state::out_of_order) == 1u);
  BOOST_TEST(m.count(cp_state::disconnected) == 1u);
  BOOST_TEST(m.count(std::nullopt) == 0u);

  // A CP heard of first through its telemetry is counted as not heard yet,
  // until its state comes.
  m.apply(event("telemetry", {{"cp", "CP0009"}, {"driver", "D2"}, {"kwh", 1.0}, {"amount", 0.4}}));
  BOOST_TEST(m.size() == 6u);
  BOOST_TEST(m.count(std::nullopt) == 1u);
  m.apply(state_event("CP0009", "BUSY", "D2"));
  BOOST_TEST(m.count(std::nullopt) == 0u);
  BOOST_TEST(m.count(cp_state::busy) == 2u);

  // The whole table again (`list`) counts each CP once.
  json::array rows;
  for (int i = 0; i < 5; ++i) {
    rows.push_back(cp_row(cp_id(i), "ACTIVE"));
  }
  m.apply(event("cps", {{"cps", std::move(rows)}}));
  BOOST_TEST(m.count(cp_state::active) == 5u);
  BOOST_TEST(m.count(cp_state::busy) == 1u);  // CP0009, not in that table
  BOOST_TEST(m.size() == 6u);
}

BOOST_AUTO_TEST_CASE(positions_follow_id_order_whatever_the_arrival) {
  central_model m = city(4);
  BOOST_TEST(m.at(0).id == "CP0000");
  BOOST_TEST(m.at(3).id == "CP0003");
  BOOST_TEST(m.selected_id() == "CP0000");
  m.apply(state_event("CP0001A", "ACTIVE"));  // registered while running, in the middle
  BOOST_TEST(m.size() == 5u);
  BOOST_TEST(m.at(2).id == "CP0001A");
  BOOST_TEST(m.index_of("CP0002").value() == 3u);
  BOOST_TEST(!m.index_of("nope").has_value());
  BOOST_TEST(m.cps().size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_list_window_follows_the_selection_and_scrolls_only_as_needed) {
  central_model m = city(100);
  m.set_layout(2, 6);
  BOOST_TEST(m.list_first(10) == 0u);
  m.on_key(keys::end, 0);
  BOOST_TEST(m.selected_index() == 99u);
  BOOST_TEST(m.list_first(10) == 90u);  // a jump to the end: the last window
  m.on_key(keys::up, 0);                // two up (two tiles a row)
  BOOST_TEST(m.selected_index() == 97u);
  BOOST_TEST(m.list_first(10) == 90u);  // still in view: no scroll
  m.on_key(keys::page_up, 0);           // six up
  m.on_key(keys::page_up, 0);
  BOOST_TEST(m.selected_index() == 85u);
  BOOST_TEST(m.list_first(10) == 85u);  // a step out of view: the selection on the first line
  BOOST_TEST(m.page_first() == 84u);    // the tiles' page holds it too
  m.on_key(keys::home, 0);
  BOOST_TEST(m.list_first(10) == 0u);
  // A window taller than the table shows it all from the top.
  BOOST_TEST(m.list_first(500) == 0u);
  // A smaller screen keeps the selection in view.
  m.on_key(keys::end, 0);
  BOOST_TEST(m.list_first(3) == 97u);
}

BOOST_AUTO_TEST_CASE(find_jumps_to_the_cp_in_both_views) {
  central_model m = city(5000);
  m.set_layout(3, 12);
  BOOST_TEST(!m.on_key('/', 0));
  BOOST_TEST(m.prompt().active());
  BOOST_TEST(!type_line(m, "CP4321"));
  BOOST_TEST(m.selected_id() == "CP4321");
  BOOST_TEST(m.selected_index() == 4321u);
  BOOST_TEST(m.page_first() == 4320u);  // the tiles' page
  BOOST_TEST(m.list_first(20) == 4311u);  // the list's window, the find in its middle
  m.on_key(keys::down, 0);                  // then a step: the window stays
  BOOST_TEST(m.selected_index() == 4324u);
  BOOST_TEST(m.list_first(20) == 4311u);

  // A prefix finds the first CP it starts, in any case.
  m.on_key('/', 0);
  type_line(m, "cp12");
  BOOST_TEST(m.selected_id() == "CP1200");
  // Nothing matching: said, and the selection stays.
  m.on_key('/', 0);
  type_line(m, "XYZ");
  BOOST_TEST(m.selected_id() == "CP1200");
  BOOST_TEST(m.messages().back().text == "no CP XYZ");
}

BOOST_AUTO_TEST_CASE(requests_are_kept_per_cp) {
  central_model m = city(3);
  m.apply(event("request", {{"driver", "D1"}, {"cp", "CP0001"}, {"duration", 30}, {"request_id", "r1"}}));
  m.apply(event("request", {{"driver", "D2"}, {"cp", "CP0001"}, {"duration", 30}, {"request_id", "r2"}}));
  m.apply(event("request", {{"driver", "D3"}, {"cp", "CP0002"}, {"duration", 30}, {"request_id", "r3"}}));
  m.apply(event("request", {{"driver", "D1"}, {"cp", "CP0001"}, {"duration", 60}, {"request_id", "r4"}}));  // again
  BOOST_TEST(m.requests().size() == 3u);
  BOOST_TEST(m.requests()[0].driver == "D2");  // oldest first: D1's first request was replaced
  BOOST_TEST(m.requests()[2].request_id == "r4");
  m.apply(event("authorized", {{"driver", "D1"}, {"cp", "CP0001"}, {"charge_id", "c1"}}));
  BOOST_TEST(m.requests()[2].authorized);
  BOOST_TEST(!m.requests()[0].authorized);
  m.apply(event("denied", {{"driver", "D2"}, {"cp", "CP0001"}, {"reason", "busy"}}));
  BOOST_TEST(m.requests().size() == 2u);
  m.apply(event("interrupted", {{"driver", ""}, {"cp", "CP0001"}, {"reason", "gone"}}));  // every request there
  BOOST_TEST(m.requests().size() == 1u);
  BOOST_TEST(m.requests()[0].cp == "CP0002");
}

BOOST_AUTO_TEST_CASE(frames_are_paced_and_only_drawn_when_something_shows) {
  central_model m = city(1000);
  m.set_layout(3, 12);
  // The first frame is due at once.
  BOOST_TEST(m.frame_due(0, 30, 100));
  static_cast<void>(m.list_first(20));
  m.frame_drawn(0, 30, 100);
  BOOST_TEST(!m.frame_due(1000, 30, 100));  // nothing changed: no frame

  // Telemetry of a CP neither on the tiles' page nor in the list: no frame.
  m.apply(event("telemetry", {{"cp", "CP0500"}, {"driver", "D1"}, {"kwh", 1.0}, {"amount", 0.4}}));
  BOOST_TEST(!m.frame_due(1000, 30, 100));
  // Of a CP on screen: a frame, but not before 200 ms after the last one.
  m.apply(event("telemetry", {{"cp", "CP0005"}, {"driver", "D1"}, {"kwh", 1.0}, {"amount", 0.4}}));
  BOOST_TEST(!m.frame_due(100, 30, 100));
  BOOST_TEST(m.frame_due(200, 30, 100));
  m.frame_drawn(200, 30, 100);
  // A state change anywhere shows in the summary line.
  m.apply(state_event("CP0900", "BROKEN"));
  BOOST_TEST(m.frame_due(400, 30, 100));
  m.frame_drawn(400, 30, 100);
  // A key draws at once; so does a resize.
  m.on_key(keys::down, 401);
  BOOST_TEST(m.frame_due(401, 30, 100));
  m.frame_drawn(401, 30, 100);
  BOOST_TEST(m.frame_due(402, 40, 120));

  // A burst of 5,000 updates in one second yields at most 5 frames.
  m.frame_drawn(402, 40, 120);
  int frames = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::int64_t now = 1000 + i / 5;  // 5 updates a millisecond for a second
    m.apply(event("telemetry", {{"cp", cp_id(i % 12)}, {"driver", "D1"}, {"kwh", i / 100.0}, {"amount", 0.4}}));
    if (m.frame_due(now, 40, 120)) {
      ++frames;
      m.frame_drawn(now, 40, 120);
    }
  }
  BOOST_TEST(frames <= 6);
  BOOST_TEST(frames >= 4);
}

BOOST_AUTO_TEST_CASE(an_update_to_one_cp_of_5000_costs_no_pass_over_the_table) {
  // Not a timing test: a sanity bound that would catch O(N) per update
  // (20,000 updates over 5,000 CPs would take seconds then).
  central_model m = city(5000);
  m.set_layout(3, 12);
  static_cast<void>(m.list_first(20));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) {
    const std::string id = cp_id((i * 7919) % 5000);
    if (i % 10 == 0) {
      m.apply(state_event(id, i % 20 == 0 ? "BUSY" : "ACTIVE", "D1"));
    } else {
      m.apply(event("telemetry", {{"cp", id}, {"driver", "D1"}, {"kwh", 1.0}, {"amount", 0.4}}));
    }
  }
  const auto spent = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(spent).count() < 2000);
  BOOST_TEST(m.count(cp_state::busy) + m.count(cp_state::active) == 5000u);
}

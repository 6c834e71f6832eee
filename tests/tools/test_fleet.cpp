#define BOOST_TEST_MODULE tools_fleet
#include <boost/test/unit_test.hpp>

#include "books.hpp"
#include "cp_sim.hpp"
#include "driver_sim.hpp"
#include "histogram.hpp"
#include "liveness.hpp"
#include "naming.hpp"
#include "plan.hpp"

#include <vector>

using namespace evnet;
using namespace evnet::fleet;

namespace {

constexpr std::int64_t s = 1'000'000;  // one second in microseconds

plan_settings busy_city(std::uint64_t seed) {
  plan_settings p;
  p.cps = 200;
  p.drivers = 20;
  p.slices = split(200, 20, 3);
  p.rate = 20;
  p.fault_rate = 1;
  p.seed = seed;
  return p;
}

std::vector<plan_event> first(plan& p, int n) {
  std::vector<plan_event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(p.pop());
  }
  return out;
}

template <class T>
const T* last_sent(const std::vector<cp_send>& out, cp_link l) {
  for (auto it = out.rbegin(); it != out.rend(); ++it) {
    if (it->link == l) {
      if (const auto* b = std::get_if<T>(&it->body)) {
        return b;
      }
    }
  }
  return nullptr;
}

protocol::message from_central(protocol::body b, std::uint64_t corr = 7) {
  protocol::message m;
  m.sender = "central";
  m.correlation = corr;
  m.payload = std::move(b);
  return m;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_seed_gives_the_same_requests_in_the_same_order) {
  plan a{busy_city(42)};
  plan b{busy_city(42)};
  plan c{busy_city(43)};
  const auto ea = first(a, 2000);
  const auto eb = first(b, 2000);
  const auto ec = first(c, 2000);
  bool differs = false;
  for (std::size_t i = 0; i < ea.size(); ++i) {
    BOOST_TEST(ea[i].at_us == eb[i].at_us);
    BOOST_TEST(ea[i].cp == eb[i].cp);
    BOOST_TEST(ea[i].driver == eb[i].driver);
    BOOST_TEST(ea[i].duration_s == eb[i].duration_s);
    BOOST_TEST((ea[i].what == eb[i].what));
    differs = differs || ea[i].cp != ec[i].cp || ea[i].at_us != ec[i].at_us;
  }
  BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(requests_go_to_free_cps_and_to_drivers_of_their_slice) {
  auto settings = busy_city(7);
  plan p{settings};
  std::vector<std::int64_t> free_at(200, 0);
  int requests = 0;
  std::int64_t last = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto e = p.pop();
    BOOST_TEST(e.at_us >= last);  // in time order
    last = e.at_us;
    if (e.what != plan_event::kind::request || e.cp < 0) {
      continue;
    }
    ++requests;
    BOOST_TEST(e.duration_s >= settings.min_duration_s);
    BOOST_TEST(e.duration_s <= settings.max_duration_s);
    const auto& sl = *std::find_if(settings.slices.begin(), settings.slices.end(),
                                   [&](const slice& x) { return e.cp >= x.cp_begin && e.cp < x.cp_end; });
    BOOST_TEST(e.driver >= sl.driver_begin);
    BOOST_TEST(e.driver < sl.driver_end);
    BOOST_TEST(free_at[static_cast<std::size_t>(e.cp)] <= e.at_us);  // never at a CP the plan keeps busy
    free_at[static_cast<std::size_t>(e.cp)] = e.at_us + e.duration_s * s;
  }
  BOOST_TEST(requests > 2500);
}

BOOST_AUTO_TEST_CASE(the_rate_is_kept) {
  auto settings = busy_city(9);
  settings.fault_rate = 0;
  plan p{settings};
  int n = 0;
  while (p.peek().at_us < 100 * s) {
    (void)p.pop();
    ++n;
  }
  BOOST_TEST(n > 1800);  // 20/s for 100 s, Poisson
  BOOST_TEST(n < 2200);
}

BOOST_AUTO_TEST_CASE(slices_cover_everyone_once) {
  const auto sl = split(5000, 500, 3);
  BOOST_TEST(sl.size() == 3u);
  BOOST_TEST(sl.front().cp_begin == 0);
  BOOST_TEST(sl.back().cp_end == 5000);
  BOOST_TEST(sl.back().driver_end == 500);
  for (std::size_t i = 1; i < sl.size(); ++i) {
    BOOST_TEST(sl[i].cp_begin == sl[i - 1].cp_end);
    BOOST_TEST(sl[i].driver_begin == sl[i - 1].driver_end);
  }
}

BOOST_AUTO_TEST_CASE(histogram_percentiles_and_merge) {
  histogram h;
  for (int i = 1; i <= 1000; ++i) {
    h.add(i * 10);  // 10 us .. 10 ms
  }
  BOOST_TEST(h.count() == 1000u);
  BOOST_TEST(h.percentile_us(0.5) == 5000.0, boost::test_tools::tolerance(0.04));
  BOOST_TEST(h.percentile_us(0.99) == 9900.0, boost::test_tools::tolerance(0.04));
  BOOST_TEST(h.percentile_us(1.0) <= 10000.0);
  auto again = histogram::from_json(h.to_json());
  BOOST_TEST(again.count() == 1000u);
  BOOST_TEST(again.percentile_us(0.99) == h.percentile_us(0.99));
  histogram before = h;
  h.merge(again);
  BOOST_TEST(h.count() == 2000u);
  h.subtract(before);
  BOOST_TEST(h.count() == 1000u);
}

BOOST_AUTO_TEST_CASE(refusal_reasons_group_without_their_ids) {
  BOOST_TEST(reason_class("CP FC00012 is busy", "FC", "FD") == "CP <cp> is busy");
  BOOST_TEST(reason_class("CP FC00012 refused: busy", "FC", "FD") == "CP <cp> refused: busy");
  BOOST_TEST(reason_class("driver FD0001 is not registered", "FC", "FD") == "driver <driver> is not registered");
}

BOOST_AUTO_TEST_CASE(names_round_trip) {
  const auto n = naming::for_counts(5000, 500);
  BOOST_TEST(n.cp(42) == "FC00042");
  BOOST_TEST(n.cp_index("FC00042") == 42);
  BOOST_TEST(n.driver_index(n.driver(499)) == 499);
  BOOST_TEST(n.cp_index("FD00042") == -1);
  BOOST_TEST(n.cp_index("FC0042") == -1);
  BOOST_TEST(naming::for_counts(200000, 1).cp(7) == "FC000007");
}

BOOST_AUTO_TEST_CASE(liveness_heartbeats_then_closes_a_silent_or_lost_link) {
  link_timing t;
  liveness l{1, 0};
  BOOST_TEST((l.due(0, t) == liveness::action::open_socket));
  l.opened(0);
  BOOST_TEST((l.due(0, t) == liveness::action::send_heartbeat));
  l.heartbeat_sent(0, t);
  BOOST_TEST((l.due(100'000, t) == liveness::action::none));
  BOOST_TEST(l.heard(100'000));  // the edge to up
  BOOST_TEST(!l.heard(200'000));
  BOOST_TEST((l.due(460'000, t) == liveness::action::send_heartbeat));  // within the slack
  l.heartbeat_sent(460'000, t);
  BOOST_TEST((l.due(3'199'999, t) != liveness::action::close_socket));
  BOOST_TEST((l.due(3'200'000, t) == liveness::action::close_socket));  // 3 s of silence
  const auto wait = l.closed(3'200'000, t);
  BOOST_TEST(wait >= 800'000);  // 1 s +-20% after a session
  BOOST_TEST(wait <= 1'200'000);
  l.opened(4'500'000);
  BOOST_TEST(l.heard(4'600'000));
  l.lost();  // the TCP connection closed
  BOOST_TEST((l.due(4'600'001, t) == liveness::action::close_socket));
}

BOOST_AUTO_TEST_CASE(cp_follows_the_fence_and_settles_every_charge) {
  sim_context ctx;
  ctx.nonce = "n";
  counters books;
  std::vector<supplied_charge> records;
  cp_sim cp{"FC00001", ctx, books, records};
  cp.on_up(cp_link::monitor, 0);
  cp.on_up(cp_link::engine, 0);
  BOOST_TEST(last_sent<protocol::cp_auth>(cp.out(), cp_link::monitor) != nullptr);
  BOOST_TEST(last_sent<protocol::engine_hello>(cp.out(), cp_link::engine) != nullptr);
  cp.out().clear();
  cp.on_message(cp_link::monitor, from_central(protocol::cp_auth_reply{true, "", {"FC00001", "x", 0.35}}), 10);
  cp.on_message(cp_link::engine, from_central(protocol::ack{true, ""}), 10);
  BOOST_TEST(cp.authenticated());
  BOOST_TEST(cp.engine_ready());
  cp.on_timer(10);
  BOOST_TEST(last_sent<protocol::cp_status>(cp.out(), cp_link::monitor) != nullptr);
  cp.out().clear();

  // Reserve; a repeated request gets the same charge id; a second driver is refused.
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_request{"FC00001", "FD00001", 3, "r1"}), s);
  const auto* yes = last_sent<protocol::authorize_reply>(cp.out(), cp_link::monitor);
  BOOST_REQUIRE(yes != nullptr);
  BOOST_TEST(yes->ok);
  const std::string charge = yes->charge_id;
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_request{"FC00001", "FD00001", 3, "r1"}), s);
  BOOST_TEST(last_sent<protocol::authorize_reply>(cp.out(), cp_link::monitor)->charge_id == charge);
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_request{"FC00001", "FD00002", 3, "r2"}), s);
  BOOST_TEST(!last_sent<protocol::authorize_reply>(cp.out(), cp_link::monitor)->ok);
  cp.out().clear();

  // Confirmed: supply for 3 s with telemetry each second, then one record.
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_decision{"FC00001", "r1", charge, true}), 2 * s);
  BOOST_TEST(last_sent<protocol::decision_ack>(cp.out(), cp_link::monitor)->ok);
  for (std::int64_t t = 2 * s; t <= 5 * s; t += s / 4) {
    cp.on_timer(t);
  }
  BOOST_TEST(books.telemetry == 2u);
  BOOST_TEST(cp.telemetry_sent_at(charge, 2.0).has_value());
  BOOST_REQUIRE(records.size() == 1u);
  BOOST_TEST(records[0].record.kwh == 3.0);
  BOOST_TEST(records[0].record.amount == 1.05);
  BOOST_TEST(cp.owes(charge));
  // Resent until acknowledged, also on a new link.
  cp.out().clear();
  cp.on_timer(7 * s + 1);
  BOOST_TEST(last_sent<protocol::charge_finished>(cp.out(), cp_link::engine) != nullptr);
  cp.on_message(cp_link::engine, from_central(protocol::record_ack{"FC00001", charge}), 8 * s);
  BOOST_TEST(!cp.owes(charge));
  BOOST_TEST(cp.idle());
  // A late confirmation of something never reserved is refused.
  cp.out().clear();
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_decision{"FC00001", "r9", "FC00001-n-99", true}),
                9 * s);
  BOOST_TEST(!last_sent<protocol::decision_ack>(cp.out(), cp_link::monitor)->ok);
}

BOOST_AUTO_TEST_CASE(a_fault_ends_the_charge_with_what_was_supplied) {
  sim_context ctx;
  counters books;
  std::vector<supplied_charge> records;
  cp_sim cp{"FC00002", ctx, books, records};
  cp.on_up(cp_link::monitor, 0);
  cp.on_message(cp_link::monitor, from_central(protocol::cp_auth_reply{true, "", {"FC00002", "x", 0.5}}), 0);
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_request{"FC00002", "FD00001", 10, "r1"}), 0);
  const auto charge = last_sent<protocol::authorize_reply>(cp.out(), cp_link::monitor)->charge_id;
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_decision{"FC00002", "r1", charge, true}), 0);
  cp.on_timer(2 * s + 10);
  cp.fault(2 * s + 500'000, 3 * s);
  BOOST_REQUIRE(records.size() == 1u);
  BOOST_TEST(records[0].record.kwh == 2.0);
  BOOST_TEST((records[0].record.reason == end_reason::engine_fault));
  cp.out().clear();
  cp.on_timer(2 * s + 500'000);
  const auto* status = last_sent<protocol::cp_status>(cp.out(), cp_link::monitor);
  BOOST_REQUIRE(status != nullptr);
  BOOST_TEST(!status->engine_ok);
  cp.on_message(cp_link::monitor, from_central(protocol::authorize_request{"FC00002", "FD00001", 10, "r2"}), 3 * s);
  BOOST_TEST(!last_sent<protocol::authorize_reply>(cp.out(), cp_link::monitor)->ok);
  cp.out().clear();
  cp.on_timer(6 * s);  // recovered
  BOOST_TEST(last_sent<protocol::cp_status>(cp.out(), cp_link::monitor)->engine_ok);
}

BOOST_AUTO_TEST_CASE(driver_follows_the_clone_pattern) {
  const auto names = naming::for_counts(3, 1);
  sim_context ctx;
  counters books;
  driver_sim d{"FD00000", names, 3, ctx, books, 7001};
  d.on_up(0);
  BOOST_TEST(books.snapshots == 0u);
  protocol::snapshot first;
  first.seq = 10;
  first.stream_port = 7101;
  first.cps = {protocol::cp_info{"FC00000", "x", 0.3, cp_state::active, "", 0, 0}};
  d.on_message(from_central(protocol::ack{true, ""}), 1);
  d.on_message(from_central(first), 2);
  // Subscribe where the snapshot says, then ask again.
  BOOST_TEST(d.take_subscribe().value_or(0) == 7101u);
  BOOST_TEST(!d.ready());
  // An update arriving before the second snapshot is buffered and replayed.
  protocol::cp_update u;
  u.seq = 12;
  u.cp = protocol::cp_info{"FC00001", "x", 0.3, cp_state::busy, "", 0, 0};
  d.on_stream(from_central(u), 3);
  protocol::snapshot second = first;
  second.seq = 11;
  second.cps.push_back(protocol::cp_info{"FC00001", "x", 0.3, cp_state::active, "", 0, 0});
  d.on_message(from_central(second), 4);
  BOOST_TEST(d.ready());
  BOOST_TEST((d.view(1) == cp_state::busy));
  // A heartbeat ahead of what we applied asks for a snapshot.
  d.out().clear();
  d.on_stream(from_central(protocol::stream_heartbeat{15}), 5);
  BOOST_TEST(books.stream_gaps == 1u);
  BOOST_TEST(std::holds_alternative<protocol::snapshot_request>(d.out().back()));
  // Silence on the stream: resubscribe.
  d.on_timer(5 + driver_sim::stream_silence);
  BOOST_TEST(d.take_subscribe().value_or(0) == 7101u);
  BOOST_TEST(books.resubscribes == 1u);
}

BOOST_AUTO_TEST_CASE(driver_requests_are_resent_until_answered_and_tickets_acknowledged) {
  const auto names = naming::for_counts(3, 1);
  sim_context ctx;
  counters books;
  driver_sim d{"FD00000", names, 3, ctx, books, 7001};
  d.request("FC00000", 5, "FD00000-n-0", 0);  // link down: waits
  BOOST_TEST(d.out().empty());
  d.on_up(s);
  const auto sent = std::count_if(d.out().begin(), d.out().end(),
                                  [](const protocol::body& b) { return std::holds_alternative<protocol::charge_request>(b); });
  BOOST_TEST(sent == 1);
  d.out().clear();
  d.on_timer(s + driver_sim::request_resend);
  BOOST_TEST(books.request_resends == 1u);
  d.on_message(from_central(protocol::charge_reply{true, "", "FC00000", "FC00000-n-1", "FD00000-n-0"}), 6 * s);
  BOOST_TEST(books.authorized == 1u);
  BOOST_TEST(!d.waiting());
  BOOST_TEST(books.auth_us.count() == 1u);
  protocol::charge_record r;
  r.cp_id = "FC00000";
  r.charge_id = "FC00000-n-1";
  r.driver_id = "FD00000";
  d.out().clear();
  d.on_message(from_central(protocol::ticket{r}), 12 * s);
  d.on_message(from_central(protocol::ticket{r}), 13 * s);
  BOOST_TEST(books.tickets == 1u);
  BOOST_TEST(books.ticket_repeats == 1u);
  BOOST_TEST(d.out().size() == 2u);  // both acknowledged
}

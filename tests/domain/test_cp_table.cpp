#define BOOST_TEST_MODULE domain_cp_table
#include <boost/test/unit_test.hpp>

#include "evnet/domain/cp_table.hpp"

#include <string>
#include <vector>

using namespace evnet;
using namespace evnet::domain;

namespace {

protocol::cp_info cp(const std::string& id, cp_state s, const std::string& driver = "") {
  protocol::cp_info c;
  c.cp_id = id;
  c.location = "loc " + id;
  c.price = 0.3;
  c.state = s;
  c.driver_id = driver;
  return c;
}

protocol::cp_update update(std::uint64_t seq, protocol::cp_info c) { return protocol::cp_update{seq, std::move(c)}; }

protocol::snapshot snapshot(std::uint64_t seq, std::vector<protocol::cp_info> cps) {
  return protocol::snapshot{seq, std::move(cps)};
}

std::string str(const notice& n, const std::string& key) {
  const auto it = n.fields.find(key);
  BOOST_REQUIRE(it != n.fields.end());
  return it->second.get<std::string>();
}

// A table on a link that is up, with its outbox drained by hand.
struct fixture {
  cp_table table;
  outbox out;
  bool up = true;
  std::int64_t now = 1000;

  int snapshot_requests() {
    int n = 0;
    for (const auto& s : out.take_sends()) {
      BOOST_TEST(s.to == "central");
      BOOST_TEST(std::holds_alternative<protocol::snapshot_request>(s.body));
      ++n;
    }
    return n;
  }
  std::vector<notice> notices() { return out.take_notices(); }
  void upd(std::uint64_t seq, protocol::cp_info c) { table.on_update(update(seq, std::move(c)), out, up, now); }
  void snap(std::uint64_t seq, std::vector<protocol::cp_info> cps) {
    table.on_snapshot(snapshot(seq, std::move(cps)), out, up, now);
  }
  cp_state state(const std::string& id) {
    const auto* row = table.find(id);
    BOOST_REQUIRE(row != nullptr);
    return row->state;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(asks_for_a_snapshot_only_on_a_link_that_is_up, fixture) {
  BOOST_TEST(!table.have_snapshot());
  BOOST_TEST(table.awaiting_snapshot());
  table.resync(out, false, now);
  BOOST_TEST(snapshot_requests() == 0);
  table.on_tick(out, false, now + 10'000);
  BOOST_TEST(snapshot_requests() == 0);
  table.resync(out, true, now);
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(table.request_outstanding());
}

BOOST_FIXTURE_TEST_CASE(at_most_one_request_is_outstanding_and_it_is_retried, fixture) {
  table.resync(out, up, now);
  BOOST_TEST(snapshot_requests() == 1);
  table.on_tick(out, up, now + cp_table::snapshot_retry_ms - 1);
  BOOST_TEST(snapshot_requests() == 0);
  BOOST_REQUIRE(table.next_deadline().has_value());
  BOOST_TEST(*table.next_deadline() == now + cp_table::snapshot_retry_ms);
  table.on_tick(out, up, now + cp_table::snapshot_retry_ms);
  BOOST_TEST(snapshot_requests() == 1);  // the answer never came: ask again
  snap(0, {});
  BOOST_TEST(!table.awaiting_snapshot());
  BOOST_TEST(!table.next_deadline().has_value());
  table.on_tick(out, up, now + 60'000);
  BOOST_TEST(snapshot_requests() == 0);
}

BOOST_FIXTURE_TEST_CASE(a_new_link_always_asks_again, fixture) {
  table.resync(out, up, now);
  BOOST_TEST(snapshot_requests() == 1);
  table.resync(out, up, now + 100);  // the first request died with the old link
  BOOST_TEST(snapshot_requests() == 1);
}

BOOST_FIXTURE_TEST_CASE(updates_before_the_snapshot_are_buffered_then_filtered_and_applied_in_order, fixture) {
  table.resync(out, up, now);
  snapshot_requests();
  upd(7, cp("A", cp_state::broken));
  upd(5, cp("A", cp_state::busy, "D1"));   // older than the snapshot: dropped
  upd(6, cp("B", cp_state::busy, "D2"));   // arrives late but goes before 7
  BOOST_TEST(table.buffered() == 3u);
  BOOST_TEST(notices().empty());
  BOOST_TEST(table.rows().empty());

  snap(5, {cp("A", cp_state::busy, "D1"), cp("B", cp_state::active)});
  BOOST_TEST(table.seq() == 7u);
  BOOST_TEST(table.buffered() == 0u);
  BOOST_TEST(state("A") == cp_state::broken);
  BOOST_TEST(state("B") == cp_state::busy);

  const auto n = notices();
  BOOST_REQUIRE(n.size() == 4u);
  BOOST_TEST(n[0].name == "cps");
  BOOST_TEST(n[1].name == "cp_state");
  BOOST_TEST(str(n[1], "cp") == "B");
  BOOST_TEST(str(n[1], "state") == "BUSY");
  BOOST_TEST(str(n[1], "driver") == "D2");
  BOOST_TEST(n[2].name == "cp_state");
  BOOST_TEST(str(n[2], "cp") == "A");
  BOOST_TEST(str(n[2], "state") == "BROKEN");
  BOOST_TEST(n[3].name == "stream");  // the first snapshot: subscribe (see below)
}

BOOST_FIXTURE_TEST_CASE(the_cps_event_carries_every_row_with_todays_fields, fixture) {
  table.resync(out, up, now);
  snap(3, {cp("B", cp_state::active), cp("A", cp_state::out_of_order)});
  const auto n = notices();
  BOOST_REQUIRE(n.size() == 2u);  // cps, then stream
  const auto& rows = n[0].fields.at("cps");
  BOOST_REQUIRE(rows.is_array());
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].at("cp").get<std::string>() == "A");
  BOOST_TEST(rows[0].at("state").get<std::string>() == "OUT_OF_ORDER");
  std::vector<std::string> keys;
  for (const auto& [key, v] : rows[1].items()) {
    keys.push_back(key);
  }
  BOOST_TEST((keys == std::vector<std::string>{"cp", "location", "price", "state", "driver", "kwh", "amount"}));
}

BOOST_FIXTURE_TEST_CASE(a_gap_in_the_buffer_asks_again_and_keeps_what_follows, fixture) {
  table.resync(out, up, now);
  snapshot_requests();
  upd(6, cp("A", cp_state::busy));
  upd(8, cp("A", cp_state::broken));
  snap(5, {cp("A", cp_state::active)});
  BOOST_TEST(table.seq() == 6u);
  BOOST_TEST(state("A") == cp_state::busy);
  BOOST_TEST(table.awaiting_snapshot());
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(table.buffered() == 1u);

  upd(9, cp("A", cp_state::active));  // buffered while the new snapshot comes
  BOOST_TEST(snapshot_requests() == 0);
  notices();
  snap(8, {cp("A", cp_state::broken)});
  BOOST_TEST(table.seq() == 9u);
  BOOST_TEST(state("A") == cp_state::active);
  BOOST_TEST(table.buffered() == 0u);
}

BOOST_FIXTURE_TEST_CASE(following_the_stream_and_a_live_gap, fixture) {
  table.resync(out, up, now);
  snapshot_requests();
  snap(10, {cp("A", cp_state::active)});
  notices();

  upd(11, cp("A", cp_state::busy, "D1"));
  BOOST_TEST(table.seq() == 11u);
  BOOST_TEST(notices().size() == 1u);
  upd(11, cp("A", cp_state::busy, "D1"));  // a duplicate
  upd(9, cp("A", cp_state::active));       // an old one
  BOOST_TEST(notices().empty());
  BOOST_TEST(state("A") == cp_state::busy);

  upd(12, cp("A", cp_state::busy, "D1"));  // same state: no event
  BOOST_TEST(notices().empty());
  BOOST_TEST(table.find("A")->driver_id == "D1");

  upd(14, cp("A", cp_state::broken));  // 13 was missed
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(state("A") == cp_state::busy);  // not applied out of order
  upd(15, cp("A", cp_state::active));
  upd(17, cp("A", cp_state::busy));
  BOOST_TEST(snapshot_requests() == 0);  // one outstanding request only
  BOOST_TEST(table.buffered() == 3u);

  snap(13, {cp("A", cp_state::out_of_order)});
  // 14 and 15 follow the snapshot; 17 after a new gap asks once more.
  BOOST_TEST(table.seq() == 15u);
  BOOST_TEST(state("A") == cp_state::active);
  BOOST_TEST(snapshot_requests() == 1);
  snap(17, {cp("A", cp_state::busy)});
  BOOST_TEST(table.seq() == 17u);
  BOOST_TEST(table.buffered() == 0u);
  BOOST_TEST(!table.awaiting_snapshot());
}

BOOST_FIXTURE_TEST_CASE(a_late_snapshot_older_than_the_stream_is_ignored, fixture) {
  table.resync(out, up, now);
  table.on_tick(out, up, now + cp_table::snapshot_retry_ms);  // a second request
  snapshot_requests();
  snap(4, {cp("A", cp_state::active)});
  upd(5, cp("A", cp_state::busy));
  notices();
  snap(4, {cp("A", cp_state::active)});  // the answer to the second request
  BOOST_TEST(notices().empty());
  BOOST_TEST(table.seq() == 5u);
  BOOST_TEST(state("A") == cp_state::busy);
}

BOOST_FIXTURE_TEST_CASE(central_restarting_its_sequence_is_followed_after_a_resync, fixture) {
  table.resync(out, up, now);
  snap(500, {cp("A", cp_state::busy)});
  table.resync(out, up, now + 1000);  // a new session: Central restarted
  BOOST_TEST(snapshot_requests() == 2);
  upd(2, cp("A", cp_state::broken));  // low numbers: kept until the snapshot says
  snap(1, {cp("A", cp_state::active)});
  BOOST_TEST(table.seq() == 2u);
  BOOST_TEST(state("A") == cp_state::broken);
}

BOOST_FIXTURE_TEST_CASE(the_buffer_is_bounded, fixture) {
  table.resync(out, up, now);
  const auto n = static_cast<std::uint64_t>(cp_table::max_buffered) + 10;
  for (std::uint64_t s = 1; s <= n; ++s) {
    upd(s, cp("A", s % 2 ? cp_state::busy : cp_state::active));
  }
  BOOST_TEST(table.buffered() == cp_table::max_buffered);
  snap(n - 1, {cp("A", cp_state::busy)});
  BOOST_TEST(table.seq() == n);
  BOOST_TEST(table.buffered() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_new_cp_in_its_default_state_is_added_quietly_as_today, fixture) {
  table.resync(out, up, now);
  snap(1, {});
  notices();
  upd(2, cp("N", cp_state::disconnected));
  BOOST_TEST(notices().empty());
  BOOST_TEST(table.find("N") != nullptr);
  upd(3, cp("M", cp_state::active));
  BOOST_TEST(notices().size() == 1u);
}

// ---- the stream's port and heartbeat (Clone pattern) -----------------------------------

namespace {

protocol::snapshot snapshot_on(std::uint64_t seq, std::uint32_t port, std::vector<protocol::cp_info> cps = {}) {
  protocol::snapshot s{seq, std::move(cps)};
  s.stream_port = port;
  return s;
}

std::int64_t num(const notice& n, const std::string& key) {
  const auto it = n.fields.find(key);
  BOOST_REQUIRE(it != n.fields.end());
  return it->second.get<std::int64_t>();
}

// The `stream` notices among `ns`: (port, reason).
std::vector<std::pair<std::int64_t, std::string>> streams(const std::vector<notice>& ns) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  for (const auto& n : ns) {
    if (n.name == "stream") {
      out.emplace_back(num(n, "port"), str(n, "reason"));
    }
  }
  return out;
}

using stream_list = std::vector<std::pair<std::int64_t, std::string>>;

// A table that learned port 7001 from its first snapshot and holds the
// second snapshot at seq 10: following the stream.
struct following : fixture {
  following() {
    table.resync(out, up, now);
    snapshot_requests();
    table.on_snapshot(snapshot_on(9, 7001, {cp("A", cp_state::active)}), out, up, now);
    snapshot_requests();
    table.on_snapshot(snapshot_on(10, 7001, {cp("A", cp_state::active)}), out, up, now);
    notices();
    BOOST_REQUIRE(!table.awaiting_snapshot());
  }
  void hugz(std::uint64_t seq) { table.on_heartbeat(protocol::stream_heartbeat{seq}, out, up, now); }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(the_first_snapshot_names_the_stream_port_subscribe_then_snapshot_again, fixture) {
  table.resync(out, up, now);
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(!table.stream_port().has_value());
  table.on_snapshot(snapshot_on(9, 7001, {cp("A", cp_state::active)}), out, up, now);
  const auto n = notices();
  BOOST_TEST(n.front().name == "cps");  // the table is shown at once
  BOOST_TEST((streams(n) == stream_list{{7001, "learned"}}));
  BOOST_REQUIRE(table.stream_port().has_value());
  BOOST_TEST(*table.stream_port() == 7001u);
  // Subscribed after that snapshot was taken: what was published in
  // between is covered by a second one, and updates wait for it.
  BOOST_TEST(table.awaiting_snapshot());
  BOOST_TEST(snapshot_requests() == 1);
  upd(11, cp("A", cp_state::busy));
  BOOST_TEST(table.buffered() == 1u);
  table.on_snapshot(snapshot_on(10, 7001, {cp("A", cp_state::active)}), out, up, now);
  BOOST_TEST(streams(notices()).empty());  // the same port: nothing to do
  BOOST_TEST(snapshot_requests() == 0);
  BOOST_TEST(!table.awaiting_snapshot());
  BOOST_TEST(table.seq() == 11u);
  BOOST_TEST(state("A") == cp_state::busy);
}

BOOST_FIXTURE_TEST_CASE(a_stream_that_moved_is_followed_to_its_new_port, fixture) {
  table.resync(out, up, now);
  table.on_snapshot(snapshot_on(9, 7001), out, up, now);
  table.on_snapshot(snapshot_on(9, 7001), out, up, now);
  notices();
  snapshot_requests();
  // Central restarted with another --pub-port.
  table.resync(out, up, now + 1000);
  BOOST_TEST(snapshot_requests() == 1);
  table.on_snapshot(snapshot_on(1, 9100), out, up, now + 1000);
  BOOST_TEST((streams(notices()) == stream_list{{9100, "moved"}}));
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(*table.stream_port() == 9100u);
}

BOOST_FIXTURE_TEST_CASE(an_older_central_naming_no_port_means_port_plus_one_without_a_second_snapshot, fixture) {
  table.resync(out, up, now);
  snapshot_requests();
  snap(5, {cp("A", cp_state::active)});
  BOOST_TEST((streams(notices()) == stream_list{{0, "assumed"}}));
  BOOST_TEST(!table.awaiting_snapshot());
  BOOST_TEST(snapshot_requests() == 0);
  snap(5, {cp("A", cp_state::active)});
  BOOST_TEST(streams(notices()).empty());
  // No heartbeat comes from such a Central: its silence means nothing.
  table.on_tick(out, up, now + 60'000);
  BOOST_TEST(notices().empty());
  BOOST_TEST(snapshot_requests() == 0);
  BOOST_TEST(!table.next_deadline().has_value());
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_at_our_sequence_changes_nothing, following) {
  hugz(10);
  hugz(9);  // published before the snapshot was taken
  BOOST_TEST(snapshot_requests() == 0);
  BOOST_TEST(notices().empty());
  BOOST_TEST(!table.awaiting_snapshot());
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_above_our_sequence_means_updates_were_lost, following) {
  hugz(12);  // 11 and 12 never arrived
  BOOST_TEST(table.awaiting_snapshot());
  BOOST_TEST(snapshot_requests() == 1);
  hugz(13);  // while it is awaited: one request only
  BOOST_TEST(snapshot_requests() == 0);
  upd(13, cp("A", cp_state::busy));
  table.on_snapshot(snapshot_on(12, 7001, {cp("A", cp_state::broken)}), out, up, now);
  BOOST_TEST(table.seq() == 13u);
  BOOST_TEST(state("A") == cp_state::busy);
  BOOST_TEST(!table.awaiting_snapshot());
}

BOOST_FIXTURE_TEST_CASE(a_silent_stream_is_resubscribed_and_resnapshot_after_three_seconds, following) {
  const auto start = now;
  BOOST_REQUIRE(table.next_deadline().has_value());
  BOOST_TEST(*table.next_deadline() == start + cp_table::stream_silence_ms);
  // Heard every second: never silent.
  for (int s = 1; s <= 10; ++s) {
    now = start + s * 1000;
    hugz(10);
    table.on_tick(out, up, now);
  }
  BOOST_TEST(notices().empty());
  BOOST_TEST(snapshot_requests() == 0);
  // Then nothing: 2.999 s is still fine, 3 s is not.
  const auto last = now;
  table.on_tick(out, up, last + cp_table::stream_silence_ms - 1);
  BOOST_TEST(notices().empty());
  table.on_tick(out, up, last + cp_table::stream_silence_ms);
  BOOST_TEST((streams(notices()) == stream_list{{7001, "silent"}}));
  BOOST_TEST(snapshot_requests() == 1);
  BOOST_TEST(table.awaiting_snapshot());
  // Still silent: another resubscription 3 s later, not one per tick.
  table.on_tick(out, up, last + cp_table::stream_silence_ms + 1000);
  BOOST_TEST(notices().empty());
  table.on_tick(out, up, last + 2 * cp_table::stream_silence_ms);
  BOOST_TEST((streams(notices()) == stream_list{{7001, "silent"}}));
}

BOOST_FIXTURE_TEST_CASE(any_stream_message_counts_as_a_sign_of_life, following) {
  now += 2000;
  upd(11, cp("A", cp_state::busy));
  notices();
  table.on_tick(out, up, now + cp_table::stream_silence_ms - 1);
  BOOST_TEST(notices().empty());
  table.on_tick(out, up, now + cp_table::stream_silence_ms);
  BOOST_TEST(streams(notices()).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(silence_does_not_count_while_central_is_unreachable, following) {
  table.on_tick(out, false, now + 60'000);
  BOOST_TEST(notices().empty());
  BOOST_TEST(snapshot_requests() == 0);
  // Back: a new session gives the stream a fresh allowance.
  now += 60'000;
  table.resync(out, up, now);
  BOOST_TEST(snapshot_requests() == 1);
  table.on_tick(out, up, now + cp_table::stream_silence_ms - 1);
  BOOST_TEST(streams(notices()).empty());
  table.on_tick(out, up, now + cp_table::stream_silence_ms);
  BOOST_TEST((streams(notices()) == stream_list{{7001, "silent"}}));
}

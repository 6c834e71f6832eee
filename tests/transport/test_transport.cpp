#define BOOST_TEST_MODULE transport
#include <boost/test/unit_test.hpp>

#include "evnet/transport.hpp"

#include "backoff.hpp"
#include "harness.hpp"
#include "peer_table.hpp"
#include "report_limiter.hpp"
#include "zap.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <set>

BOOST_AUTO_TEST_SUITE(helpers)

BOOST_AUTO_TEST_CASE(backoff_doubles_with_jitter_up_to_the_cap) {
  evnet::transport::detail::backoff b(100ms, 800ms, 42);
  const std::vector<double> bases{100, 200, 400, 800, 800, 800};
  for (int round = 0; round < 2; ++round) {
    for (const double base : bases) {
      const auto d = static_cast<double>(b.next().count());
      BOOST_TEST(d >= base * 0.8 - 1);
      BOOST_TEST(d <= std::min(base * 1.2, 800.0));
    }
    b.reset();
    BOOST_TEST(b.failures() == 0);
  }
}

BOOST_AUTO_TEST_CASE(backoff_spreads_clients_apart) {
  std::set<long> first_delays;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    evnet::transport::detail::backoff b(1000ms, 32000ms, seed);
    first_delays.insert(static_cast<long>(b.next().count()));
  }
  BOOST_TEST(first_delays.size() > 10u);
}

// Rejections are limited per peer, not per text: a peer alternating two
// kinds of garbage is still reported once a second, with a count.
BOOST_AUTO_TEST_CASE(rejections_are_reported_once_a_second_per_peer) {
  using evnet::transport::detail::clock;
  evnet::transport::detail::report_limiter limiter;
  const auto t0 = clock::now();
  const auto ev = [](std::string detail) {
    return tr::link_event{1, tr::event_kind::rejected, "p", std::move(detail), {}, {}, {}};
  };
  BOOST_TEST(limiter.admit("p", ev("malformed: x"), t0).has_value());
  BOOST_TEST(!limiter.admit("p", ev("malformed: x"), t0 + 1ms).has_value());
  BOOST_TEST(!limiter.admit("p", ev("unknown_type: y"), t0 + 2ms).has_value());  // another text: still held
  BOOST_TEST(limiter.admit("q", ev("malformed: x"), t0 + 3ms).has_value());      // another peer: at once
  BOOST_TEST(!limiter.admit("p", ev("malformed: z"), t0 + 4ms).has_value());
  BOOST_TEST(limiter.flush(t0 + 999ms).empty());
  BOOST_TEST((limiter.next_flush() == t0 + 1s));
  const auto flushed = limiter.flush(t0 + 1s);
  BOOST_REQUIRE_EQUAL(flushed.size(), 1u);
  BOOST_TEST(flushed[0].peer == "p");
  BOOST_TEST(flushed[0].detail == "malformed: z (2 more since the last report)");  // the last held one
  BOOST_TEST((limiter.next_flush() == clock::time_point::max()));
  // Quiet for a window: the next one goes out at once, with nothing to add.
  const auto later = limiter.admit("p", ev("malformed: x"), t0 + 3s);
  BOOST_REQUIRE(later.has_value());
  BOOST_TEST(later->detail == "malformed: x");
  // One held report is flushed as it is.
  BOOST_TEST(!limiter.admit("p", ev("malformed: w"), t0 + 3100ms).has_value());
  const auto one = limiter.flush(t0 + 4s);
  BOOST_REQUIRE_EQUAL(one.size(), 1u);
  BOOST_TEST(one[0].detail == "malformed: w");
}

BOOST_AUTO_TEST_CASE(the_report_limiter_stays_bounded) {
  using evnet::transport::detail::clock;
  using evnet::transport::detail::report_limiter;
  report_limiter limiter;
  const auto t0 = clock::now();
  std::size_t reported = 0;
  for (std::size_t i = 0; i < report_limiter::max_sources + 100; ++i) {
    if (limiter.admit("addr" + std::to_string(i), tr::link_event{}, t0)) {
      ++reported;
    }
  }
  // Past the bound, new sources share one key: one more report, the rest held.
  BOOST_TEST(limiter.sources() == report_limiter::max_sources + 1);
  BOOST_TEST(reported == report_limiter::max_sources + 1);
  BOOST_TEST(limiter.flush(t0 + 1s).size() == 1u);
  // A window later the quiet sources are swept to make room.
  BOOST_TEST(limiter.admit("fresh", tr::link_event{}, t0 + 2s).has_value());
  BOOST_TEST(limiter.sources() <= 2u);
}

BOOST_AUTO_TEST_CASE(peer_table_forgets_silent_peers_once) {
  using evnet::transport::detail::clock;
  evnet::transport::detail::peer_table peers(300ms);
  const auto t0 = clock::now();
  peers.heard("a", t0);
  peers.heard("b", t0);
  peers.heard("b", t0 + 200ms);
  BOOST_TEST(peers.expire(t0 + 250ms).empty());
  const auto gone = peers.expire(t0 + 400ms);
  BOOST_TEST(gone == std::vector<std::string>{"a"});
  BOOST_TEST(peers.expire(t0 + 450ms).empty());
  BOOST_TEST(peers.expire(t0 + 600ms) == std::vector<std::string>{"b"});
  BOOST_TEST(peers.size() == 0u);
}

BOOST_AUTO_TEST_CASE(event_kinds_have_names) {
  BOOST_TEST(tr::to_string(tr::event_kind::peer_gone) == "peer_gone");
  BOOST_TEST(tr::to_string(tr::event_kind::send_failed) == "send_failed");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sockets)

BOOST_AUTO_TEST_CASE(request_reply_round_trip) {
  const int port = free_port();
  echo_server server(port);
  client c(port, "monitor:ALC1");
  // A DEALER carries application frames only once it is up.
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));

  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC1", proto::cp_auth{"ALC1"}, 7)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) {
    return std::any_of(v.messages.begin(), v.messages.end(), [](const auto& in) { return is_ack_for(in, 7); });
  }));

  const auto requests = server.sink.messages();
  BOOST_REQUIRE_EQUAL(requests.size(), 1u);
  BOOST_TEST(requests[0].link == server.link);
  BOOST_TEST(requests[0].peer.rfind("monitor:ALC1:", 0) == 0);
  BOOST_TEST(requests[0].msg.sender == "monitor:ALC1");
  BOOST_REQUIRE(requests[0].msg.is<proto::cp_auth>());
  BOOST_TEST(requests[0].msg.as<proto::cp_auth>().cp_id == "ALC1");

  const auto replies = c.sink.messages();
  BOOST_REQUIRE_EQUAL(replies.size(), 1u);
  BOOST_TEST(replies[0].peer.empty());
  BOOST_TEST(replies[0].msg.as<proto::ack>().reason == requests[0].peer);  // the server answered that peer
  // Nothing was offered before `connected`, so nothing was dropped.
  const auto events = c.sink.events();
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events.front().kind == tr::event_kind::connected);
}

BOOST_AUTO_TEST_CASE(heartbeats_never_reach_the_sink_and_keep_peers_alive) {
  const int port = free_port();
  echo_server server(port);
  client c(port, "driver:D1");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));

  // Six peer_timeouts' worth of heartbeats: nothing times out, nothing is delivered.
  BOOST_TEST(!server.sink.wait_for([](const auto& v) { return v.count(tr::event_kind::peer_gone) > 0; }, 1800ms));
  BOOST_TEST(c.sink.count(tr::event_kind::disconnected) == 0u);
  BOOST_TEST(server.sink.messages().empty());
  BOOST_TEST(c.sink.messages().empty());
}

BOOST_AUTO_TEST_CASE(raw_peer_heartbeats_are_answered_not_delivered) {
  const int port = free_port();
  echo_server server(port);
  raw_socket raw(zmq::socket_type::dealer, "raw:hb");
  raw.socket.connect(endpoint(port));
  const auto hb = proto::encode(proto::make("raw", proto::heartbeat{}));
  for (int i = 0; i < 3; ++i) {
    raw.socket.send(zmq::buffer(hb), zmq::send_flags::none);
    zmq::message_t reply;
    BOOST_REQUIRE(raw.socket.recv(reply));
    auto decoded = proto::decode(reply.data(), reply.size());
    BOOST_REQUIRE(decoded.ok());
    BOOST_TEST(decoded->is<proto::heartbeat>());
    BOOST_TEST(decoded->sender == "central");
  }
  BOOST_TEST(server.sink.messages().empty());
}

BOOST_AUTO_TEST_CASE(pub_sub_delivers_the_subscribed_topic) {
  const int port = free_port();
  recorder pub_sink;
  tr::transport pub(fast_options("central"));
  const auto pub_link = pub.add_publisher(endpoint(port));
  BOOST_REQUIRE(pub.start(pub_sink).ok());

  recorder sub_sink;
  tr::transport sub(fast_options("driver:D1"));
  const auto sub_link = sub.add_subscriber(endpoint(port), "cp");
  BOOST_REQUIRE(sub.start(sub_sink).ok());

  // A subscription takes a moment to reach the publisher (the slow joiner):
  // publish until something arrives instead of guessing a delay.
  std::uint64_t seq = 0;
  bool got = false;
  for (int i = 0; i < 100 && !got; ++i) {
    ++seq;
    BOOST_REQUIRE(pub.publish(pub_link, "other", proto::make("central", proto::cp_update{seq, {}})));
    BOOST_REQUIRE(pub.publish(pub_link, "cp", proto::make("central", proto::cp_update{seq, {}})));
    got = sub_sink.wait_for([](const auto& v) { return !v.messages.empty(); }, 50ms);
  }
  BOOST_REQUIRE(got);
  // One more after the first arrived: it must arrive too, in order.
  BOOST_REQUIRE(pub.publish(pub_link, "cp", proto::make("central", proto::cp_update{1000, {}})));
  BOOST_REQUIRE(sub_sink.wait_for([](const auto& v) {
    return std::any_of(v.messages.begin(), v.messages.end(),
                       [](const auto& in) { return in.msg.template as<proto::cp_update>().seq == 1000; });
  }));
  for (const auto& in : sub_sink.messages()) {
    BOOST_TEST(in.link == sub_link);
    BOOST_TEST(in.peer.empty());
    BOOST_REQUIRE(in.msg.is<proto::cp_update>());
  }
  // "other" frames carried the same payloads; only the "cp" stream may show up,
  // so every seq is seen at most once.
  std::set<std::uint64_t> seen;
  for (const auto& in : sub_sink.messages()) {
    BOOST_TEST(seen.insert(in.msg.as<proto::cp_update>().seq).second);
  }
  BOOST_TEST(sub.send(sub_link, proto::make("driver:D1", proto::heartbeat{})) == false);
}

BOOST_AUTO_TEST_CASE(garbage_is_answered_with_error_reply_and_rejected_once) {
  const int port = free_port();
  echo_server server(port);
  raw_socket raw(zmq::socket_type::dealer, "raw:bad");
  raw.socket.connect(endpoint(port));

  constexpr int flood = 50;
  for (int i = 0; i < flood; ++i) {
    raw.socket.send(zmq::str_buffer("this is not msgpack"), zmq::send_flags::none);
  }
  for (int i = 0; i < flood; ++i) {
    zmq::message_t reply;
    BOOST_REQUIRE(raw.socket.recv(reply));
    auto decoded = proto::decode(reply.data(), reply.size());
    BOOST_REQUIRE(decoded.ok());
    BOOST_REQUIRE(decoded->is<proto::error_reply>());
    BOOST_TEST(decoded->as<proto::error_reply>().code == evnet::errc::malformed);
    BOOST_TEST(decoded->correlation == 0u);
    BOOST_TEST(decoded->sender == "central");
  }
  // Every frame was answered, so every rejection has been counted by now.
  BOOST_TEST(server.sink.count(tr::event_kind::rejected, "raw:bad") == 1u);

  // A multipart message is wrong in a different way, and reported.
  raw.socket.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  raw.socket.send(zmq::str_buffer("b"), zmq::send_flags::none);
  zmq::message_t reply;
  BOOST_REQUIRE(raw.socket.recv(reply));
  BOOST_TEST(proto::decode(reply.data(), reply.size())->as<proto::error_reply>().code == evnet::errc::malformed);
  BOOST_REQUIRE(server.sink.wait_for([](const auto& v) { return v.count(tr::event_kind::rejected) == 2; }));
  for (const auto& ev : server.sink.events()) {
    if (ev.kind == tr::event_kind::rejected) {
      BOOST_TEST(ev.link == server.link);
      BOOST_TEST(ev.detail.rfind("malformed", 0) == 0);
    }
  }
  BOOST_TEST(server.sink.messages().empty());

  // The server still serves a well-behaved client.
  client good(port, "monitor:ALC2");
  BOOST_REQUIRE(good.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(good.t.send(good.link, proto::make("monitor:ALC2", proto::cp_status{"ALC2", true, ""}, 3)));
  BOOST_REQUIRE(good.sink.wait_for([](const auto& v) {
    return std::any_of(v.messages.begin(), v.messages.end(), [](const auto& in) { return is_ack_for(in, 3); });
  }));
}

BOOST_AUTO_TEST_CASE(dealer_rejects_garbage_from_its_server) {
  const int port = free_port();
  raw_socket raw(zmq::socket_type::router, "");
  raw.socket.bind(endpoint(port));
  client c(port, "engine:ALC1");

  // The client's heartbeat tells us its routing id.
  zmq::message_t id;
  zmq::message_t payload;
  BOOST_REQUIRE(raw.socket.recv(id));
  BOOST_REQUIRE(raw.socket.recv(payload));
  BOOST_TEST(id.to_string().rfind("engine:ALC1:", 0) == 0);
  raw.socket.send(id, zmq::send_flags::sndmore);
  raw.socket.send(zmq::str_buffer("\xc1"), zmq::send_flags::none);  // 0xc1: never valid MessagePack

  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::rejected));
  const auto events = c.sink.events();
  BOOST_TEST(events.front().kind == tr::event_kind::connected);  // any frame proves the server alive
  BOOST_TEST(c.sink.messages().empty());
}

BOOST_AUTO_TEST_CASE(dealer_reconnects_with_backoff_when_the_server_returns) {
  const int port = free_port();
  auto server = std::make_unique<echo_server>(port);
  client c(port, "monitor:ALC3");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  std::string first_id;
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC3", proto::cp_auth{"ALC3"}, 1)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return v.messages.size() == 1; }));
  first_id = c.sink.messages()[0].msg.as<proto::ack>().reason;

  server.reset();
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  // Two failed attempts against the closed port: each one is reported.
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected, 2));

  server = std::make_unique<echo_server>(port);
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected, 2));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC3", proto::cp_auth{"ALC3"}, 2)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) {
    return std::any_of(v.messages.begin(), v.messages.end(), [](const auto& in) { return is_ack_for(in, 2); });
  }));
  const auto messages = c.sink.messages();
  const auto& second = messages.back();
  BOOST_TEST(second.msg.as<proto::ack>().reason != first_id);  // a fresh identity
  BOOST_TEST(second.msg.as<proto::ack>().reason.rfind("monitor:ALC3:", 0) == 0);

  const auto events = c.sink.events();
  BOOST_TEST(events.back().kind == tr::event_kind::connected);
  for (const auto& ev : events) {
    BOOST_TEST(ev.link == c.link);
    BOOST_TEST((ev.kind == tr::event_kind::connected || ev.kind == tr::event_kind::disconnected));
  }
}

BOOST_AUTO_TEST_CASE(dealer_reports_an_unreachable_server) {
  const int port = free_port();
  client c(port, "driver:D9");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  BOOST_TEST(c.sink.count(tr::event_kind::connected) == 0u);
  BOOST_TEST(c.sink.events().front().detail.find(endpoint(port)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(forced_reconnect_uses_a_new_identity) {
  const int port = free_port();
  echo_server server(port);
  client c(port, "monitor:ALC4");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC4", proto::cp_auth{"ALC4"}, 1)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return v.messages.size() == 1; }));

  c.t.reconnect(c.link);
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected, 2));
  BOOST_TEST(c.sink.count(tr::event_kind::disconnected) == 1u);
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC4", proto::cp_auth{"ALC4"}, 2)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return v.messages.size() == 2; }));
  const auto messages = c.sink.messages();
  BOOST_TEST(messages[0].msg.as<proto::ack>().reason != messages[1].msg.as<proto::ack>().reason);
  // The old identity falls silent and the server notices.
  BOOST_REQUIRE(server.sink.wait_for([&](const auto& v) {
    return v.count(tr::event_kind::peer_gone, messages[0].msg.template as<proto::ack>().reason) == 1;
  }));
}

BOOST_AUTO_TEST_CASE(router_reports_peer_gone_after_the_dealer_stops) {
  const int port = free_port();
  echo_server server(port);
  auto c = std::make_unique<client>(port, "monitor:ALC5");
  BOOST_REQUIRE(c->sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c->t.send(c->link, proto::make("monitor:ALC5", proto::cp_auth{"ALC5"}, 1)));
  BOOST_REQUIRE(server.sink.wait_for([](const auto& v) { return v.messages.size() == 1; }));
  const auto peer = server.sink.messages()[0].peer;
  BOOST_TEST(server.sink.count(tr::event_kind::peer_gone) == 0u);

  c->t.stop();
  BOOST_REQUIRE(server.sink.wait_for([&](const auto& v) { return v.count(tr::event_kind::peer_gone, peer) == 1; }));
  for (const auto& ev : server.sink.events()) {
    // A loaded machine may have made the client reconnect once under a new
    // identity (that one goes too), and the echo may lose the race with
    // stop() (send_failed). Nothing else may happen.
    BOOST_TEST((ev.kind == tr::event_kind::peer_gone || ev.kind == tr::event_kind::send_failed));
    BOOST_TEST(ev.link == server.link);
  }
}

BOOST_AUTO_TEST_CASE(send_to_an_unknown_peer_fails_without_crashing) {
  const int port = free_port();
  echo_server server(port);
  BOOST_REQUIRE(server.t.send(server.link, "nobody", proto::make("central", proto::ack{})));
  BOOST_REQUIRE(server.sink.wait_event(tr::event_kind::send_failed));
  const auto ev = server.sink.events().front();
  BOOST_TEST(ev.peer == "nobody");
  BOOST_TEST(ev.link == server.link);
  BOOST_TEST(!ev.detail.empty());

  // Still serving.
  client c(port, "driver:D2");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("driver:D2", proto::driver_hello{"D2"}, 5)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return v.messages.size() == 1; }));
}

BOOST_AUTO_TEST_CASE(binding_a_taken_port_is_a_clear_start_error) {
  const int port = free_port();
  echo_server first(port);

  recorder sink;
  tr::transport second(fast_options("central"));
  second.add_router(endpoint(port));
  const auto st = second.start(sink);
  BOOST_REQUIRE(!st.ok());
  BOOST_TEST(st.err().message == "cannot listen on " + endpoint(port) + ": Address already in use");
  BOOST_TEST(second.send(1, "x", proto::make("central", proto::ack{})) == false);

  tr::transport bad(fast_options("central"));
  bad.add_publisher("nonsense://here");
  const auto st2 = bad.start(sink);
  BOOST_REQUIRE(!st2.ok());
  BOOST_TEST(st2.err().message.rfind("cannot listen on nonsense://here: ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(start_twice_is_refused_and_stop_is_idempotent) {
  recorder sink;
  tr::transport t(fast_options("x"));
  t.add_dealer(endpoint(free_port()), "x");
  BOOST_REQUIRE(t.start(sink).ok());
  BOOST_TEST(!t.start(sink).ok());
  t.stop();
  t.stop();
  BOOST_TEST(t.send(1, proto::make("x", proto::ack{})) == false);
  BOOST_TEST(t.send(99, proto::make("x", proto::ack{})) == false);
}

BOOST_AUTO_TEST_CASE(stop_with_messages_in_flight_does_not_hang) {
  const int port = free_port();
  auto server = std::make_unique<echo_server>(port);
  // Nobody listens here: the DEALER queues up to its HWM.
  recorder sink;
  tr::transport t(fast_options("engine:E1"));
  const auto lost = t.add_dealer(endpoint(free_port()), "engine:E1");
  const auto live = t.add_dealer(endpoint(port), "engine:E1");
  BOOST_REQUIRE(t.start(sink).ok());
  // Frames are in flight only on a link that is up; the other one drops them.
  BOOST_REQUIRE(sink.wait_for([&](const auto& v) {
    return std::any_of(v.events.begin(), v.events.end(),
                       [&](const auto& e) { return e.link == live && e.kind == tr::event_kind::connected; });
  }));
  proto::charge_finished finished;
  finished.record.cp_id = "ALC1";
  finished.record.charge_id = std::string(4096, 'c');
  const auto big = proto::make("engine:E1", finished);
  for (int i = 0; i < 20000; ++i) {
    BOOST_REQUIRE(t.send(lost, big));
    BOOST_REQUIRE(t.send(live, big));
  }
  const auto before = std::chrono::steady_clock::now();
  t.stop();
  server.reset();
  BOOST_TEST((std::chrono::steady_clock::now() - before < 3s));
  BOOST_TEST(t.send(live, big) == false);
}

BOOST_AUTO_TEST_CASE(stop_from_a_sink_callback_does_not_deadlock) {
  struct stopping_sink : recorder {
    tr::transport* t = nullptr;
    void on_event(tr::link_event ev) override {
      t->stop();
      recorder::on_event(std::move(ev));
    }
  } sink;
  tr::transport t(fast_options("x"));
  sink.t = &t;
  const auto link = t.add_dealer(endpoint(free_port()), "x");
  BOOST_REQUIRE(t.start(sink).ok());
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::disconnected));
  BOOST_TEST(t.send(link, proto::make("x", proto::ack{})) == false);
}

BOOST_AUTO_TEST_CASE(frames_offered_before_the_first_connected_are_dropped_and_reported_once) {
  const int port = free_port();
  client c(port, "monitor:ALC6");  // nobody listens yet
  for (std::uint64_t i = 1; i <= 5; ++i) {
    BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC6", proto::cp_status{"ALC6", true, ""}, i)));
  }
  // At least one attempt fails first: the connection that works is a fresh one.
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  echo_server server(port);
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));

  // One report for the outage, just before `connected`, with the count.
  const auto events = c.sink.events();
  BOOST_TEST(c.sink.count(tr::event_kind::send_failed) == 1u);
  const auto up = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.kind == tr::event_kind::connected; });
  BOOST_REQUIRE(up != events.begin());
  BOOST_TEST(std::prev(up)->kind == tr::event_kind::send_failed);
  BOOST_TEST(std::prev(up)->detail.rfind("5 frames ", 0) == 0);

  // The caller re-sends on `connected`; only that reaches the server.
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC6", proto::cp_auth{"ALC6"}, 9)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return has_ack_for(v, 9); }));
  const auto received = server.sink.messages();
  BOOST_REQUIRE_EQUAL(received.size(), 1u);
  BOOST_TEST(received[0].msg.correlation == 9u);
}

BOOST_AUTO_TEST_CASE(nothing_offered_before_an_outage_reaches_the_restarted_server) {
  // Offers a frame from inside the `disconnected` callback: the link is down
  // by then, whatever the timing, so that frame must be dropped.
  struct offering_sink : recorder {
    tr::transport* t = nullptr;
    void on_event(tr::link_event ev) override {
      if (ev.kind == tr::event_kind::disconnected) {
        t->send(ev.link, proto::make("engine:ALC7", proto::cp_status{"ALC7", true, ""}, 3));
      }
      recorder::on_event(std::move(ev));
    }
  } sink;

  const int port = free_port();
  auto first = std::make_unique<echo_server>(port);
  tr::transport t(fast_options("engine:ALC7"));
  sink.t = &t;
  const auto link = t.add_dealer(endpoint(port), "engine:ALC7");
  BOOST_REQUIRE(t.start(sink).ok());
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(t.send(link, proto::make("engine:ALC7", proto::engine_hello{"ALC7"}, 1)));
  BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 1); }));

  // The server dies and another takes its address at once, well within the
  // client's silence limit. The link still looks up for a moment: this frame
  // goes to the old connection (or is refused), never to the new server.
  first.reset();
  BOOST_REQUIRE(t.send(link, proto::make("engine:ALC7", proto::cp_status{"ALC7", true, ""}, 2)));
  echo_server second(port);

  BOOST_REQUIRE(sink.wait_event(tr::event_kind::connected, 2));
  BOOST_REQUIRE(t.send(link, proto::make("engine:ALC7", proto::engine_hello{"ALC7"}, 4)));
  BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 4); }));

  // The new server saw only what was sent after `connected`.
  const auto received = second.sink.messages();
  BOOST_REQUIRE_EQUAL(received.size(), 1u);
  BOOST_TEST(received[0].msg.correlation == 4u);
  // The frame offered while down was counted and reported with the outage.
  const auto events = sink.events();
  const auto reconnected = std::find_if(events.rbegin(), events.rend(),
                                        [](const auto& e) { return e.kind == tr::event_kind::connected; });
  BOOST_REQUIRE(reconnected != events.rend());
  const auto report = std::next(reconnected);
  BOOST_REQUIRE(report != events.rend());
  BOOST_TEST(report->kind == tr::event_kind::send_failed);
  BOOST_TEST(report->detail.find("offered while the link to " + endpoint(port) + " was not up") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(many_dealers_on_one_router_all_get_replies) {
  const int port = free_port();
  echo_server server(port);

  // Like the application: (re)send the request whenever a link (re)connects,
  // since a DEALER socket rebuilt after a timeout drops what it had queued.
  struct requesting_sink : recorder {
    tr::transport* t = nullptr;
    void on_event(tr::link_event ev) override {
      if (ev.kind == tr::event_kind::connected) {
        t->send(ev.link, proto::make("driver", proto::driver_hello{"D"}, ev.link));
      }
      recorder::on_event(std::move(ev));
    }
  } sink;

  constexpr std::size_t dealers = 200;
  tr::transport t(fast_options("driver"));
  sink.t = &t;
  for (std::size_t i = 0; i < dealers; ++i) {
    t.add_dealer(endpoint(port), "driver:D" + std::to_string(i));
  }
  BOOST_REQUIRE(t.start(sink).ok());
  const auto answered_links = [](const recorder::view& v) {
    std::set<tr::link_id> links;
    for (const auto& in : v.messages) {
      links.insert(in.link);
    }
    return links.size();
  };
  BOOST_REQUIRE(sink.wait_for([&](const auto& v) { return answered_links(v) == dealers; }, 20s));
  for (const auto& in : sink.messages()) {
    BOOST_TEST(is_ack_for(in, in.link));
  }
  std::set<std::string> peers;
  for (const auto& in : server.sink.messages()) {
    peers.insert(in.peer);
  }
  BOOST_TEST(peers.size() >= dealers);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- hosts, the stream's subscription, fast loss detection, batches ---------------------

namespace {

// A free port on the IPv6 loopback, or 0 when this machine has none.
int free_port_v6() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) {
    return 0;
  }
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = 0;
  int port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin6_port);
  }
  ::close(fd);
  return port;
}

// Publishes `next_seq()` on "cp" until `sink` holds a cp_update that
// `wanted` accepts (the slow joiner: a subscription takes a moment).
bool publish_until(tr::transport& pub, tr::link_id link, recorder& sink, std::uint64_t& seq,
                   const std::function<bool(std::uint64_t)>& wanted) {
  const auto seen = [&](const recorder::view& v) {
    return std::any_of(v.messages.begin(), v.messages.end(), [&](const auto& in) {
      return in.msg.template is<proto::cp_update>() && wanted(in.msg.template as<proto::cp_update>().seq);
    });
  };
  for (int i = 0; i < 200; ++i) {
    ++seq;
    if (!pub.publish(link, "cp", proto::make("central", proto::cp_update{seq, {}}))) {
      return false;
    }
    if (sink.wait_for(seen, 25ms)) {
      return true;
    }
  }
  return false;
}

// Records each on_batch() call as it comes; on_message() is then never
// called by the transport.
class batch_recorder : public recorder {
public:
  void on_batch(std::vector<tr::inbound> msgs) override {
    {
      std::lock_guard lock(batch_mutex_);
      sizes_.push_back(msgs.size());
    }
    for (auto& in : msgs) {
      recorder::on_message(std::move(in));
    }
  }
  void on_message(tr::inbound in) override {
    direct_.fetch_add(1);
    recorder::on_message(std::move(in));
  }
  std::vector<std::size_t> sizes() {
    std::lock_guard lock(batch_mutex_);
    return sizes_;
  }
  int direct() const { return direct_.load(); }

private:
  std::mutex batch_mutex_;
  std::vector<std::size_t> sizes_;
  std::atomic<int> direct_{0};
};

} // namespace

BOOST_AUTO_TEST_SUITE(hosts_and_streams)

BOOST_AUTO_TEST_CASE(tcp_endpoint_spells_every_kind_of_host) {
  BOOST_TEST(tr::tcp_endpoint("*", 7000) == "tcp://*:7000");
  BOOST_TEST(tr::tcp_endpoint("", 7000) == "tcp://*:7000");
  BOOST_TEST(tr::tcp_endpoint("127.0.0.1", 7000) == "tcp://127.0.0.1:7000");
  BOOST_TEST(tr::tcp_endpoint("central.example", 1) == "tcp://central.example:1");
  BOOST_TEST(tr::tcp_endpoint("::1", 7000) == "tcp://[::1]:7000");
  BOOST_TEST(tr::tcp_endpoint("[::1]", 7000) == "tcp://[::1]:7000");
  BOOST_TEST(tr::tcp_endpoint("fd00:1::2", 65535) == "tcp://[fd00:1::2]:65535");
}

BOOST_AUTO_TEST_CASE(ipv4_clients_of_a_dual_stack_socket_show_as_ipv4) {
  using evnet::transport::detail::plain_address;
  BOOST_TEST(plain_address("::ffff:127.0.0.1") == "127.0.0.1");
  BOOST_TEST(plain_address("::ffff:10.1.2.3") == "10.1.2.3");
  BOOST_TEST(plain_address("127.0.0.1") == "127.0.0.1");
  BOOST_TEST(plain_address("::1") == "::1");
  BOOST_TEST(plain_address("::ffff:") == "::ffff:");
  BOOST_TEST(plain_address("::ffff:1:2") == "::ffff:1:2");
  BOOST_TEST(plain_address("fd00::ffff:1.2.3.4") == "fd00::ffff:1.2.3.4");
  BOOST_TEST(plain_address("") == "");
}

BOOST_AUTO_TEST_CASE(ipv6_loopback_round_trip) {
  const int port = free_port_v6();
  if (port == 0) {
    BOOST_TEST_MESSAGE("SKIPPED: no IPv6 loopback (::1) on this machine");
    return;
  }
  echo_sink server_sink;
  tr::transport server(fast_options("central"));
  const auto link = server.add_router(tr::tcp_endpoint("::1", static_cast<std::uint16_t>(port)));
  server_sink.attach(&server, link);
  BOOST_REQUIRE(server.start(server_sink).ok());

  recorder sink;
  tr::transport c(fast_options("monitor:V6"));
  const auto dealer = c.add_dealer(tr::tcp_endpoint("::1", static_cast<std::uint16_t>(port)), "monitor:V6");
  BOOST_REQUIRE(c.start(sink).ok());
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.send(dealer, proto::make("monitor:V6", proto::cp_auth{"V6"}, 7)));
  BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 7); }));
  const auto got = server_sink.messages();
  BOOST_REQUIRE(!got.empty());
  BOOST_TEST(got[0].address == "::1");  // the peer's address, as IPv6
}

BOOST_AUTO_TEST_CASE(a_wildcard_bind_serves_ipv4_and_ipv6) {
  const int port = free_port();
  const int v6 = free_port_v6();
  echo_sink server_sink;
  tr::transport server(fast_options("central"));
  const auto link = server.add_router(tr::tcp_endpoint("*", static_cast<std::uint16_t>(port)));
  server_sink.attach(&server, link);
  BOOST_REQUIRE(server.start(server_sink).ok());

  std::vector<std::string> hosts{"127.0.0.1"};
  if (v6 != 0) {
    hosts.emplace_back("::1");
  }
  for (const auto& host : hosts) {
    const auto heard_before = server_sink.messages().size();
    recorder sink;
    tr::transport c(fast_options("driver:W"));
    const auto dealer = c.add_dealer(tr::tcp_endpoint(host, static_cast<std::uint16_t>(port)), "driver:W");
    BOOST_REQUIRE(c.start(sink).ok());
    BOOST_REQUIRE_MESSAGE(sink.wait_event(tr::event_kind::connected), "no session over " << host);
    BOOST_REQUIRE(c.send(dealer, proto::make("driver:W", proto::driver_hello{"W"}, 3)));
    BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 3); }));
    // Each client shows with its own family's address.
    BOOST_TEST(server_sink.messages().at(heard_before).address == host);
  }
}

BOOST_AUTO_TEST_CASE(a_subscriber_without_an_endpoint_subscribes_later_and_again) {
  const int port = free_port();
  recorder pub_sink;
  tr::transport pub(fast_options("central"));
  const auto pub_link = pub.add_publisher(endpoint(port));
  BOOST_REQUIRE(pub.start(pub_sink).ok());

  recorder sink;
  tr::transport sub(fast_options("driver:D1"));
  const auto sub_link = sub.add_subscriber({}, "cp");
  BOOST_REQUIRE(sub.start(sink).ok());  // nothing to connect yet: not an error

  // Not subscribed: nothing arrives however much is published.
  std::uint64_t seq = 0;
  for (int i = 0; i < 20; ++i) {
    BOOST_REQUIRE(pub.publish(pub_link, "cp", proto::make("central", proto::cp_update{++seq, {}})));
  }
  BOOST_TEST(!sink.wait_for([](const auto& v) { return !v.messages.empty(); }, 100ms));

  sub.subscribe(sub_link, endpoint(port));
  BOOST_REQUIRE(publish_until(pub, pub_link, sink, seq, [](std::uint64_t) { return true; }));
  for (const auto& in : sink.messages()) {
    BOOST_TEST(in.link == sub_link);
  }

  // The same endpoint again: a resubscription with a fresh socket.
  const auto before = seq;
  sub.subscribe(sub_link, endpoint(port));
  BOOST_REQUIRE(publish_until(pub, pub_link, sink, seq, [&](std::uint64_t s) { return s > before + 1; }));

  // Another publisher (Central moved its stream): only it is heard now.
  const int port2 = free_port();
  tr::transport pub2(fast_options("central"));
  recorder pub2_sink;
  const auto pub2_link = pub2.add_publisher(endpoint(port2));
  BOOST_REQUIRE(pub2.start(pub2_sink).ok());
  sub.subscribe(sub_link, endpoint(port2));
  std::uint64_t seq2 = 1'000'000;
  BOOST_REQUIRE(publish_until(pub2, pub2_link, sink, seq2, [](std::uint64_t s) { return s > 1'000'000; }));
  const auto switched = sink.messages().size();
  // The old stream keeps publishing; a last frame of the new one arrives
  // after everything the old one sent from here on could have.
  for (int i = 0; i < 20; ++i) {
    BOOST_REQUIRE(pub.publish(pub_link, "cp", proto::make("central", proto::cp_update{++seq, {}})));
  }
  BOOST_REQUIRE(pub2.publish(pub2_link, "cp", proto::make("central", proto::cp_update{++seq2, {}})));
  BOOST_REQUIRE(sink.wait_for([&](const auto& v) {
    return std::any_of(v.messages.begin(), v.messages.end(),
                       [&](const auto& in) { return in.msg.template as<proto::cp_update>().seq == seq2; });
  }));
  const auto messages = sink.messages();
  for (std::size_t i = switched; i < messages.size(); ++i) {
    BOOST_TEST(messages[i].msg.as<proto::cp_update>().seq > 1'000'000u);
  }
}

BOOST_AUTO_TEST_CASE(a_subscriber_given_a_bad_endpoint_says_so_and_keeps_working) {
  recorder sink;
  tr::transport sub(fast_options("driver:D1"));
  const auto link = sub.add_subscriber({}, "cp");
  BOOST_REQUIRE(sub.start(sink).ok());
  sub.subscribe(link, "nonsense://here");
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::disconnected));
  BOOST_TEST(sink.events().front().detail.find("nonsense://here") != std::string::npos);

  const int port = free_port();
  recorder pub_sink;
  tr::transport pub(fast_options("central"));
  const auto pub_link = pub.add_publisher(endpoint(port));
  BOOST_REQUIRE(pub.start(pub_sink).ok());
  sub.subscribe(link, endpoint(port));
  std::uint64_t seq = 0;
  BOOST_REQUIRE(publish_until(pub, pub_link, sink, seq, [](std::uint64_t) { return true; }));
}

// The server's process-side socket closes (its transport stops, as when the
// process dies): the client's session ends at once, long before its
// silence limit, and the next attempt comes after reconnect_min.
BOOST_AUTO_TEST_CASE(a_closed_connection_ends_the_session_at_once) {
  const int port = free_port();
  auto server = std::make_unique<echo_server>(port);
  auto o = fast_options("monitor:FAST");
  o.heartbeat_interval = 1000ms;
  o.liveness = 10;  // silence would take 10 s
  o.reconnect_min = 200ms;
  o.reconnect_max = 5000ms;
  recorder sink;
  tr::transport c(o);
  const auto link = c.add_dealer(endpoint(port), "monitor:FAST");
  BOOST_REQUIRE(c.start(sink).ok());
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.send(link, proto::make("monitor:FAST", proto::cp_auth{"FAST"}, 1)));
  BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 1); }));

  const auto stopped = std::chrono::steady_clock::now();
  server.reset();
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::disconnected, 1, 2s));
  BOOST_TEST((std::chrono::steady_clock::now() - stopped < 2s));
  const auto events = sink.events();
  BOOST_TEST(events.back().detail.find("closed") != std::string::npos, events.back().detail);

  // The server is back before the first attempt is due (200 ms +-20%): the
  // client finds it on that attempt, well inside one silence limit.
  const auto back = std::chrono::steady_clock::now();
  server = std::make_unique<echo_server>(port);
  BOOST_REQUIRE(sink.wait_event(tr::event_kind::connected, 2, 3s));
  BOOST_TEST((std::chrono::steady_clock::now() - back < 3s));
  BOOST_REQUIRE(c.send(link, proto::make("monitor:FAST", proto::cp_auth{"FAST"}, 3)));
  BOOST_REQUIRE(sink.wait_for([](const auto& v) { return has_ack_for(v, 3); }));
}

// Heartbeats take the byte-check path and are still answered, whatever the
// sender's name and correlation; one encoded another way takes the decode
// path and is answered too. None reaches the application.
BOOST_AUTO_TEST_CASE(heartbeats_are_answered_on_the_fast_path_and_the_slow_one) {
  const int port = free_port();
  echo_server server(port);
  raw_socket peer(zmq::socket_type::dealer, "raw-hb");
  peer.socket.connect(endpoint(port));

  const auto answered = [&](const std::string& frame) {
    (void)peer.socket.send(zmq::buffer(frame), zmq::send_flags::none);
    zmq::message_t reply;
    if (!peer.socket.recv(reply, zmq::recv_flags::none)) {
      return false;
    }
    const auto decoded = proto::decode(reply.data(), reply.size());
    return decoded.ok() && decoded->is<proto::heartbeat>() && decoded->sender == "central";
  };
  const std::string long_sender(proto::max_id_size, 'x');
  for (const auto& sender : {std::string("m"), std::string("monitor:ALC1"), long_sender}) {
    const auto frame = proto::encode(proto::make(sender, proto::heartbeat{}, 123456789));
    BOOST_TEST(proto::is_heartbeat_frame(frame.data(), frame.size()));
    BOOST_TEST(answered(frame));
  }
  // [1, "heartbeat", "x", 0, {}] with the version as a uint8: valid, but not
  // the bytes encode() writes.
  const char odd_bytes[] = "\x95\xcc\x01\xa9heartbeat\xa1x\x00\x80";
  const std::string odd(odd_bytes, sizeof odd_bytes - 1);
  BOOST_TEST(!proto::is_heartbeat_frame(odd.data(), odd.size()));
  BOOST_REQUIRE(proto::decode(odd).ok());
  BOOST_TEST(answered(odd));
  // Real requests still get through after all that.
  (void)peer.socket.send(zmq::buffer(proto::encode(proto::make("driver:D1", proto::driver_hello{"D1"}, 9))),
                         zmq::send_flags::none);
  zmq::message_t reply;
  BOOST_REQUIRE(peer.socket.recv(reply, zmq::recv_flags::none));
  BOOST_TEST(proto::decode(reply.data(), reply.size())->is<proto::ack>());
  BOOST_REQUIRE(server.sink.wait_for([](const auto& v) { return v.messages.size() == 1; }));
  BOOST_TEST(server.sink.messages()[0].msg.is<proto::driver_hello>());
}

// Everything read in one wake-up arrives as one batch, in order; nothing
// is lost or delivered twice, and on_message is not called behind its back.
BOOST_AUTO_TEST_CASE(inbound_messages_arrive_in_batches_in_order) {
  const int port = free_port();
  batch_recorder sink;
  tr::transport server(fast_options("central"));
  server.add_router(endpoint(port));
  BOOST_REQUIRE(server.start(sink).ok());

  raw_socket peer(zmq::socket_type::dealer, "raw-burst");
  peer.socket.connect(endpoint(port));
  constexpr std::uint64_t burst = 500;
  for (std::uint64_t i = 1; i <= burst; ++i) {
    const auto frame = proto::encode(proto::make("driver:B", proto::ticket_ack{"ALC1", "c" + std::to_string(i)}, i));
    (void)peer.socket.send(zmq::buffer(frame), zmq::send_flags::none);
  }
  BOOST_REQUIRE(sink.wait_for([&](const auto& v) { return v.messages.size() == burst; }));
  const auto messages = sink.messages();
  for (std::uint64_t i = 0; i < burst; ++i) {
    BOOST_TEST(messages[i].msg.correlation == i + 1);
  }
  const auto sizes = sink.sizes();
  BOOST_TEST(sink.direct() == 0);
  std::size_t total = 0;
  for (const auto n : sizes) {
    BOOST_TEST(n > 0u);
    total += n;
  }
  BOOST_TEST(total == burst);
  // A burst read in one go is one batch, not 500 callbacks.
  BOOST_TEST(sizes.size() < burst);
  BOOST_TEST(*std::max_element(sizes.begin(), sizes.end()) > 1u);
}

// io_threads only changes how ZeroMQ spreads its work.
BOOST_AUTO_TEST_CASE(more_io_threads_change_nothing_visible) {
  const int port = free_port();
  auto o = fast_options("central");
  o.io_threads = 2;
  echo_sink server_sink;
  tr::transport server(o);
  const auto link = server.add_router(endpoint(port));
  server_sink.attach(&server, link);
  BOOST_REQUIRE(server.start(server_sink).ok());
  client c(port, "monitor:IO");
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:IO", proto::cp_auth{"IO"}, 5)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return has_ack_for(v, 5); }));
}

BOOST_AUTO_TEST_SUITE_END()

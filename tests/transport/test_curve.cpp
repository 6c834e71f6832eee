#define BOOST_TEST_MODULE transport_trust
#include <boost/test/unit_test.hpp>

// Trust on the wire: CURVE links, the ZAP handler, revocation, and the
// transport's defences against peers that do not read, flood, or send too
// much. The decisions (ZAP verdicts, handshake monitor events, the bounded
// queue, cut-off peers) are tested without sockets first, then on real
// sockets over loopback.

#include "evnet/security/key_ring.hpp"
#include "evnet/transport.hpp"

#include "harness.hpp"
#include "outbound_queue.hpp"
#include "peer_table.hpp"
#include "zap.hpp"

#include <zmq.h>

#include <set>

namespace d = evnet::transport::detail;
namespace sec = evnet::security;

namespace {

std::string raw_key(const std::string& z85) {
  std::string raw(32, '\0');
  BOOST_REQUIRE(zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), z85.c_str()) != nullptr);
  return raw;
}

// An echo server (see harness) with the given options.
using server = echo_server;

struct curve_client {
  curve_client(int port, const std::string& prefix, const sec::key_pair& own, const std::string& server_key)
      : t(curve_options(prefix, own)) {
    link = t.add_dealer(endpoint(port), prefix, server_key);
    auto st = t.start(sink);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string{} : st.err().message));
  }

  recorder sink;
  tr::transport t;
  tr::link_id link = 0;
};

struct curve_subscriber {
  curve_subscriber(int port, const std::string& name, const sec::key_pair& own, const std::string& server_key)
      : t(curve_options(name, own)) {
    link = t.add_subscriber(endpoint(port), "cp", server_key);
    auto st = t.start(sink);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string{} : st.err().message));
  }

  std::set<std::uint64_t> seqs() {
    std::set<std::uint64_t> out;
    for (const auto& in : sink.messages()) {
      out.insert(in.msg.as<proto::cp_update>().seq);
    }
    return out;
  }

  recorder sink;
  tr::transport t;
  tr::link_id link = 0;
};

// Publishes cp_updates numbered from `seq` every few milliseconds until
// `done` holds or the patience runs out.
bool publish_until(tr::transport& pub, tr::link_id link, std::uint64_t& seq, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    BOOST_REQUIRE(pub.publish(link, "cp", proto::make("central", proto::cp_update{seq++, {}})));
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);  // pacing the publisher, not synchronisation
  }
  return done();
}

// Polls a condition that no sink reports (counters) with a deadline.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(decisions)

BOOST_AUTO_TEST_CASE(zap_admits_registered_keys_with_their_identity) {
  sec::key_ring ring;
  const auto client = fresh_pair();
  ring.admit(client.public_key, "cp:ALC1");
  const auto v = d::judge_zap({"1.0", "7", d::zap_domain_for(3), "10.0.0.5", "", "CURVE", raw_key(client.public_key)},
                              ring);
  BOOST_TEST(v.admitted);
  BOOST_TEST(v.status_code == "200");
  BOOST_TEST(v.user_id == "cp:ALC1");
  BOOST_TEST(v.key == client.public_key);
  BOOST_TEST(v.address == "10.0.0.5");
  BOOST_TEST(d::link_of_zap_domain(v.domain) == 3u);
  const auto reply = d::zap_reply(v);
  BOOST_TEST(reply == (std::vector<std::string>{"1.0", "7", "200", "OK", "cp:ALC1", ""}));
}

BOOST_AUTO_TEST_CASE(zap_refuses_unknown_keys_other_mechanisms_and_garbage) {
  sec::key_ring ring;
  const auto stranger = fresh_pair();
  const auto v = d::judge_zap({"1.0", "1", "evnet.1", "1.2.3.4", "", "CURVE", raw_key(stranger.public_key)}, ring);
  BOOST_TEST(!v.admitted);
  BOOST_TEST(v.status_code == "400");
  BOOST_TEST(v.key == stranger.public_key);
  BOOST_TEST(d::zap_reply(v)[4].empty());  // no user id for a refusal

  const auto plain = d::judge_zap({"1.0", "2", "evnet.1", "1.2.3.4", "", "NULL"}, ring);
  BOOST_TEST(!plain.admitted);
  BOOST_TEST(plain.status_code == "400");
  BOOST_TEST(plain.detail.find("CURVE required") != std::string::npos);

  const auto weird = d::judge_zap({"1.0", "3", "evnet.1", "1.2.3.4", "", "PL\nAIN"}, ring);
  BOOST_TEST(weird.detail.find('\n') == std::string::npos);  // a peer's bytes only through printable_id

  const auto short_key = d::judge_zap({"1.0", "4", "evnet.1", "", "", "CURVE", "abc"}, ring);
  BOOST_TEST(!short_key.admitted);
  const auto bad_version = d::judge_zap({"2.0", "5", "evnet.1", "", "", "CURVE", raw_key(stranger.public_key)}, ring);
  BOOST_TEST(bad_version.status_code == "500");
  BOOST_TEST(d::zap_reply(bad_version)[1] == "5");
  BOOST_TEST(!d::judge_zap({}, ring).admitted);

  BOOST_TEST(d::link_of_zap_domain("evnet.") == 0u);
  BOOST_TEST(d::link_of_zap_domain("other.3") == 0u);
  BOOST_TEST(d::link_of_zap_domain("evnet.3x") == 0u);
  BOOST_TEST(d::link_of_zap_domain("evnet.12") == 12u);
}

BOOST_AUTO_TEST_CASE(z85_keys_are_checked) {
  const auto kp = fresh_pair();
  BOOST_TEST(d::valid_z85_key(kp.public_key));
  BOOST_TEST(!d::valid_z85_key(""));
  BOOST_TEST(!d::valid_z85_key(kp.public_key.substr(1)));
  BOOST_TEST(!d::valid_z85_key(std::string(40, '"')));  // '"' is not in the Z85 alphabet
  BOOST_TEST(d::z85_key(raw_key(kp.public_key)) == kp.public_key);
  BOOST_TEST(d::z85_key("short").empty());
}

BOOST_AUTO_TEST_CASE(handshake_failures_are_named_by_the_disconnect_that_follows) {
  using clock = d::handshake_watch::clock;
  d::handshake_watch w;
  const auto t0 = clock::now();
  const auto peer_of = [](int fd) { return fd == 7 ? std::string("10.0.0.7") : std::string("10.0.0.8"); };
  BOOST_TEST(w.on_event(ZMQ_EVENT_ACCEPTED, 7, peer_of, t0).empty());
  BOOST_TEST(w.on_event(ZMQ_EVENT_ACCEPTED, 8, peer_of, t0).empty());
  BOOST_TEST(w.connections() == 2u);
  BOOST_TEST(
      w.on_event(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH, peer_of, t0).empty());
  const auto f = w.on_event(ZMQ_EVENT_DISCONNECTED, 7, peer_of, t0);
  BOOST_REQUIRE_EQUAL(f.size(), 1u);
  BOOST_TEST(f[0].address == "10.0.0.7");
  BOOST_TEST(f[0].detail.find("does not speak CURVE") != std::string::npos);
  BOOST_TEST(w.connections() == 1u);

  // An AUTH failure was the ZAP handler's: not reported twice.
  BOOST_TEST(w.on_event(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, peer_of, t0).empty());
  BOOST_TEST(w.on_event(ZMQ_EVENT_DISCONNECTED, 8, peer_of, t0).empty());
  BOOST_TEST(w.connections() == 0u);

  // A failure whose disconnect never comes goes out without an address.
  BOOST_TEST(
      w.on_event(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC, peer_of, t0).empty());
  BOOST_TEST((w.next_flush() == t0 + d::handshake_watch::max_wait));
  BOOST_TEST(w.flush(t0 + 1ms).empty());
  const auto late = w.flush(t0 + d::handshake_watch::max_wait);
  BOOST_REQUIRE_EQUAL(late.size(), 1u);
  BOOST_TEST(late[0].address.empty());
  BOOST_TEST(late[0].detail.find("server's public key") != std::string::npos);
  BOOST_TEST((w.next_flush() == clock::time_point::max()));
}

BOOST_AUTO_TEST_CASE(the_outbound_queue_is_bounded_in_bytes) {
  d::outbound_queue q(4096);
  const auto frame = [](std::uint32_t link, std::size_t size) {
    d::outbound o;
    o.link = link;
    o.payload.assign(size, 'x');
    return o;
  };
  std::size_t queued = 0;
  for (int i = 0; i < 20; ++i) {
    BOOST_TEST(q.push(frame(1, 1000)));  // true even when dropped: only stop() makes it false
  }
  BOOST_TEST(q.push(frame(2, 100000)));  // larger than the whole bound
  // Control operations are never dropped.
  d::outbound revoke;
  revoke.what = d::outbound::op::revoke;
  revoke.address = "cp:ALC1";
  BOOST_TEST(q.push(revoke));
  const auto taken = q.take_all();
  for (const auto& o : taken) {
    queued += o.what == d::outbound::op::send ? 1 : 0;
  }
  BOOST_TEST(queued >= 2u);
  BOOST_TEST(queued < 5u);
  BOOST_TEST((taken.back().what == d::outbound::op::revoke));
  const auto dropped = q.take_dropped();
  BOOST_TEST(dropped.at(1) == 20u - queued);
  BOOST_TEST(dropped.at(2) == 1u);
  BOOST_TEST(q.take_dropped().empty());
  // Taking frees the room.
  BOOST_TEST(q.push(frame(1, 1000)));
  BOOST_TEST(q.take_all().size() == 1u);
  q.close();
  BOOST_TEST(!q.push(frame(1, 10)));
}

BOOST_AUTO_TEST_CASE(cut_off_peers_are_ignored_until_they_fall_silent) {
  using clock = d::clock;
  d::peer_table peers(300ms);
  const auto t0 = clock::now();
  BOOST_TEST(peers.heard("a", t0, "cp:ALC1"));
  BOOST_TEST(peers.heard("b", t0, "cp:ALC1"));
  BOOST_TEST(peers.heard("c", t0, "driver:D1"));
  BOOST_TEST(peers.user_of("c") == "driver:D1");
  auto of = peers.peers_of("cp:ALC1");
  std::sort(of.begin(), of.end());
  BOOST_TEST(of == (std::vector<std::string>{"a", "b"}));

  BOOST_TEST(peers.cut_off("a", t0));
  BOOST_TEST(!peers.cut_off("zz", t0));  // not a known peer: nothing to forget
  BOOST_TEST(!peers.knows("a"));
  BOOST_TEST(peers.was_cut_off("a"));
  BOOST_TEST(peers.is_cut_off("a", t0 + 200ms));  // still talking: stays cut off
  // Its silence is not reported (the application forgot it when it was cut off).
  const auto gone = peers.expire(t0 + 400ms);
  BOOST_TEST((std::find(gone.begin(), gone.end(), "a") == gone.end()));
  BOOST_TEST(peers.is_cut_off("a", t0 + 400ms));
  BOOST_TEST(peers.expire(t0 + 800ms).empty());
  BOOST_TEST(!peers.was_cut_off("a"));  // forgotten after the timeout of silence
  BOOST_TEST(peers.cut_off_count() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(curve_links)

BOOST_AUTO_TEST_CASE(a_registered_key_talks_and_its_identity_arrives_with_every_message) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto client_pair = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(client_pair.public_key, "cp:ALC1");
  server s(port, curve_options("central", server_pair, ring));
  curve_client c(port, "monitor:ALC1", client_pair, server_pair.public_key);

  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("monitor:ALC1", proto::cp_auth{"ALC1"}, 7)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return has_ack_for(v, 7); }));

  const auto in = s.sink.messages();
  BOOST_REQUIRE_EQUAL(in.size(), 1u);
  BOOST_TEST(in[0].user_id == "cp:ALC1");
  BOOST_TEST(in[0].address == "127.0.0.1");
  BOOST_TEST(in[0].peer.rfind("monitor:ALC1:", 0) == 0);
  BOOST_TEST(c.sink.messages()[0].user_id.empty());  // clients have no ZAP handler

  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::admitted, [&](const auto& e) {
      return e.key == client_pair.public_key && e.user_id == "cp:ALC1" && e.address == "127.0.0.1" && e.link == s.link;
    });
  }));
  BOOST_TEST(s.t.stats().admitted >= 1u);
  BOOST_TEST(s.sink.count(tr::event_kind::refused) == 0u);
}

BOOST_AUTO_TEST_CASE(an_unregistered_key_is_refused_and_nothing_it_sends_arrives) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto stranger = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(fresh_pair().public_key, "cp:ALC1");
  server s(port, curve_options("central", server_pair, ring));
  curve_client c(port, "monitor:ALC1", stranger, server_pair.public_key);

  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::refused, [&](const auto& e) {
      return e.key == stranger.public_key && e.address == "127.0.0.1" && e.user_id.empty() &&
             e.detail.find("not registered or revoked") != std::string::npos;
    });
  }));
  // Offered whatever the link's state: nothing may reach the server's sink.
  (void)c.t.send(c.link, proto::make("monitor:ALC1", proto::cp_auth{"ALC1"}, 1));
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  BOOST_TEST(c.sink.count(tr::event_kind::connected) == 0u);
  BOOST_TEST(s.sink.messages().empty());
  BOOST_TEST(s.sink.count(tr::event_kind::admitted) == 0u);
}

BOOST_AUTO_TEST_CASE(a_plaintext_client_is_refused) {
  const int port = free_port();
  auto ring = std::make_shared<sec::key_ring>();
  server s(port, curve_options("central", fresh_pair(), ring));
  raw_socket raw(zmq::socket_type::dealer, "raw:plain");
  raw.socket.connect(endpoint(port));
  raw.socket.send(zmq::buffer(proto::encode(proto::make("x", proto::cp_auth{"ALC1"}))), zmq::send_flags::none);

  // Which end notices the mismatch first is a race: the server either sees
  // the NULL mechanism or the client hanging up on it. Refused either way.
  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::refused, [&](const auto& e) {
      return e.key.empty() && e.link == s.link &&
             (e.detail.find("does not speak CURVE") != std::string::npos ||
              e.detail.find("closed during the handshake") != std::string::npos);
    });
  }));
  const auto events = s.sink.events();
  const auto refusal = std::find_if(events.begin(), events.end(),
                                    [](const auto& e) { return e.kind == tr::event_kind::refused; });
  // Read from the accepted connection's fd: known unless the connection was
  // closed before the transport thread got to it (a busy machine).
  BOOST_TEST((refusal->address == "127.0.0.1" || refusal->address.empty()));
  BOOST_TEST(s.sink.messages().empty());
}

BOOST_AUTO_TEST_CASE(a_client_with_the_wrong_server_key_is_refused_and_refusals_are_rate_limited) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto client_pair = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(client_pair.public_key, "driver:D1");  // registered, but it has the wrong server key
  server s(port, curve_options("central", server_pair, ring));

  // A raw client that retries every 10 ms: a flood of failed handshakes
  // from one address.
  raw_socket raw(zmq::socket_type::dealer, "");
  raw.socket.set(zmq::sockopt::curve_serverkey, fresh_pair().public_key);
  raw.socket.set(zmq::sockopt::curve_publickey, client_pair.public_key);
  raw.socket.set(zmq::sockopt::curve_secretkey, client_pair.secret_key);
  raw.socket.set(zmq::sockopt::reconnect_ivl, 10);
  raw.socket.connect(endpoint(port));

  BOOST_REQUIRE(s.sink.wait_event(tr::event_kind::refused));
  const auto first = s.sink.events().front();
  BOOST_TEST(first.detail.find("does not hold this server's public key") != std::string::npos);
  BOOST_TEST(first.key.empty());
  // Many more attempts follow; they come out as one report a second that
  // says how many it stands for.
  BOOST_REQUIRE(eventually([&] { return s.t.stats().refused >= 5; }));
  BOOST_REQUIRE(s.sink.wait_for([](const auto& v) {
    return has_event(v, tr::event_kind::refused,
                     [](const auto& e) { return e.detail.find("more since the last report") != std::string::npos; });
  }));
  BOOST_TEST(s.sink.count(tr::event_kind::refused) < s.t.stats().refused);
  BOOST_TEST(s.sink.messages().empty());
  BOOST_TEST(s.sink.count(tr::event_kind::admitted) == 0u);
}

BOOST_AUTO_TEST_CASE(curve_misconfiguration_is_a_start_error) {
  recorder sink;
  const auto kp = fresh_pair();
  {
    tr::transport t(curve_options("x", kp));
    t.add_dealer(endpoint(free_port()), "x");  // no server key
    const auto st = t.start(sink);
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(st.err().code == evnet::errc::config);
    BOOST_TEST(st.err().message.find("has no server key") != std::string::npos);
  }
  {
    tr::transport t(curve_options("x", kp));
    t.add_subscriber(endpoint(free_port()), "cp", "not a key");
    const auto st = t.start(sink);
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(st.err().message.find("invalid server key") != std::string::npos);
  }
  {
    tr::transport t(curve_options("x", kp));  // a server without a key ring
    t.add_router(endpoint(free_port()));
    const auto st = t.start(sink);
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(st.err().code == evnet::errc::config);
  }
  {
    auto mixed = kp;
    mixed.public_key = fresh_pair().public_key;  // not this secret key's
    tr::transport t(curve_options("x", mixed, std::make_shared<sec::key_ring>()));
    t.add_router(endpoint(free_port()));
    const auto st = t.start(sink);
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(st.err().message.find("does not belong") != std::string::npos);
  }
}

// A client whose connection closes (its process killed, a gateway ending a
// session) is gone at once: the socket monitor names the descriptor its
// frames came on. The detail tells it from a silence (3.5 s).
BOOST_AUTO_TEST_CASE(a_peer_whose_connection_closes_is_gone_at_once) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto client_pair = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(client_pair.public_key, "cp:ALC1");
  server s(port, curve_options("central", server_pair, ring));
  auto c = std::make_unique<curve_client>(port, "monitor:ALC1", client_pair, server_pair.public_key);
  BOOST_REQUIRE(c->sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c->t.send(c->link, proto::make("monitor:ALC1", proto::cp_auth{"ALC1"}, 7)));
  BOOST_REQUIRE(c->sink.wait_for([](const auto& v) { return has_ack_for(v, 7); }));
  const auto peer = s.sink.messages().at(0).peer;
  c->t.stop();
  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::peer_gone, [&](const auto& e) {
      return e.peer == peer && e.detail.find("connection closed") != std::string::npos;
    });
  }));
  BOOST_TEST(s.sink.count(tr::event_kind::peer_gone) == 1u);  // once, not again at its silence
}

BOOST_AUTO_TEST_CASE(a_key_revoked_while_connected_is_cut_off_and_cannot_come_back) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto client_pair = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(client_pair.public_key, "cp:ALC1");
  server s(port, curve_options("central", server_pair, ring));
  curve_client c(port, "engine:ALC1", client_pair, server_pair.public_key);
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("engine:ALC1", proto::engine_hello{"ALC1"}, 1)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return has_ack_for(v, 1); }));
  const auto peer = s.sink.messages().at(0).peer;

  ring->revoke("cp:ALC1");
  s.t.revoke("cp:ALC1");
  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::peer_gone, [&](const auto& e) {
      return e.peer == peer && e.user_id == "cp:ALC1" && e.detail.find("revoked") != std::string::npos;
    });
  }));
  // Still up on the client's side for a moment: this frame is dropped by
  // the server, and its heartbeats go unanswered until the link gives up.
  (void)c.t.send(c.link, proto::make("engine:ALC1", proto::cp_status{"ALC1", true, ""}, 2));
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  // Its reconnection is refused by the ZAP handler.
  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::refused, [&](const auto& e) { return e.key == client_pair.public_key; });
  }));
  BOOST_TEST(s.sink.messages().size() == 1u);
  BOOST_TEST(c.sink.count(tr::event_kind::connected) == 1u);
  BOOST_TEST(!has_ack_for(recorder::view{c.sink.messages(), c.sink.events()}, 2));
  BOOST_TEST(s.t.stats().cut_off_peers >= 1u);
}

BOOST_AUTO_TEST_CASE(a_key_the_ring_no_longer_admits_is_cut_off_on_its_next_frame) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto client_pair = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(client_pair.public_key, "driver:D1");
  server s(port, curve_options("central", server_pair, ring));
  curve_client c(port, "driver:D1", client_pair, server_pair.public_key);
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::connected));
  BOOST_REQUIRE(c.t.send(c.link, proto::make("driver:D1", proto::driver_hello{"D1"}, 1)));
  BOOST_REQUIRE(c.sink.wait_for([](const auto& v) { return has_ack_for(v, 1); }));

  ring->revoke("driver:D1");  // and no transport::revoke(): the next heartbeat is enough
  BOOST_REQUIRE(s.sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::peer_gone,
                     [&](const auto& e) { return e.detail.find("no longer admitted") != std::string::npos; });
  }));
  BOOST_REQUIRE(c.sink.wait_event(tr::event_kind::disconnected));
  BOOST_TEST(s.t.stats().not_admitted >= 1u);
  BOOST_TEST(s.sink.messages().size() == 1u);
}

BOOST_AUTO_TEST_CASE(only_registered_subscribers_receive_the_stream) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto member = fresh_pair();
  const auto stranger = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(member.public_key, "driver:D1");
  recorder pub_sink;
  tr::transport pub(curve_options("central", server_pair, ring));
  const auto pub_link = pub.add_publisher(endpoint(port));
  BOOST_REQUIRE(pub.start(pub_sink).ok());

  curve_subscriber a(port, "driver:D1", member, server_pair.public_key);
  curve_subscriber u(port, "driver:U", stranger, server_pair.public_key);
  std::uint64_t seq = 1;
  BOOST_REQUIRE(publish_until(pub, pub_link, seq, [&] { return !a.sink.messages().empty(); }));
  BOOST_REQUIRE(pub_sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::refused, [&](const auto& e) { return e.key == stranger.public_key; });
  }));
  const auto mark = seq;
  BOOST_REQUIRE(publish_until(pub, pub_link, seq, [&] { return a.seqs().count(mark + 5) == 1; }));
  BOOST_TEST(u.sink.messages().empty());
  BOOST_TEST(pub_sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::admitted, [&](const auto& e) { return e.key == member.public_key; });
  }));
}

BOOST_AUTO_TEST_CASE(revoke_rebuilds_the_stream_and_only_the_revoked_subscriber_stays_out) {
  const int port = free_port();
  const auto server_pair = fresh_pair();
  const auto pair_a = fresh_pair();
  const auto pair_b = fresh_pair();
  auto ring = std::make_shared<sec::key_ring>();
  ring->admit(pair_a.public_key, "driver:A");
  ring->admit(pair_b.public_key, "driver:B");
  recorder pub_sink;
  tr::transport pub(curve_options("central", server_pair, ring));
  const auto pub_link = pub.add_publisher("tcp://127.0.0.1:" + std::to_string(port));
  BOOST_REQUIRE(pub.start(pub_sink).ok());

  curve_subscriber a(port, "driver:A", pair_a, server_pair.public_key);
  curve_subscriber b(port, "driver:B", pair_b, server_pair.public_key);
  std::uint64_t seq = 1;
  BOOST_REQUIRE(publish_until(pub, pub_link, seq, [&] { return !a.seqs().empty() && !b.seqs().empty(); }));

  ring->revoke("driver:A");
  pub.revoke("driver:A");
  // Everything published from here on goes to the rebuilt socket.
  const auto mark = seq;
  BOOST_REQUIRE(publish_until(pub, pub_link, seq, [&] {
    const auto got = b.seqs();
    return !got.empty() && *got.rbegin() >= mark;
  }));
  BOOST_REQUIRE(pub_sink.wait_for([&](const auto& v) {
    return has_event(v, tr::event_kind::refused, [&](const auto& e) { return e.key == pair_a.public_key; });
  }));
  // A few more, to give a wrongly admitted A every chance to show up.
  const auto more = seq + 5;
  BOOST_REQUIRE(publish_until(pub, pub_link, seq, [&] { return b.seqs().count(more) == 1; }));
  const auto got_a = a.seqs();
  BOOST_TEST((got_a.empty() || *got_a.rbegin() < mark));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hostile_peers)

BOOST_AUTO_TEST_CASE(a_frame_over_max_frame_size_is_not_delivered) {
  const int port = free_port();
  auto o = fast_options("central");
  o.max_frame_size = 64 * 1024;
  server s(port, o);

  raw_socket big(zmq::socket_type::dealer, "raw:big");
  big.socket.connect(endpoint(port));
  proto::charge_finished finished;
  finished.record.cp_id = "ALC1";
  finished.record.charge_id = std::string(100 * 1024, 'c');
  big.socket.send(zmq::buffer(proto::encode(proto::make("raw", finished, 1))), zmq::send_flags::none);

  raw_socket small(zmq::socket_type::dealer, "raw:small");
  small.socket.connect(endpoint(port));
  small.socket.send(zmq::buffer(proto::encode(proto::make("raw", proto::cp_auth{"ALC1"}, 2))), zmq::send_flags::none);
  zmq::message_t reply;
  BOOST_REQUIRE(small.socket.recv(reply));

  // The small one was answered; the big one never reached the sink, not
  // even as a rejection.
  BOOST_TEST(s.sink.wait_for([](const auto& v) { return v.messages.size() > 1; }, 300ms) == false);
  const auto in = s.sink.messages();
  BOOST_REQUIRE_EQUAL(in.size(), 1u);
  BOOST_TEST(in[0].msg.correlation == 2u);
  BOOST_TEST(s.sink.count(tr::event_kind::rejected) == 0u);
}

BOOST_AUTO_TEST_CASE(a_peer_that_does_not_read_is_cut_off) {
  const int port = free_port();
  auto o = fast_options("central");
  o.send_hwm = 10;
  o.peer_timeout = 5s;  // only the cut-off may make it go
  server s(port, o);

  raw_socket raw(zmq::socket_type::dealer, "raw:deaf");
  raw.socket.set(zmq::sockopt::rcvhwm, 1);
  raw.socket.connect(endpoint(port));
  raw.socket.send(zmq::buffer(proto::encode(proto::make("raw", proto::driver_hello{"D1"}, 1))), zmq::send_flags::none);
  BOOST_REQUIRE(s.sink.wait_for([](const auto& v) { return !v.messages.empty(); }));

  proto::ack big{true, std::string(64 * 1024, 'r')};
  const auto cut = [&](const recorder::view& v) {
    return has_event(v, tr::event_kind::peer_gone, [](const auto& e) { return e.peer == "raw:deaf"; });
  };
  bool gone = false;
  for (int i = 0; i < 4000 && !gone; ++i) {
    BOOST_REQUIRE(s.t.send(s.link, "raw:deaf", proto::make("central", big)));
    if (i % 20 == 19) {
      gone = s.sink.wait_for(cut, 20ms);
    }
  }
  BOOST_REQUIRE(gone || s.sink.wait_for(cut));
  const auto events = s.sink.events();
  const auto ev = std::find_if(events.begin(), events.end(), [](const auto& e) { return e.kind == tr::event_kind::peer_gone; });
  BOOST_TEST(ev->detail == "not reading: cut off after 10 queued messages");
  BOOST_TEST(s.t.stats().cut_off_peers == 1u);

  // What it sends from now on is dropped, not delivered.
  raw.socket.send(zmq::buffer(proto::encode(proto::make("raw", proto::driver_hello{"D1"}, 2))), zmq::send_flags::none);
  BOOST_REQUIRE(eventually([&] { return s.t.stats().cut_off_frames >= 1; }));
  BOOST_TEST(s.sink.messages().size() == 1u);
  BOOST_TEST(s.sink.count(tr::event_kind::peer_gone) == 1u);
}

BOOST_AUTO_TEST_CASE(rejections_are_reported_per_peer_once_a_second_with_a_count) {
  const int port = free_port();
  server s(port, fast_options("central"));
  raw_socket raw(zmq::socket_type::dealer, "raw:noisy");
  raw.socket.connect(endpoint(port));
  constexpr int flood = 30;
  for (int i = 0; i < flood; ++i) {
    if (i % 2 == 0) {
      raw.socket.send(zmq::str_buffer("not msgpack"), zmq::send_flags::none);
    } else {
      raw.socket.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
      raw.socket.send(zmq::str_buffer("b"), zmq::send_flags::none);
    }
  }
  for (int i = 0; i < flood; ++i) {
    zmq::message_t reply;
    BOOST_REQUIRE(raw.socket.recv(reply));  // every frame is still answered
  }
  BOOST_TEST(s.sink.count(tr::event_kind::rejected, "raw:noisy") == 1u);

  // Another peer is not held back by this one's flood.
  raw_socket other(zmq::socket_type::dealer, "raw:other");
  other.socket.connect(endpoint(port));
  other.socket.send(zmq::str_buffer("garbage"), zmq::send_flags::none);
  BOOST_REQUIRE(s.sink.wait_for([](const auto& v) { return v.count(tr::event_kind::rejected, "raw:other") == 1; }));

  // The rest of the flood: one report when its second is over, with the count.
  BOOST_REQUIRE(s.sink.wait_for([](const auto& v) { return v.count(tr::event_kind::rejected, "raw:noisy") == 2; }));
  const auto events = s.sink.events();
  const auto last = std::find_if(events.rbegin(), events.rend(), [](const auto& e) {
    return e.kind == tr::event_kind::rejected && e.peer == "raw:noisy";
  });
  BOOST_TEST(last->detail.find("(" + std::to_string(flood - 2) + " more since the last report)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_full_outbound_queue_drops_and_reports_once) {
  // Blocks the transport thread inside the first delivery, so that the
  // application's frames pile up in the queue.
  struct blocking_sink : echo_sink {
    std::mutex m;
    std::condition_variable cv;
    bool blocked = false;
    bool released = false;
    std::string peer;
    void on_message(tr::inbound in) override {
      {
        std::unique_lock lock(m);
        if (!released) {
          peer = in.peer;
          blocked = true;
          cv.notify_all();
          cv.wait(lock, [&] { return released; });
        }
      }
      recorder::on_message(std::move(in));
    }
  };

  const int port = free_port();
  auto o = fast_options("central");
  o.max_queued_bytes = 16 * 1024;
  o.peer_timeout = 10s;
  blocking_sink sink;
  tr::transport t(o);
  const auto link = t.add_router(endpoint(port));
  BOOST_REQUIRE(t.start(sink).ok());

  raw_socket raw(zmq::socket_type::dealer, "raw:reader");
  raw.socket.connect(endpoint(port));
  raw.socket.send(zmq::buffer(proto::encode(proto::make("raw", proto::driver_hello{"D1"}, 1))), zmq::send_flags::none);
  {
    std::unique_lock lock(sink.m);
    BOOST_REQUIRE(sink.cv.wait_for(lock, patience, [&] { return sink.blocked; }));
  }
  constexpr int offered = 100;
  const proto::ack body{true, std::string(1024, 'x')};
  for (int i = 0; i < offered; ++i) {
    BOOST_REQUIRE(t.send(link, sink.peer, proto::make("central", body, static_cast<std::uint64_t>(i))));
  }
  {
    std::lock_guard lock(sink.m);
    sink.released = true;
  }
  sink.cv.notify_all();

  BOOST_REQUIRE(sink.wait_event(tr::event_kind::send_failed));
  const auto ev = sink.events().front();
  BOOST_TEST(ev.link == link);
  BOOST_TEST(ev.detail.rfind("outbound queue full: ", 0) == 0);
  const auto dropped = std::stoul(ev.detail.substr(std::string("outbound queue full: ").size()));
  BOOST_TEST(dropped > 50u);
  BOOST_TEST(dropped < static_cast<unsigned long>(offered));
  BOOST_TEST(t.stats().queue_full == dropped);

  // The frames that fitted were delivered; the drops were one report.
  std::size_t received = 0;
  raw.socket.set(zmq::sockopt::rcvtimeo, 300);
  for (zmq::message_t reply; raw.socket.recv(reply);) {
    ++received;
  }
  BOOST_TEST(received == offered - dropped);
  BOOST_TEST(sink.count(tr::event_kind::send_failed) == 1u);
  BOOST_TEST(t.send(link, sink.peer, proto::make("central", body)));
  t.stop();
  BOOST_TEST(!t.send(link, sink.peer, proto::make("central", body)));
}

BOOST_AUTO_TEST_SUITE_END()

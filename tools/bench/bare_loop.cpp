#include "bare_loop.hpp"

#include "evnet/protocol.hpp"
#include "evnet/security/keys.hpp"

#include <zmq.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>

namespace evnet::bench {

namespace {

volatile std::sig_atomic_t stop_now = 0;
void on_signal(int) { stop_now = 1; }

} // namespace

int run_bare(std::uint16_t port, const std::string& keys_dir, bool insecure) {
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::optional<security::key_pair> own;
  if (!insecure) {
    auto kp = security::load_pair(keys_dir, security::central_key_name());
    if (!kp) {
      std::fprintf(stderr, "ev_bench --bare: %s\n", kp.err().message.c_str());
      return 1;
    }
    own = *kp;
  }
  zmq::context_t ctx{2};
  ctx.set(zmq::ctxopt::max_sockets, 64);
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t pub{ctx, zmq::socket_type::pub};
  for (auto* s : {&router, &pub}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::ipv6, 1);
    s->set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(protocol::max_request_frame_size));
    // Thousands of clients connect at once (start-up, a restart): libzmq's
    // default listen backlog of 100 overflows, the kernel drops SYNs, and a
    // client's retransmission comes after 1 s, its whole connect timeout.
    s->set(zmq::sockopt::backlog, 4096);
    if (own) {
      s->set(zmq::sockopt::curve_server, true);
      s->set(zmq::sockopt::curve_secretkey, own->secret_key);
    }
  }
  try {
    router.bind("tcp://*:" + std::to_string(port));
    pub.bind("tcp://*:" + std::to_string(port + 1));
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "ev_bench --bare: cannot listen on %u: %s\n", port, e.what());
    return 1;
  }
  const std::string heartbeat = protocol::encode(protocol::make("central", protocol::heartbeat{}));
  const std::string ack = protocol::encode(protocol::make("central", protocol::ack{true, ""}));
  std::uint64_t frames = 0;
  auto last_beat = std::chrono::steady_clock::now();
  zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}};
  while (stop_now == 0) {
    try {
      zmq::poll(items, 1, std::chrono::milliseconds{200});
    } catch (const zmq::error_t&) {
      continue;  // EINTR
    }
    // A bounded turn, so that the stream's heartbeat goes out under load too.
    for (int turn = 0; turn < 20000; ++turn) {
      zmq::message_t id;
      zmq::message_t body;
      if (!router.recv(id, zmq::recv_flags::dontwait)) {
        break;
      }
      if (!id.more() || !router.recv(body, zmq::recv_flags::none)) {
        continue;
      }
      ++frames;
      auto reply = [&](const std::string& frame) {
        (void)router.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        (void)router.send(zmq::buffer(frame), zmq::send_flags::dontwait);
      };
      if (protocol::is_heartbeat_frame(body.data(), body.size())) {
        reply(heartbeat);
        continue;
      }
      auto msg = protocol::decode(body.data(), body.size());
      if (!msg) {
        continue;
      }
      const auto corr = msg->correlation;
      if (const auto* a = std::get_if<protocol::cp_auth>(&msg->payload)) {
        reply(protocol::encode(protocol::make(
            "central", protocol::cp_auth_reply{true, "", protocol::cp_config{a->cp_id, "bare", 0.30}}, corr)));
      } else if (msg->is<protocol::engine_hello>() || msg->is<protocol::driver_hello>()) {
        reply(corr == 0 ? ack : protocol::encode(protocol::make("central", protocol::ack{true, ""}, corr)));
      } else if (msg->is<protocol::snapshot_request>()) {
        protocol::snapshot s;
        s.stream_port = static_cast<std::uint32_t>(port) + 1;
        reply(protocol::encode(protocol::make("central", std::move(s), corr)));
      } else if (msg->is<protocol::heartbeat>()) {
        reply(heartbeat);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_beat >= std::chrono::seconds{1}) {
      last_beat = now;
      const auto beat = protocol::encode(protocol::make("central", protocol::stream_heartbeat{0}));
      (void)pub.send(zmq::str_buffer("cp"), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      (void)pub.send(zmq::buffer(beat), zmq::send_flags::dontwait);
    }
  }
  std::fprintf(stderr, "ev_bench --bare: %llu frames\n", static_cast<unsigned long long>(frames));
  return 0;
}

} // namespace evnet::bench

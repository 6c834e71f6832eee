#include "worker_impl.hpp"

#include "evnet/protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace evnet::fleet {

namespace {

constexpr std::uint32_t control_tag = 0xffffffffU;
constexpr int recv_batch = 64;  // frames read from one socket before others get a turn

// A link's monitor PAIR shares its link's tag with this bit set in the index.
constexpr std::uint32_t monitor_bit = 0x40000000U;

std::uint64_t epoll_tag(std::size_t index, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(index) << 32) | generation;
}

std::string hex_suffix(std::mt19937_64& rng) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(8, '0');
  auto v = rng();
  for (auto& c : s) {
    c = digits[v & 15];
    v >>= 4;
  }
  return s;
}

} // namespace

std::int64_t monotonic_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

double process_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

worker::worker(const worker_settings& s)
    : s_(s),
      rng_(std::random_device{}()),
      endpoint_(tcp_endpoint(s.host, s.port)),
      heartbeat_frame_(protocol::encode(protocol::make("fleet", protocol::heartbeat{}))),
      ctx_(std::max(1, s.io_threads)),
      plan_(s.plan) {
  const int ncps = s.share.cp_end - s.share.cp_begin;
  const int ndrivers = s.share.driver_end - s.share.driver_begin;
  ctx_.set(zmq::ctxopt::max_sockets, std::max(2 * (ncps + ndrivers) + 64, s.max_sockets));
  cps_.reserve(static_cast<std::size_t>(ncps));
  drivers_.reserve(static_cast<std::size_t>(ndrivers));
  for (int c = 0; c < ncps; ++c) {
    const auto id = s.names.cp(s.share.cp_begin + c);
    cps_.emplace_back(id, s.ctx, books_, records_);
    monitor_names_.push_back("monitor:" + id);
    engine_names_.push_back("engine:" + id);
  }
  for (int d = 0; d < ndrivers; ++d) {
    const auto id = s.names.driver(s.share.driver_begin + d);
    drivers_.emplace_back(id, s.names, s.plan.cps, s.ctx, books_, static_cast<std::uint32_t>(s.port) + 1);
    driver_names_.push_back("driver:" + id);
  }
  // The transport's derivation (dealer_timing_for): silence 6 x the interval,
  // connect timeout 2 x, slack a tenth (at most 50 ms).
  const std::int64_t hb = static_cast<std::int64_t>(s.heartbeat_ms) * 1000;
  timing_.heartbeat_us = hb;
  timing_.silence_us = 6 * hb;
  timing_.connect_timeout_us = std::min(2 * hb, 6 * hb);
  timing_.handshake_timeout_us = 30'000'000;  // the transport's, and libzmq's ZMQ_HANDSHAKE_IVL
  timing_.slack_us = std::min<std::int64_t>(hb / 10, 50'000);
  const auto now = monotonic_us();
  started_at_ = now;
  links_.resize(2 * cps_.size() + 2 * drivers_.size());
  for (std::size_t i = 0; i < links_.size(); ++i) {
    auto& l = links_[i];
    if (i < 2 * cps_.size()) {
      l.role = i % 2 == 0 ? link_role::monitor : link_role::engine;
      l.owner = static_cast<int>(i / 2);
    } else {
      const auto k = i - 2 * cps_.size();
      l.role = k % 2 == 0 ? link_role::driver : link_role::stream;
      l.owner = static_cast<int>(k / 2);
    }
    l.live = liveness(rng_(), now);
  }
  scheduled_.assign(links_.size() + cps_.size() + drivers_.size(), never_us);
  queued_.assign(links_.size(), 0);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  marker_corr_ = (1ULL << 62) + static_cast<std::uint64_t>(s.index) * 1'000'000'000ULL;
}

worker::~worker() {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    close_link(i);
  }
  if (epoll_fd_ >= 0) {
    ::close(epoll_fd_);
  }
}

// ---- timers ---------------------------------------------------------------------------

std::int64_t worker::deadline_of(std::uint32_t entity) const {
  if (entity < links_.size()) {
    const auto& l = links_[entity];
    return l.dealer() && !l.waiting_slot ? l.live.next_deadline(timing_) : never_us;
  }
  entity -= static_cast<std::uint32_t>(links_.size());
  if (entity < cps_.size()) {
    return cps_[entity].next_deadline();
  }
  return drivers_[entity - cps_.size()].next_deadline();
}

void worker::reschedule(std::uint32_t entity) {
  // Deadlines on a 5 ms grid: thousands of links then share each wake-up
  // (the transport does the same with its heartbeat slack).
  constexpr std::int64_t grid = 5'000;
  auto next = deadline_of(entity);
  if (next != never_us) {
    next = (next + grid - 1) / grid * grid;
  }
  if (next < scheduled_[entity]) {
    scheduled_[entity] = next;
    timers_.push(timer{next, entity});
  }
}

void worker::fire(std::uint32_t entity, std::int64_t now) {
  if (entity < links_.size()) {
    on_liveness(entity, now);
    return;
  }
  const auto k = entity - static_cast<std::uint32_t>(links_.size());
  if (k < cps_.size()) {
    cps_[k].on_timer(now);
    flush_cp(static_cast<int>(k));
  } else {
    const auto d = static_cast<int>(k - cps_.size());
    drivers_[static_cast<std::size_t>(d)].on_timer(now);
    flush_driver(d);
  }
}

void worker::run_timers(std::int64_t now) {
  while (!timers_.empty() && timers_.top().due <= now) {
    const auto t = timers_.top();
    timers_.pop();
    if (scheduled_[t.entity] != t.due) {
      continue;  // superseded by an earlier deadline
    }
    max_lag_us_ = std::max(max_lag_us_, now - t.due);
    scheduled_[t.entity] = never_us;
    fire(t.entity, now);
    reschedule(t.entity);
  }
}

void worker::run_plan(std::int64_t now) {
  if (!started_ || draining_) {
    return;
  }
  while (plan_.peek().at_us != never_us && go_at_ + plan_.peek().at_us <= now) {
    const auto e = plan_.pop();
    if (e.cp < 0) {
      if (s_.index == 0 && e.what == plan_event::kind::request) {
        ++books_.plan_full;  // counted once for the fleet
      }
      continue;
    }
    if (e.cp < s_.share.cp_begin || e.cp >= s_.share.cp_end) {
      continue;  // another worker's
    }
    const int c = e.cp - s_.share.cp_begin;
    if (e.what == plan_event::kind::fault) {
      cps_[static_cast<std::size_t>(c)].fault(now, e.length_us);
      flush_cp(c);
      continue;
    }
    const int d = e.driver - s_.share.driver_begin;
    auto& drv = drivers_[static_cast<std::size_t>(d)];
    drv.request(cps_[static_cast<std::size_t>(c)].id(), e.duration_s,
                drv.id() + "-" + s_.ctx.nonce + "-" + std::to_string(e.number), now);
    flush_driver(d);
  }
}

// ---- sockets --------------------------------------------------------------------------

void worker::open_link(std::size_t i, std::int64_t now) {
  auto& l = links_[i];
  socket_settings set;
  std::string name;
  if (l.role == link_role::driver) {
    name = driver_names_[static_cast<std::size_t>(l.owner)];
    if (s_.keys != nullptr) {
      set.own = &s_.keys->drivers[static_cast<std::size_t>(s_.share.driver_begin + l.owner)];
    }
  } else {
    name = l.role == link_role::monitor ? monitor_names_[static_cast<std::size_t>(l.owner)]
                                        : engine_names_[static_cast<std::size_t>(l.owner)];
    if (s_.keys != nullptr) {
      set.own = &s_.keys->cps[static_cast<std::size_t>(s_.share.cp_begin + l.owner)];
    }
  }
  if (s_.keys != nullptr) {
    set.server_key = s_.keys->central_public;
  }
  set.routing_id = name + ":" + hex_suffix(rng_);
  set.monitor_endpoint = "inproc://fleet.attempt." + std::to_string(i) + "." + std::to_string(l.generation + 1);
  int err = 0;
  l.socket = open_dealer(ctx_, endpoint_, set, err);
  if (!l.socket) {
    report_limit(err == EMFILE || err == ENFILE ? "open files" : "sockets",
                 "cannot open a socket for " + name + ": " + zmq_strerror(err));
    (void)l.live.closed(now, timing_);
    return;
  }
  l.fd = l.socket->get(zmq::sockopt::fd);
  ++l.generation;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = epoll_tag(i, l.generation);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &ev);
  l.live.opened(now);
  try {
    l.monitor = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
    l.monitor->set(zmq::sockopt::linger, 0);
    l.monitor->connect(set.monitor_endpoint);
    l.monitor_fd = l.monitor->get(zmq::sockopt::fd);
    epoll_event mev{};
    mev.events = EPOLLIN | EPOLLET;
    mev.data.u64 = epoll_tag(i | monitor_bit, l.generation);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.monitor_fd, &mev);
    drain_monitor(i, now);
  } catch (const zmq::error_t&) {
    // Out of descriptors: the attempt goes on without news of its progress
    // (it is then given the connect timeout only).
    drop_monitor(i);
  }
  queue(i);
}

// The attempt's progress, from its socket monitor (edge-triggered: read all).
void worker::drain_monitor(std::size_t i, std::int64_t now) {
  auto& l = links_[i];
  for (int n = 0; n < 8 && l.monitor; ++n) {
    zmq::message_t head;
    zmq::message_t address;
    if (zmq_msg_recv(head.handle(), l.monitor->handle(), ZMQ_DONTWAIT) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (head.more()) {
      (void)zmq_msg_recv(address.handle(), l.monitor->handle(), 0);
    }
    if (head.size() < sizeof(std::uint16_t)) {
      continue;
    }
    std::uint16_t event = 0;
    std::memcpy(&event, head.data(), sizeof event);
    if (event == ZMQ_EVENT_CONNECTED) {
      l.live.reached(now);
    } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      l.live.handshaken(now);
    }
    scheduled_[i] = never_us;
    reschedule(static_cast<std::uint32_t>(i));
  }
}

void worker::drop_monitor(std::size_t i) {
  auto& l = links_[i];
  if (l.socket) {
    (void)zmq_socket_monitor(l.socket->handle(), nullptr, 0);
  }
  if (l.monitor_fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.monitor_fd, nullptr);
  }
  l.monitor.reset();
  l.monitor_fd = -1;
}

void worker::close_link(std::size_t i) {
  auto& l = links_[i];
  if (!l.socket) {
    return;
  }
  drop_monitor(i);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
  l.socket.reset();
  l.fd = -1;
  ++l.generation;
}

void worker::subscribe(int driver, std::uint32_t port) {
  const auto i = stream_link(driver);
  close_link(i);
  auto& l = links_[i];
  socket_settings set;
  if (s_.keys != nullptr) {
    set.own = &s_.keys->drivers[static_cast<std::size_t>(s_.share.driver_begin + driver)];
    set.server_key = s_.keys->central_public;
  }
  int err = 0;
  l.socket = open_subscriber(ctx_, tcp_endpoint(s_.host, port), set, err);
  if (!l.socket) {
    report_limit(err == EMFILE || err == ENFILE ? "open files" : "sockets",
                 "cannot open the stream socket of " + driver_names_[static_cast<std::size_t>(driver)] + ": " +
                     zmq_strerror(err));
    return;
  }
  l.stream_port = port;
  l.fd = l.socket->get(zmq::sockopt::fd);
  ++l.generation;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = epoll_tag(i, l.generation);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &ev);
  queue(i);
}

void worker::on_liveness(std::size_t i, std::int64_t now) {
  auto& l = links_[i];
  if (!l.dealer()) {
    return;
  }
  for (int guard = 0; guard < 8; ++guard) {
    switch (l.live.due(now, timing_)) {
      case liveness::action::none:
        return;
      case liveness::action::open_socket:
        if (l.waiting_slot) {
          return;
        }
        if (connecting_ >= slots()) {
          l.waiting_slot = true;
          open_queue_.push_back(static_cast<std::uint32_t>(i));  // opened when a slot frees
          return;
        }
        open_link(i, now);
        if (!l.socket) {
          return;
        }
        ++connecting_;
        break;
      case liveness::action::send_heartbeat:
        (void)send_raw(i, heartbeat_frame_);
        l.live.heartbeat_sent(now, timing_);
        break;
      case liveness::action::close_socket: {
        const bool was_up = l.live.up();
        if (l.live.connection_lost()) {
          ++books_.disconnects;
        } else if (was_up) {
          ++books_.silences;
        } else {
          ++books_.connect_timeouts;
          if (now - window_cut_at_ >= 1'000'000) {
            window_cut_at_ = now;
            window_ = std::max(4.0, window_ / 2);  // too many at once: back off
          }
        }
        close_link(i);
        (void)l.live.closed(now, timing_);
        ++books_.closes;
        if (l.blasting()) {
          l.blast_left = 0;
          l.marker_pending = false;
          ++blast_missing_;
        }
        if (was_up) {
          link_down(i, now);
        } else {
          left_connecting(now);  // after the window shrank
        }
        break;
      }
    }
  }
}

// A connection attempt ended (answered or given up): the next waiting link
// may open.
void worker::left_connecting(std::int64_t now) {
  --connecting_;
  while (connecting_ < slots() && !open_queue_.empty()) {
    const auto next = open_queue_.front();
    open_queue_.pop_front();
    auto& l = links_[next];
    l.waiting_slot = false;
    if (l.socket || l.live.due(now, timing_) != liveness::action::open_socket) {
      scheduled_[next] = never_us;
      reschedule(next);
      continue;
    }
    open_link(next, now);
    if (l.socket) {
      ++connecting_;
    }
    scheduled_[next] = never_us;
    reschedule(next);
  }
}

void worker::link_up(std::size_t i, std::int64_t now) {
  drop_monitor(i);  // up: its news is no longer needed
  ++books_.sessions;
  window_ = std::min(window_ + 1.0, static_cast<double>(s_.max_connecting));
  left_connecting(now);
  const auto& l = links_[i];
  switch (l.role) {
    case link_role::monitor:
    case link_role::engine:
      cps_[static_cast<std::size_t>(l.owner)].on_up(l.role == link_role::monitor ? cp_link::monitor : cp_link::engine,
                                                    now);
      flush_cp(l.owner);
      break;
    case link_role::driver:
      drivers_[static_cast<std::size_t>(l.owner)].on_up(now);
      flush_driver(l.owner);
      break;
    case link_role::stream:
      break;
  }
}

void worker::link_down(std::size_t i, std::int64_t now) {
  const auto& l = links_[i];
  switch (l.role) {
    case link_role::monitor:
    case link_role::engine:
      cps_[static_cast<std::size_t>(l.owner)].on_down(l.role == link_role::monitor ? cp_link::monitor : cp_link::engine,
                                                      now);
      flush_cp(l.owner);
      break;
    case link_role::driver:
      drivers_[static_cast<std::size_t>(l.owner)].on_down(now);
      flush_driver(l.owner);
      break;
    case link_role::stream:
      break;
  }
}

void worker::queue(std::size_t i) {
  if (queued_[i] == 0) {
    queued_[i] = 1;
    ready_.push_back(static_cast<std::uint32_t>(i));
  }
}

// Edge-triggered ZMQ_FD: read ZMQ_EVENTS (which also runs libzmq's pending
// commands) and read until POLLIN is gone; a socket with more to read after
// its batch is queued again behind the others.
void worker::drain(std::size_t i) {
  auto& l = links_[i];
  if (!l.socket) {
    return;
  }
  const int events = socket_events(*l.socket);
  if (l.dealer() && (events & ZMQ_POLLOUT) == 0 && l.live.has_socket() && !l.blasting()) {
    // No pipe to send on: the TCP connection closed (libzmq's reconnection
    // is off, so the session is gone). Read what arrived first.
    l.live.lost();
    scheduled_[i] = never_us;
    reschedule(static_cast<std::uint32_t>(i));
  }
  if ((events & ZMQ_POLLIN) == 0) {
    return;
  }
  zmq::message_t frame;
  for (int n = 0; n < recv_batch && l.socket; ++n) {
    if (zmq_msg_recv(frame.handle(), l.socket->handle(), ZMQ_DONTWAIT) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN: drained
    }
    const auto now = monotonic_us();
    if (l.role == link_role::stream) {
      // [topic, payload]
      if (!frame.more()) {
        continue;
      }
      if (zmq_msg_recv(frame.handle(), l.socket->handle(), 0) < 0) {
        return;
      }
    }
    on_frame(i, frame, now);
  }
  queue(i);  // a full batch: more may be waiting
}

void worker::on_frame(std::size_t i, const zmq::message_t& frame, std::int64_t now) {
  auto& l = links_[i];
  if (l.dealer()) {
    if (l.live.heard(now)) {
      scheduled_[i] = never_us;
      reschedule(static_cast<std::uint32_t>(i));
      link_up(i, now);
    }
    if (protocol::is_heartbeat_frame(frame.data(), frame.size())) {
      return;
    }
  }
  auto decoded = protocol::decode(frame.data(), frame.size());
  if (!decoded) {
    ++books_.undecodable;
    return;
  }
  const auto& msg = *decoded;
  if (msg.is<protocol::heartbeat>()) {
    return;
  }
  switch (l.role) {
    case link_role::monitor:
      if (l.marker_pending && msg.correlation >= marker_corr_ && msg.is<protocol::cp_auth_reply>()) {
        on_marker(i, now);
        return;
      }
      [[fallthrough]];
    case link_role::engine:
      cps_[static_cast<std::size_t>(l.owner)].on_message(
          l.role == link_role::monitor ? cp_link::monitor : cp_link::engine, msg, now);
      flush_cp(l.owner);
      break;
    case link_role::driver: {
      if (const auto* p = std::get_if<protocol::progress>(&msg.payload)) {
        // Telemetry latency: the Engine that sent it lives in this process.
        const int c = s_.names.cp_index(p->cp_id) - s_.share.cp_begin;
        if (c >= 0 && static_cast<std::size_t>(c) < cps_.size()) {
          if (auto sent = cps_[static_cast<std::size_t>(c)].telemetry_sent_at(p->charge_id, p->kwh)) {
            books_.telemetry_us.add(now - *sent);
          }
        }
      }
      drivers_[static_cast<std::size_t>(l.owner)].on_message(msg, now);
      flush_driver(l.owner);
      break;
    }
    case link_role::stream:
      drivers_[static_cast<std::size_t>(l.owner)].on_stream(msg, now);
      flush_driver(l.owner);
      break;
  }
}

bool worker::send_raw(std::size_t i, const std::string& frame) {
  auto& l = links_[i];
  if (!l.socket) {
    return false;
  }
  const int err = send_frame(*l.socket, frame.data(), frame.size());
  queue(i);  // a send may have consumed the fd's edge: look again
  if (err != 0) {
    ++books_.send_refused;
    return false;
  }
  return true;
}

bool worker::send_body(std::size_t i, protocol::body body, std::uint64_t corr) {
  auto& l = links_[i];
  if (!l.live.up() || !l.socket) {
    ++books_.dropped;  // like the transport: nothing is queued for a link that is down
    return false;
  }
  protocol::message m;
  switch (l.role) {
    case link_role::monitor:
      m.sender = monitor_names_[static_cast<std::size_t>(l.owner)];
      break;
    case link_role::engine:
      m.sender = engine_names_[static_cast<std::size_t>(l.owner)];
      break;
    default:
      m.sender = driver_names_[static_cast<std::size_t>(l.owner)];
      break;
  }
  m.correlation = corr != 0 ? corr : ++l.correlation;
  m.payload = std::move(body);
  return send_raw(i, protocol::encode(m));
}

void worker::flush_cp(int c) {
  auto& cp = cps_[static_cast<std::size_t>(c)];
  auto& out = cp.out();
  for (auto& o : out) {
    (void)send_body(o.link == cp_link::monitor ? monitor_link(c) : engine_link(c), std::move(o.body), o.correlation);
  }
  out.clear();
  reschedule(cp_entity(c));
}

void worker::flush_driver(int d) {
  auto& drv = drivers_[static_cast<std::size_t>(d)];
  auto& out = drv.out();
  for (auto& b : out) {
    (void)send_body(dealer_link(d), std::move(b), 0);
  }
  out.clear();
  if (auto port = drv.take_subscribe()) {
    subscribe(d, *port);
  }
  reschedule(driver_entity(d));
}

// ---- control ----------------------------------------------------------------------------

void worker::read_control(std::int64_t now) {
  char buf[4096];
  for (;;) {
    const auto n = ::read(s_.control_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      break;
    }
    if (n <= 0) {
      quit_ = true;  // the parent is gone
      return;
    }
    control_buffer_.append(buf, static_cast<std::size_t>(n));
  }
  for (auto pos = control_buffer_.find('\n'); pos != std::string::npos; pos = control_buffer_.find('\n')) {
    const std::string line = control_buffer_.substr(0, pos);
    control_buffer_.erase(0, pos + 1);
    command(line, now);
  }
}

void worker::command(const std::string& line, std::int64_t now) {
  const auto space = line.find(' ');
  const std::string verb = line.substr(0, space);
  const std::string arg = space == std::string::npos ? std::string{} : line.substr(space + 1);
  if (verb == "go") {
    if (!started_) {
      started_ = true;
      go_at_ = now;
      window_start_ = books_;
      window_cpu_ = process_cpu_s();
      window_at_ = now;
    }
  } else if (verb == "window") {
    report_window(now);
  } else if (verb == "blast") {
    start_blast(std::max(1, std::atoi(arg.c_str())), now);
  } else if (verb == "storm") {
    storm_ = true;
    storm_t0_us_ = std::strtoll(arg.c_str(), nullptr, 10) / 1000;
  } else if (verb == "drain") {
    if (!draining_) {
      draining_ = true;
      drain_reported_ = false;
      drain_deadline_ = now + (s_.plan.max_duration_s + 40) * 1'000'000;
    }
  } else if (verb == "books") {
    report_books();
  } else if (verb == "quit") {
    quit_ = true;
  }
}

// ---- the loop -----------------------------------------------------------------------------

int worker::run() {
  if (epoll_fd_ < 0) {
    report_limit("open files", std::string("cannot create an epoll set: ") + std::strerror(errno));
    return 3;
  }
  epoll_event cev{};
  cev.events = EPOLLIN;
  cev.data.u64 = epoll_tag(control_tag, 0);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s_.control_fd, &cev);
  for (std::size_t i = 0; i < links_.size(); ++i) {
    reschedule(static_cast<std::uint32_t>(i));
  }
  std::vector<epoll_event> events(1024);
  next_progress_ = started_at_ + 1'000'000;
  while (!quit_) {
    auto now = monotonic_us();
    int timeout_ms = 0;
    if (ready_.empty()) {
      std::int64_t next = std::min(next_check_, next_progress_);
      if (!timers_.empty()) {
        next = std::min(next, timers_.top().due);
      }
      if (started_ && !draining_ && plan_.peek().at_us != never_us) {
        next = std::min(next, go_at_ + plan_.peek().at_us);
      }
      if (blast_) {
        next = std::min(next, now + 1000);
      }
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>((next - now + 999) / 1000, 0, 100));
    }
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    now = monotonic_us();
    for (int k = 0; k < n; ++k) {
      const auto tag = events[static_cast<std::size_t>(k)].data.u64;
      const auto index = static_cast<std::uint32_t>(tag >> 32);
      if (index == control_tag) {
        read_control(now);
        continue;
      }
      if ((index & monitor_bit) != 0) {
        const auto li = index & ~monitor_bit;
        if (li < links_.size() && links_[li].generation == static_cast<std::uint32_t>(tag & 0xffffffffU)) {
          drain_monitor(li, now);
        }
        continue;
      }
      if (index < links_.size() && links_[index].generation == static_cast<std::uint32_t>(tag & 0xffffffffU)) {
        queue(index);
      }
    }
    batch_.swap(ready_);
    for (const auto i : batch_) {
      queued_[i] = 0;
    }
    for (const auto i : batch_) {
      drain(i);
    }
    batch_.clear();
    now = monotonic_us();
    run_timers(now);
    run_plan(now);
    if (blast_) {
      pump_blast(now);
    }
    periodic(now);
  }
  return 0;
}

int run_worker(const worker_settings& s) {
  worker w{s};
  return w.run();
}

} // namespace evnet::fleet

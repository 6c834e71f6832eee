#include "evnet/ocpp/ws_server.hpp"

#include "upgrade.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace evnet::ocpp {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t max_reported_path = 256;
constexpr int max_missed_pongs = 3;
constexpr std::size_t max_close_reason = 123;  // RFC 6455: 125 bytes less the code
constexpr std::uint32_t max_request_header_bytes = 8 * 1024;
constexpr auto accept_retry_delay = std::chrono::milliseconds{100};

class session_base;

// What every connection shares with the server. Touched on the I/O thread
// only.
struct core {
  explicit core(ws_options o) : opts(std::move(o)) {}

  const ws_options opts;
  ws_sink* sink = nullptr;
  bool stopping = false;  // after stop(): the sink hears nothing more
  std::size_t live = 0;   // sockets from accept to finish, any phase
  conn_id next_id = 1;
  // Connections that have an id (waiting for admit(), open, closing).
  std::unordered_map<conn_id, std::shared_ptr<session_base>> conns;

  // A sink that throws loses that one call, never the server (its
  // exception would otherwise unwind through Asio and leave a connection
  // half done).
  template <class F>
  void tell(F&& f) noexcept {
    if (stopping || sink == nullptr) {
      return;
    }
    try {
      f(*sink);
    } catch (...) {
    }
  }
};

// The application's calls, as the I/O thread dispatches them.
class session_base {
public:
  virtual ~session_base() = default;
  virtual void start() = 0;
  virtual void admit(bool ok) = 0;
  virtual void send(std::string text) = 0;
  virtual void close(std::string reason) = 0;
};

// One connection, from accept to its single report (on_refused or
// on_closed). `Next` is beast::tcp_stream (ws://) or
// beast::ssl_stream<beast::tcp_stream> (wss://); the two differ only in the
// TLS handshake. Lives as long as a pending operation or the conns map holds
// it.
template <class Next>
class session final : public session_base, public std::enable_shared_from_this<session<Next>> {
  static constexpr bool is_tls = !std::is_same_v<Next, beast::tcp_stream>;

  enum class phase { handshake, admitting, accepting, open, closing, done };

public:
  template <class... Args>
  session(core& c, std::string remote, Args&&... stream_args)
      : core_(c), ws_(std::forward<Args>(stream_args)...), timer_(ws_.get_executor()), remote_(std::move(remote)) {}

  void start() override {
    beast::get_lowest_layer(ws_).expires_after(core_.opts.handshake_timeout);
    if constexpr (is_tls) {
      ws_.next_layer().async_handshake(asio::ssl::stream_base::server,
                                       [self = this->shared_from_this()](error_code ec) {
                                         if (ec) {
                                           self->drop("TLS handshake failed: " + ec.message());
                                           return;
                                         }
                                         self->read_request();
                                       });
    } else {
      read_request();
    }
  }

  void admit(bool ok) override {
    if (phase_ != phase::admitting) {
      return;  // late: already answered 503, or the peer left
    }
    timer_.cancel();
    if (!ok) {
      respond(http::status::unauthorized, "not admitted");
      return;
    }
    phase_ = phase::accepting;
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_never();  // the WebSocket stream keeps its own time from here
    websocket::stream_base::timeout t{};
    t.handshake_timeout = core_.opts.handshake_timeout;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;  // our own pings: 3 misses, not Beast's 1
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "evnet");
      res.set(http::field::sec_websocket_protocol,
              beast::string_view{detail::ocpp16_subprotocol.data(), detail::ocpp16_subprotocol.size()});
    }));
    ws_.read_message_max(core_.opts.max_message_bytes);
    ws_.async_accept(req_, [self = this->shared_from_this()](error_code ec) { self->on_accepted(ec); });
  }

  void send(std::string text) override {
    // Admitted but not open yet: queued, written once open (the application
    // may send right after admit(), before it hears on_open).
    if (phase_ != phase::open && phase_ != phase::accepting) {
      return;
    }
    if (queued_bytes_ + text.size() > core_.opts.max_queued_bytes) {
      cut("peer not reading: outbound queue over " + std::to_string(core_.opts.max_queued_bytes) + " bytes");
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (!writing_ && phase_ == phase::open) {
      write_next();
    }
  }

  void close(std::string reason) override {
    if (phase_ == phase::admitting) {
      admit(false);
      return;
    }
    if (phase_ == phase::accepting) {
      close_after_open_ = std::move(reason);  // the 101 is on its way
      return;
    }
    if (phase_ != phase::open) {
      return;
    }
    std::string report = "closed by application";
    if (!reason.empty()) {
      report += ": " + reason;
    }
    if (reason.size() > max_close_reason) {
      reason.resize(max_close_reason);
    }
    begin_close(websocket::close_code::normal, std::move(reason), std::move(report));
  }

private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(max_request_header_bytes);
    http::async_read(ws_.next_layer(), buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
  }

  void on_request(error_code ec) {
    if (ec) {
      drop("no valid HTTP request: " + ec.message());
      return;
    }
    req_ = parser_->release();
    parser_.reset();
    const std::string_view target{req_.target().data(), req_.target().size()};
    path_ = std::string{target.substr(0, max_reported_path)};

    auto id = detail::charge_point_id_from_target(target);
    if (req_.method() != http::verb::get || !id) {
      respond(http::status::not_found, "only GET /ocpp/<chargePointId> is served");
      return;
    }
    if (!websocket::is_upgrade(req_)) {
      respond(http::status::bad_request, "not a WebSocket upgrade");
      return;
    }
    // Beast would refuse these in async_accept; checked here so that the
    // application is never asked about a request that cannot succeed.
    if (req_[http::field::sec_websocket_key].empty() || req_[http::field::sec_websocket_version] != "13") {
      respond(http::status::bad_request, "bad WebSocket handshake (key or version 13 missing)");
      return;
    }
    bool offered = false;
    for (auto [it, end] = req_.equal_range(http::field::sec_websocket_protocol); it != end && !offered; ++it) {
      offered = detail::offers_ocpp16(std::string_view{it->value().data(), it->value().size()});
    }
    if (!offered) {
      respond(http::status::bad_request, "subprotocol ocpp1.6 not offered");
      return;
    }

    conn_ = core_.next_id++;
    core_.conns.emplace(conn_, this->shared_from_this());
    phase_ = phase::admitting;
    beast::get_lowest_layer(ws_).expires_never();  // nothing pending until admit()
    timer_.expires_after(core_.opts.admit_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code e) {
      if (!e && self->phase_ == phase::admitting) {
        self->respond(http::status::service_unavailable, "no admission decision in time");
      }
    });

    upgrade_request up;
    up.conn = conn_;
    up.charge_point_id = std::move(*id);
    const auto auth = req_.find(http::field::authorization);
    if (auth != req_.end()) {
      if (auto creds = detail::parse_basic_auth(std::string_view{auth->value().data(), auth->value().size()})) {
        up.user = std::move(creds->user);
        up.password = std::move(creds->password);
      }
    }
    up.remote = remote_;
    core_.tell([&](ws_sink& s) { s.on_upgrade_request(std::move(up)); });
  }

  // Answers a refused request with `status` and a short text body, then
  // closes. Reported at once: whether the answer reaches the peer is its
  // business.
  void respond(http::status status, std::string reason) {
    res_.version(req_.version() == 0 ? 11 : req_.version());
    res_.result(status);
    res_.set(http::field::server, "evnet");
    res_.set(http::field::content_type, "text/plain");
    if (status == http::status::unauthorized) {
      res_.set(http::field::www_authenticate, "Basic realm=\"evnet\"");
    }
    res_.keep_alive(false);
    res_.body() = reason + "\n";
    res_.prepare_payload();
    finish_refused(static_cast<int>(status), std::move(reason));
    beast::get_lowest_layer(ws_).expires_after(core_.opts.handshake_timeout);
    http::async_write(ws_.next_layer(), res_, [self = this->shared_from_this()](error_code, std::size_t) {
      auto& sock = beast::get_lowest_layer(self->ws_).socket();
      error_code ignored;
      sock.shutdown(tcp::socket::shutdown_both, ignored);
      sock.close(ignored);
    });
  }

  // A connection refused before it could be answered over HTTP.
  void drop(std::string reason) {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish_refused(0, std::move(reason));
  }

  void on_accepted(error_code ec) {
    if (phase_ != phase::accepting) {
      return;
    }
    if (ec) {
      drop("WebSocket upgrade failed: " + ec.message());
      return;
    }
    phase_ = phase::open;
    ws_.text(true);
    // Any control frame from the peer is a sign of life (pongs above all).
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { missed_pongs_ = 0; });
    core_.tell([&](ws_sink& s) { s.on_open(conn_); });
    if (phase_ != phase::open) {
      return;
    }
    if (!queue_.empty()) {
      write_next();
    }
    read_next();
    schedule_ping();
    if (close_after_open_) {
      close(std::exchange(close_after_open_, std::nullopt).value());
    }
  }

  void read_next() {
    ws_.async_read(rbuf_, [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (phase_ != phase::open) {
      return;  // closing: the close handshake reports; done: reported already
    }
    if (ec) {
      if (ec == websocket::error::closed) {
        finish_closed("closed by peer (" + std::to_string(ws_.reason().code) + ")");
      } else if (ec == websocket::error::message_too_big) {
        finish_closed("message too big");  // Beast has sent 1009
      } else {
        finish_closed("connection lost: " + ec.message());
      }
      return;
    }
    missed_pongs_ = 0;
    if (!ws_.got_text()) {
      rbuf_.consume(rbuf_.size());
      begin_close(websocket::close_code::unknown_data, "text frames only", "binary message");
      return;
    }
    auto text = beast::buffers_to_string(rbuf_.data());
    rbuf_.consume(rbuf_.size());
    core_.tell([&](ws_sink& s) { s.on_text(conn_, std::move(text)); });
    if (phase_ == phase::open) {
      read_next();
    }
  }

  void write_next() {
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (self->phase_ == phase::done) {
        return;
      }
      if (ec) {
        if (self->phase_ == phase::open) {
          self->cut("write failed: " + ec.message());
        }
        return;
      }
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (!self->queue_.empty() && self->phase_ == phase::open) {
        self->write_next();
      }
    });
  }

  void schedule_ping() {
    timer_.expires_after(core_.opts.ping_interval);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec && self->phase_ == phase::open) {
        self->on_ping_due();
      }
    });
  }

  void on_ping_due() {
    if (missed_pongs_ >= max_missed_pongs) {
      cut("ping timeout: " + std::to_string(max_missed_pongs) + " pongs missed");
      return;
    }
    if (!pinging_) {  // Beast allows one ping (or close) at a time
      ++missed_pongs_;
      pinging_ = true;
      ws_.async_ping({}, [self = this->shared_from_this()](error_code) {
        self->pinging_ = false;
        if (self->pending_close_) {
          self->close_now();
        }
      });
    }
    schedule_ping();
  }

  // Polite close: a close frame, then the closing handshake (bounded by
  // handshake_timeout through the stream's timeout option).
  void begin_close(websocket::close_code code, std::string wire_reason, std::string report) {
    phase_ = phase::closing;
    timer_.cancel();
    close_frame_ = websocket::close_reason{code, beast::string_view{wire_reason.data(), wire_reason.size()}};
    close_report_ = std::move(report);
    if (pinging_) {
      pending_close_ = true;  // after the ping: one control operation at a time
      return;
    }
    close_now();
  }

  void close_now() {
    pending_close_ = false;
    ws_.async_close(close_frame_, [self = this->shared_from_this()](error_code) {
      error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
      self->finish_closed(self->close_report_);
    });
  }

  // Rude close: the TCP connection goes at once (a peer that does not read
  // or answer would never see a close frame anyway).
  void cut(std::string reason) {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    finish_closed(std::move(reason));
  }

  void finish_refused(int http_status, std::string reason) {
    if (!finish()) {
      return;
    }
    ws_refusal r{conn_, remote_, path_, http_status, std::move(reason)};
    core_.tell([&](ws_sink& s) { s.on_refused(std::move(r)); });
  }

  void finish_closed(std::string reason) {
    if (!finish()) {
      return;
    }
    core_.tell([&](ws_sink& s) { s.on_closed(conn_, std::move(reason)); });
  }

  // The one report per connection: false when it was made already.
  bool finish() {
    if (phase_ == phase::done) {
      return false;
    }
    phase_ = phase::done;
    timer_.cancel();
    --core_.live;
    if (conn_ != 0) {
      core_.conns.erase(conn_);  // a pending handler still holds us
    }
    return true;
  }

  core& core_;
  websocket::stream<Next> ws_;
  asio::steady_timer timer_;  // the admit deadline, then the ping interval
  std::string remote_;
  phase phase_ = phase::handshake;
  conn_id conn_ = 0;
  std::string path_;

  beast::flat_buffer buffer_;  // the HTTP request
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::request<http::empty_body> req_;
  http::response<http::string_body> res_;

  beast::flat_buffer rbuf_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;

  int missed_pongs_ = 0;
  bool pinging_ = false;
  bool pending_close_ = false;
  websocket::close_reason close_frame_;
  std::string close_report_;
  std::optional<std::string> close_after_open_;  // close() while the 101 was being sent
};

using plain_session = session<beast::tcp_stream>;
using tls_session = session<beast::ssl_stream<beast::tcp_stream>>;

std::string endpoint_text(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

} // namespace

struct ws_server::impl {
  explicit impl(ws_options o) : core_(std::move(o)) {}

  // Declared first, destroyed last: TLS sessions still queued in io_ refer
  // to it until io_ goes.
  std::optional<asio::ssl::context> ssl_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::acceptor acceptor_{io_};
  asio::steady_timer retry_timer_{io_};
  core core_;
  std::atomic<std::uint16_t> bound_port_{0};
  std::atomic<bool> running_{false};
  bool started_ = false;
  std::mutex stop_mutex_;
  bool stopped_ = false;
  std::thread thread_;

  status load_tls() {
    const auto& o = core_.opts;
    if (o.tls_cert.empty() != o.tls_key.empty()) {
      return error{errc::config, "tls_cert and tls_key go together"};
    }
    if (o.tls_cert.empty()) {
      return ok_value;
    }
    ssl_.emplace(asio::ssl::context::tls_server);
    error_code ec;
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1,
                      ec);
    if (ec) {
      return error{errc::config, "cannot set TLS options: " + ec.message()};
    }
    ssl_->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) {
      return error{errc::config, "cannot load TLS certificate " + o.tls_cert + ": " + ec.message()};
    }
    ssl_->use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
    if (ec) {
      return error{errc::config, "cannot load TLS key " + o.tls_key + ": " + ec.message()};
    }
    if (SSL_CTX_check_private_key(ssl_->native_handle()) != 1) {
      return error{errc::config, "TLS key " + o.tls_key + " does not match certificate " + o.tls_cert};
    }
    return ok_value;
  }

  status listen() {
    const auto& o = core_.opts;
    error_code ec;
    const auto addr = asio::ip::make_address(o.host, ec);
    if (ec) {
      return error{errc::config, "listen host is not an IP address: " + o.host};
    }
    const tcp::endpoint ep{addr, o.port};
    const auto failed = [&](const error_code& e) {
      error_code ignored;
      acceptor_.close(ignored);
      return error{errc::bind_failed, "cannot listen on " + endpoint_text(o.host, o.port) + ": " + e.message()};
    };
    if (acceptor_.open(ep.protocol(), ec); ec) {
      return failed(ec);
    }
    if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec) {
      return failed(ec);
    }
    if (acceptor_.bind(ep, ec); ec) {
      return failed(ec);
    }
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return failed(ec);
    }
    const auto local = acceptor_.local_endpoint(ec);
    if (ec) {
      return failed(ec);
    }
    bound_port_ = local.port();
    return ok_value;
  }

  void accept_next() {
    acceptor_.async_accept([this](error_code ec, tcp::socket sock) { on_accept(ec, std::move(sock)); });
  }

  void on_accept(error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || core_.stopping) {
      return;
    }
    if (ec) {
      // Out of descriptors, most likely: try again shortly instead of
      // spinning on the same error.
      retry_timer_.expires_after(accept_retry_delay);
      retry_timer_.async_wait([this](error_code e) {
        if (!e) {
          accept_next();
        }
      });
      return;
    }
    error_code ignored;
    const auto peer = sock.remote_endpoint(ignored);
    const std::string remote = ignored ? std::string{} : peer.address().to_string();
    if (core_.live >= core_.opts.max_connections) {
      sock.close(ignored);
      core_.tell([&](ws_sink& s) { s.on_refused(ws_refusal{0, remote, {}, 0, "too many connections"}); });
      accept_next();
      return;
    }
    sock.set_option(tcp::no_delay(true), ignored);
    ++core_.live;
    if (ssl_) {
      std::make_shared<tls_session>(core_, remote, std::move(sock), *ssl_)->start();
    } else {
      std::make_shared<plain_session>(core_, remote, std::move(sock))->start();
    }
    accept_next();
  }

  void run() noexcept {
    // Handlers catch what they expect; anything else (bad_alloc) costs the
    // operation that threw, not the server.
    while (true) {
      try {
        io_.run();
        return;
      } catch (...) {
      }
    }
  }

  template <class F>
  void on_conn(conn_id conn, F f) {
    asio::post(io_, [this, conn, f = std::move(f)]() mutable {
      const auto it = core_.conns.find(conn);
      if (it == core_.conns.end()) {
        return;
      }
      auto s = it->second;  // f may end the session: keep it alive meanwhile
      f(*s);
    });
  }
};

ws_server::ws_server(ws_options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}

ws_server::~ws_server() { stop(); }

status ws_server::start(ws_sink& s) {
  auto& m = *impl_;
  if (m.started_ || m.stopped_) {
    return error{errc::invalid_state, "ws_server already started (or stopped)"};
  }
  try {
    if (auto st = m.load_tls(); !st) {
      return st;
    }
    if (auto st = m.listen(); !st) {
      return st;
    }
    m.core_.sink = &s;
    m.started_ = true;
    m.accept_next();
    m.thread_ = std::thread([&m] { m.run(); });
    m.running_ = true;
  } catch (const std::exception& e) {
    return error{errc::socket_failed, std::string{"cannot start the WebSocket server: "} + e.what()};
  }
  return ok_value;
}

std::uint16_t ws_server::bound_port() const { return impl_->bound_port_.load(); }

bool ws_server::send_text(conn_id conn, std::string text) {
  if (!impl_->running_.load()) {
    return false;
  }
  impl_->on_conn(conn, [t = std::move(text)](session_base& s) mutable { s.send(std::move(t)); });
  return true;
}

void ws_server::close(conn_id conn, std::string reason) {
  if (!impl_->running_.load()) {
    return;
  }
  impl_->on_conn(conn, [r = std::move(reason)](session_base& s) mutable { s.close(std::move(r)); });
}

void ws_server::admit(conn_id conn, bool ok) {
  if (!impl_->running_.load()) {
    return;
  }
  impl_->on_conn(conn, [ok](session_base& s) { s.admit(ok); });
}

void ws_server::stop() {
  auto& m = *impl_;
  const std::lock_guard lock(m.stop_mutex_);
  if (m.stopped_) {
    return;
  }
  m.stopped_ = true;
  m.running_ = false;
  if (m.thread_.joinable()) {
    asio::post(m.io_, [&m] {
      m.core_.stopping = true;
      error_code ignored;
      m.acceptor_.close(ignored);
      m.retry_timer_.cancel();
      m.work_.reset();
      m.io_.stop();
    });
    m.thread_.join();
  }
  // The I/O thread is gone: its map is ours now. Sessions still held by
  // abandoned handlers go with io_.
  m.core_.conns.clear();
}

} // namespace evnet::ocpp

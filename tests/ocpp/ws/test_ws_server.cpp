#define BOOST_TEST_MODULE ocpp_ws_server
#include <boost/test/unit_test.hpp>

#include "evnet/ocpp/ws_server.hpp"

#include "upgrade.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ocpp = evnet::ocpp;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

namespace {

// Every wait in this file is bounded by this; nothing sleeps.
constexpr auto wait_limit = 10s;

// ---------------------------------------------------------------------------
// The sink: records what the server says and wakes the test thread.

struct event {
  enum class kind { upgrade, open, text, closed, refused } what = kind::open;
  ocpp::conn_id conn = 0;
  std::string text;  // on_text: the message; on_closed: the reason
  ocpp::upgrade_request up;
  ocpp::ws_refusal refusal;
};

class recorder final : public ocpp::ws_sink {
public:
  void on_upgrade_request(ocpp::upgrade_request req) override {
    event e;
    e.what = event::kind::upgrade;
    e.conn = req.conn;
    e.up = std::move(req);
    push(std::move(e));
  }
  void on_open(ocpp::conn_id conn) override { push(event{event::kind::open, conn, {}, {}, {}}); }
  void on_text(ocpp::conn_id conn, std::string text) override {
    push(event{event::kind::text, conn, std::move(text), {}, {}});
  }
  void on_closed(ocpp::conn_id conn, std::string reason) override {
    push(event{event::kind::closed, conn, std::move(reason), {}, {}});
  }
  void on_refused(ocpp::ws_refusal r) override {
    event e;
    e.what = event::kind::refused;
    e.conn = r.conn;
    e.refusal = std::move(r);
    push(std::move(e));
  }

  // The first recorded event of that kind (removed), waiting for it at most
  // wait_limit.
  std::optional<event> next(event::kind k) {
    std::unique_lock lock(mutex_);
    std::optional<event> found;
    cv_.wait_for(lock, wait_limit, [&] {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (it->what == k) {
          found = std::move(*it);
          events_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  // Recorded events of that kind not taken yet; does not wait.
  std::size_t pending(event::kind k) {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& e : events_) {
      n += e.what == k ? 1 : 0;
    }
    return n;
  }

private:
  void push(event e) {
    {
      const std::lock_guard lock(mutex_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<event> events_;
};

// ---------------------------------------------------------------------------
// A Beast client on its own I/O thread. Every operation is started on that
// thread and awaited here for at most wait_limit.

template <class R>
std::optional<R> await(std::future<R>& f) {
  if (f.wait_for(wait_limit) != std::future_status::ready) {
    return std::nullopt;
  }
  return f.get();
}

struct handshake_result {
  error_code ec;
  websocket::response_type res;
};

struct read_result {
  error_code ec;
  std::string text;
  bool is_text = false;
};

template <class Next>
class basic_client {
public:
  static constexpr bool is_tls = !std::is_same_v<Next, beast::tcp_stream>;

  template <class... Args>
  explicit basic_client(Args&... args) : ws_(io_, args...) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~basic_client() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  basic_client(const basic_client&) = delete;
  basic_client& operator=(const basic_client&) = delete;

  // TCP connect (loopback, to a listening socket: immediate), then the TLS
  // handshake for wss.
  error_code connect(std::uint16_t port) {
    auto f = launch<error_code>([this, port](auto done) {
      beast::get_lowest_layer(ws_).async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
                                                 [this, done](error_code ec) {
                                                   if (ec || !is_tls) {
                                                     done(ec);
                                                     return;
                                                   }
                                                   if constexpr (is_tls) {
                                                     ws_.next_layer().async_handshake(
                                                         asio::ssl::stream_base::client, done);
                                                   }
                                                 });
    });
    return await(f).value_or(asio::error::timed_out);
  }

  // Starts the upgrade; the result arrives once the server answers (after
  // admit(), for a valid request).
  std::future<handshake_result> handshake(std::string target, std::optional<std::string> protocols,
                                          std::optional<std::string> authorization) {
    return launch<handshake_result>([this, target = std::move(target), protocols = std::move(protocols),
                                     authorization = std::move(authorization)](auto done) {
      ws_.set_option(websocket::stream_base::decorator([protocols, authorization](websocket::request_type& req) {
        if (protocols) {
          req.set(http::field::sec_websocket_protocol, *protocols);
        }
        if (authorization) {
          req.set(http::field::authorization, *authorization);
        }
      }));
      auto res = std::make_shared<websocket::response_type>();
      ws_.async_handshake(*res, "127.0.0.1", target,
                          [res, done](error_code ec) { done(handshake_result{ec, std::move(*res)}); });
    });
  }

  error_code write(std::string data, bool text = true) {
    auto f = launch<error_code>([this, data = std::make_shared<std::string>(std::move(data)), text](auto done) {
      ws_.text(text);
      ws_.async_write(asio::buffer(*data), [data, done](error_code ec, std::size_t) { done(ec); });
    });
    return await(f).value_or(asio::error::timed_out);
  }

  std::future<read_result> start_read() {
    return launch<read_result>([this](auto done) {
      auto buf = std::make_shared<beast::flat_buffer>();
      ws_.async_read(*buf, [this, buf, done](error_code ec, std::size_t) {
        done(read_result{ec, beast::buffers_to_string(buf->data()), ws_.got_text()});
      });
    });
  }

  read_result read() {
    auto f = start_read();
    return await(f).value_or(read_result{asio::error::timed_out, {}, false});
  }

  error_code close() {
    auto f = launch<error_code>([this](auto done) { ws_.async_close(websocket::close_code::normal, done); });
    return await(f).value_or(asio::error::timed_out);
  }

  // The close frame the peer sent (valid after a read failed with closed).
  websocket::close_reason reason() {
    auto f = launch<websocket::close_reason>([this](auto done) { done(ws_.reason()); });
    return await(f).value_or(websocket::close_reason{});
  }

  // Resolves once the client has seen `n` pings (the client answers them
  // while a read is pending).
  std::future<bool> pings_seen(int n) {
    return launch<bool>([this, n](auto done) {
      auto count = std::make_shared<int>(0);
      ws_.control_callback([count, n, done](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping && ++*count == n) {
          done(true);
        }
      });
    });
  }

private:
  template <class R, class Start>
  std::future<R> launch(Start start) {
    auto p = std::make_shared<std::promise<R>>();
    auto f = p->get_future();
    asio::post(io_, [p, start = std::move(start)]() mutable {
      start([p](R r) { p->set_value(std::move(r)); });
    });
    return f;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  websocket::stream<Next> ws_;
  std::thread thread_;
};

using client = basic_client<beast::tcp_stream>;
using tls_client = basic_client<beast::ssl_stream<beast::tcp_stream>>;

const std::string basic_cp1 = "Basic Q1AxOnNlY3JldDpwYXNz";  // "CP1:secret:pass"

ocpp::ws_options test_options() {
  ocpp::ws_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.admit_timeout = 5s;
  return o;
}

// A started server with its recorder.
struct fixture {
  explicit fixture(ocpp::ws_options o = test_options()) : server(std::move(o)) {
    const auto st = server.start(sink);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? std::string{} : st.err().message));
    BOOST_REQUIRE(server.bound_port() != 0);
  }
  recorder sink;
  ocpp::ws_server server;
};

// Connects, upgrades with ocpp1.6, waits for the request and admits it.
// Returns the connection id (0 on failure, reported).
template <class Client>
ocpp::conn_id open_connection(fixture& f, Client& c, const std::string& target = "/ocpp/CP1") {
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake(target, "ocpp1.6", basic_cp1);
  const auto up = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up.has_value());
  f.server.admit(up->conn, true);
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_REQUIRE_MESSAGE(!r->ec, r->ec.message());
  const auto opened = f.sink.next(event::kind::open);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->conn == up->conn);
  return up->conn;
}

// The status of a refused upgrade (0 when it was not refused over HTTP).
unsigned refused_status(fixture& f, const std::string& target, std::optional<std::string> protocols) {
  client c;
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake(target, std::move(protocols), std::nullopt);
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((r->ec == websocket::error::upgrade_declined));
  return r->res.result_int();
}

// Sends `request` as is on a fresh connection and returns the answer's
// status (0: no HTTP answer).
unsigned raw_status(std::uint16_t port, const std::string& request) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  bool answered = false;
  stream.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, [&](error_code ec) {
    if (ec) {
      return;
    }
    asio::async_write(stream, asio::buffer(request), [&](error_code ec2, std::size_t) {
      if (ec2) {
        return;
      }
      http::async_read(stream, buf, res, [&](error_code ec3, std::size_t) { answered = !ec3; });
    });
  });
  io.run_for(wait_limit);  // returns as soon as the exchange is over
  return answered ? res.result_int() : 0;
}

// A self-signed P-256 certificate for CN=localhost, written as PEM files in
// a fresh directory (removed by the destructor).
struct self_signed {
  self_signed() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("evnet_ws_test_" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();

    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    BOOST_REQUIRE(pkey != nullptr);
    X509* x = X509_new();
    BOOST_REQUIRE(x != nullptr);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    BOOST_REQUIRE(X509_sign(x, pkey, EVP_sha256()) > 0);

    FILE* fc = std::fopen(cert.c_str(), "w");
    BOOST_REQUIRE(fc != nullptr);
    PEM_write_X509(fc, x);
    std::fclose(fc);
    FILE* fk = std::fopen(key.c_str(), "w");
    BOOST_REQUIRE(fk != nullptr);
    PEM_write_PrivateKey(fk, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(fk);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
  ~self_signed() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::filesystem::path dir;
  std::string cert;
  std::string key;
};

} // namespace

// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(upgrade_checks)

BOOST_AUTO_TEST_CASE(charge_point_ids_are_decoded_and_validated) {
  using evnet::ocpp::detail::charge_point_id_from_target;
  BOOST_TEST(charge_point_id_from_target("/ocpp/CP1").value() == "CP1");
  BOOST_TEST(charge_point_id_from_target("/ocpp/CP%2D1").value() == "CP-1");
  BOOST_TEST(charge_point_id_from_target("/ocpp/a.b_c-d*e=f:g+h|i@j").value() == "a.b_c-d*e=f:g+h|i@j");
  BOOST_TEST(charge_point_id_from_target("/ocpp/" + std::string(48, 'x')).value() == std::string(48, 'x'));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/" + std::string(49, 'x')));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/"));
  BOOST_TEST(!charge_point_id_from_target("/ocpp"));
  BOOST_TEST(!charge_point_id_from_target("/other/CP1"));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP1/x"));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP1?x=1"));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP%201"));  // a blank
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP%2F1"));  // an escaped '/'
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP%2"));    // truncated escape
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP%zz"));
  BOOST_TEST(!charge_point_id_from_target("/ocpp/CP%00"));
  BOOST_TEST(!charge_point_id_from_target(std::string_view{"/ocpp/C\0P", 9}));
}

BOOST_AUTO_TEST_CASE(only_the_exact_ocpp16_token_counts) {
  using evnet::ocpp::detail::offers_ocpp16;
  BOOST_TEST(offers_ocpp16("ocpp1.6"));
  BOOST_TEST(offers_ocpp16("ocpp2.0.1, ocpp1.6"));
  BOOST_TEST(offers_ocpp16(" ocpp1.5 ,\tocpp1.6 "));
  BOOST_TEST(!offers_ocpp16(""));
  BOOST_TEST(!offers_ocpp16("OCPP1.6"));
  BOOST_TEST(!offers_ocpp16("ocpp1.6j"));
  BOOST_TEST(!offers_ocpp16("ocpp2.0.1"));
  BOOST_TEST(!offers_ocpp16("ocpp1.6x, ocpp1"));
}

BOOST_AUTO_TEST_CASE(basic_credentials_are_decoded_strictly) {
  using evnet::ocpp::detail::parse_basic_auth;
  const auto c = parse_basic_auth(basic_cp1);
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->user == "CP1");
  BOOST_TEST(c->password == "secret:pass");
  const auto lower = parse_basic_auth("basic YTpi");  // "a:b", scheme in any case
  BOOST_REQUIRE(lower.has_value());
  BOOST_TEST(lower->user == "a");
  BOOST_TEST(lower->password == "b");
  const auto empty = parse_basic_auth("Basic Og==");  // ":"
  BOOST_REQUIRE(empty.has_value());
  BOOST_TEST(empty->user.empty());
  BOOST_TEST(!parse_basic_auth("Bearer YTpi"));
  BOOST_TEST(!parse_basic_auth("Basic"));
  BOOST_TEST(!parse_basic_auth("Basic YWJj"));     // "abc": no ':'
  BOOST_TEST(!parse_basic_auth("Basic YTpi="));    // bad length
  BOOST_TEST(!parse_basic_auth("Basic YT=i"));     // data after padding
  BOOST_TEST(!parse_basic_auth("Basic YT!i"));     // not base64
  BOOST_TEST(!parse_basic_auth(""));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(admitted_upgrade_echoes_text_both_ways) {
  fixture f;
  client c;
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake("/ocpp/CP%2D1", "ocpp2.0.1, ocpp1.6", basic_cp1);

  const auto up = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up.has_value());
  BOOST_TEST(up->up.charge_point_id == "CP-1");
  BOOST_TEST(up->up.user == "CP1");
  BOOST_TEST(up->up.password == "secret:pass");
  BOOST_TEST(up->up.remote == "127.0.0.1");
  BOOST_TEST(up->conn != 0u);
  f.server.admit(up->conn, true);

  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_REQUIRE_MESSAGE(!r->ec, r->ec.message());
  BOOST_TEST(r->res.result_int() == 101u);
  BOOST_TEST(std::string{r->res[http::field::sec_websocket_protocol]} == "ocpp1.6");
  BOOST_REQUIRE(f.sink.next(event::kind::open).has_value());

  BOOST_REQUIRE(!c.write(R"([2,"1","Heartbeat",{}])"));
  const auto in = f.sink.next(event::kind::text);
  BOOST_REQUIRE(in.has_value());
  BOOST_TEST(in->conn == up->conn);
  BOOST_TEST(in->text == R"([2,"1","Heartbeat",{}])");

  BOOST_TEST(f.server.send_text(up->conn, "echo:" + in->text));
  const auto back = c.read();
  BOOST_REQUIRE_MESSAGE(!back.ec, back.ec.message());
  BOOST_TEST(back.is_text);
  BOOST_TEST(back.text == "echo:" + in->text);

  BOOST_TEST(!c.close());
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == up->conn);
  BOOST_TEST(closed->text == "closed by peer (1000)");
}

BOOST_AUTO_TEST_CASE(missing_or_malformed_credentials_reach_the_sink_empty) {
  fixture f;
  client a;
  BOOST_REQUIRE(!a.connect(f.server.bound_port()));
  auto hs_a = a.handshake("/ocpp/CP1", "ocpp1.6", std::nullopt);
  const auto up_a = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up_a.has_value());
  BOOST_TEST(up_a->up.user.empty());
  BOOST_TEST(up_a->up.password.empty());

  client b;
  BOOST_REQUIRE(!b.connect(f.server.bound_port()));
  auto hs_b = b.handshake("/ocpp/CP1", "ocpp1.6", "Basic !!!");
  const auto up_b = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up_b.has_value());
  BOOST_TEST(up_b->up.user.empty());
  BOOST_TEST(up_b->up.password.empty());
  // The same charge point twice: both reported, with their own ids.
  BOOST_TEST(up_b->conn != up_a->conn);
  BOOST_TEST(up_b->up.charge_point_id == "CP1");

  f.server.admit(up_a->conn, true);
  f.server.admit(up_b->conn, true);
  BOOST_REQUIRE(await(hs_a).has_value());
  BOOST_REQUIRE(await(hs_b).has_value());
  BOOST_REQUIRE(f.sink.next(event::kind::open).has_value());
  BOOST_REQUIRE(f.sink.next(event::kind::open).has_value());
}

BOOST_AUTO_TEST_CASE(wrong_paths_get_404) {
  fixture f;
  for (const std::string target : {"/", "/ocpp/", "/other/CP1", "/ocpp/CP1/extra", "/ocpp/bad%20id"}) {
    BOOST_TEST_CONTEXT(target) {
      BOOST_TEST(refused_status(f, target, "ocpp1.6") == 404u);
      const auto r = f.sink.next(event::kind::refused);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(r->refusal.http_status == 404);
      BOOST_TEST(r->refusal.path == target);
      BOOST_TEST(r->refusal.conn == 0u);
      BOOST_TEST(r->refusal.remote == "127.0.0.1");
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_or_other_subprotocol_gets_400) {
  fixture f;
  BOOST_TEST(refused_status(f, "/ocpp/CP1", std::nullopt) == 400u);
  BOOST_TEST(refused_status(f, "/ocpp/CP1", "ocpp2.0.1") == 400u);
  BOOST_TEST(refused_status(f, "/ocpp/CP1", "OCPP1.6") == 400u);
  for (int i = 0; i < 3; ++i) {
    const auto r = f.sink.next(event::kind::refused);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->refusal.http_status == 400);
  }
}

BOOST_AUTO_TEST_CASE(requests_that_cannot_upgrade_are_refused_before_the_application_hears) {
  fixture f;
  const std::string upgrade_headers =
      "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: ocpp1.6\r\n";
  const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  struct attempt {
    std::string request;
    unsigned status;
  };
  const attempt attempts[] = {
      {"GET /ocpp/CP1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400},  // plain HTTP
      {"POST /ocpp/CP1 HTTP/1.1\r\n" + upgrade_headers + key + "Sec-WebSocket-Version: 13\r\n\r\n", 404},
      {"GET /ocpp/CP1 HTTP/1.1\r\n" + upgrade_headers + "Sec-WebSocket-Version: 13\r\n\r\n", 400},  // no key
      {"GET /ocpp/CP1 HTTP/1.1\r\n" + upgrade_headers + key + "Sec-WebSocket-Version: 8\r\n\r\n", 400},
      {"HELLO\r\n\r\n", 0},  // not HTTP: dropped without an answer
  };
  for (const auto& a : attempts) {
    BOOST_TEST_CONTEXT(a.request) {
      BOOST_TEST(raw_status(f.server.bound_port(), a.request) == a.status);
      const auto r = f.sink.next(event::kind::refused);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(r->refusal.http_status == static_cast<int>(a.status));
      BOOST_TEST(r->conn == 0u);
    }
  }
  BOOST_TEST(f.sink.pending(event::kind::upgrade) == 0u);  // the application was never asked
}

BOOST_AUTO_TEST_CASE(refused_admission_gets_401_with_a_challenge) {
  fixture f;
  client c;
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake("/ocpp/CP1", "ocpp1.6", basic_cp1);
  const auto up = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up.has_value());
  f.server.admit(up->conn, false);
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((r->ec == websocket::error::upgrade_declined));
  BOOST_TEST(r->res.result_int() == 401u);
  BOOST_TEST(std::string{r->res[http::field::www_authenticate]} == "Basic realm=\"evnet\"");
  const auto refused = f.sink.next(event::kind::refused);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->conn == up->conn);
  BOOST_TEST(refused->refusal.http_status == 401);
}

BOOST_AUTO_TEST_CASE(no_admission_decision_gets_503_after_the_deadline) {
  auto o = test_options();
  o.admit_timeout = 100ms;
  fixture f(o);
  client c;
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake("/ocpp/CP1", "ocpp1.6", basic_cp1);
  const auto up = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up.has_value());
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->res.result_int() == 503u);
  const auto refused = f.sink.next(event::kind::refused);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->conn == up->conn);
  BOOST_TEST(refused->refusal.http_status == 503);
  f.server.admit(up->conn, true);  // too late: ignored
}

BOOST_AUTO_TEST_CASE(oversize_message_closes_with_1009) {
  auto o = test_options();
  o.max_message_bytes = 1024;
  fixture f(o);
  client c;
  const auto id = open_connection(f, c);
  BOOST_REQUIRE(!c.write(std::string(1000, 'a')));  // under the limit: delivered
  BOOST_REQUIRE(f.sink.next(event::kind::text).has_value());
  auto pending = c.start_read();
  (void)c.write(std::string(2000, 'a'));
  const auto r = await(pending);
  BOOST_REQUIRE(r.has_value());
  // Beast fails the connection: its close frame, then the TCP connection
  // goes at once, so the client's answering close may meet a closed socket.
  // The code it received is what counts.
  BOOST_TEST_MESSAGE("client read ended with: " << r->ec.message());
  BOOST_TEST(r->ec.failed());
  BOOST_TEST(c.reason().code == static_cast<std::uint16_t>(websocket::close_code::too_big));
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == id);
  BOOST_TEST(closed->text == "message too big");
}

BOOST_AUTO_TEST_CASE(binary_message_closes_with_1003) {
  fixture f;
  client c;
  const auto id = open_connection(f, c);
  auto pending = c.start_read();
  BOOST_REQUIRE(!c.write("\x01\x02", false));
  const auto r = await(pending);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((r->ec == websocket::error::closed));
  BOOST_TEST(c.reason().code == static_cast<std::uint16_t>(websocket::close_code::unknown_data));
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == id);
  BOOST_TEST(closed->text == "binary message");
}

BOOST_AUTO_TEST_CASE(application_close_sends_1000_with_the_reason) {
  fixture f;
  client c;
  const auto id = open_connection(f, c);
  auto pending = c.start_read();
  f.server.close(id, "replaced by a newer connection");
  const auto r = await(pending);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((r->ec == websocket::error::closed));
  const auto reason = c.reason();
  BOOST_TEST(reason.code == static_cast<std::uint16_t>(websocket::close_code::normal));
  BOOST_TEST(std::string(reason.reason.data(), reason.reason.size()) == "replaced by a newer connection");
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == id);
  BOOST_TEST(closed->text == "closed by application: replaced by a newer connection");
  BOOST_TEST(f.server.send_text(id, "late"));  // dropped quietly: not open any more
}

BOOST_AUTO_TEST_CASE(texts_sent_right_after_admit_arrive_first) {
  fixture f;
  client c;
  BOOST_REQUIRE(!c.connect(f.server.bound_port()));
  auto hs = c.handshake("/ocpp/CP1", "ocpp1.6", basic_cp1);
  const auto up = f.sink.next(event::kind::upgrade);
  BOOST_REQUIRE(up.has_value());
  f.server.admit(up->conn, true);
  BOOST_TEST(f.server.send_text(up->conn, "first"));  // before on_open
  f.server.close(up->conn, "done");                   // likewise
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_REQUIRE(!r->ec);
  const auto first = c.read();
  BOOST_REQUIRE_MESSAGE(!first.ec, first.ec.message());
  BOOST_TEST(first.text == "first");
  const auto end = c.read();
  BOOST_TEST((end.ec == websocket::error::closed));
  BOOST_TEST(std::string(c.reason().reason.data(), c.reason().reason.size()) == "done");
  BOOST_REQUIRE(f.sink.next(event::kind::open).has_value());
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->text == "closed by application: done");
}

BOOST_AUTO_TEST_CASE(a_peer_that_answers_pings_stays_and_a_silent_one_is_cut) {
  auto o = test_options();
  o.ping_interval = 100ms;  // wide enough that a loaded machine still answers in time
  fixture f(o);

  client live;
  const auto live_id = open_connection(f, live);
  auto pings = live.pings_seen(5);
  auto pending = live.start_read();  // Beast answers pings while reading
  const auto seen = await(pings);
  BOOST_REQUIRE(seen.has_value());  // 5 pings: past the 3 that would cut it

  client silent;  // never reads, so never answers a ping
  const auto silent_id = open_connection(f, silent, "/ocpp/CP2");
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == silent_id);
  BOOST_TEST(closed->text == "ping timeout: 3 pongs missed");

  BOOST_TEST(f.server.send_text(live_id, "still here"));
  const auto r = await(pending);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(!r->ec);
  BOOST_TEST(r->text == "still here");
}

BOOST_AUTO_TEST_CASE(a_peer_that_does_not_read_is_cut_off) {
  auto o = test_options();
  o.max_queued_bytes = 256 * 1024;
  fixture f(o);
  client c;
  const auto id = open_connection(f, c);
  const std::string chunk(64 * 1024, 'x');
  // Far more than loopback socket buffers plus the queue bound.
  for (int i = 0; i < 600; ++i) {
    f.server.send_text(id, chunk);
  }
  const auto closed = f.sink.next(event::kind::closed);
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(closed->conn == id);
  BOOST_TEST(closed->text.find("peer not reading") == 0u);
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_refused) {
  auto o = test_options();
  o.max_connections = 1;
  fixture f(o);
  client first;
  BOOST_REQUIRE(!first.connect(f.server.bound_port()));
  auto hs = first.handshake("/ocpp/CP1", "ocpp1.6", basic_cp1);
  const auto up = f.sink.next(event::kind::upgrade);  // the first one is counted now
  BOOST_REQUIRE(up.has_value());

  client second;
  BOOST_REQUIRE(!second.connect(f.server.bound_port()));
  auto hs2 = second.handshake("/ocpp/CP2", "ocpp1.6", basic_cp1);
  const auto r2 = await(hs2);
  BOOST_REQUIRE(r2.has_value());
  BOOST_TEST(r2->ec.failed());
  const auto refused = f.sink.next(event::kind::refused);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->refusal.reason == "too many connections");
  BOOST_TEST(refused->conn == 0u);

  f.server.admit(up->conn, true);
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(!r->ec);
}

BOOST_AUTO_TEST_CASE(start_reports_errors_as_values) {
  fixture f;
  auto o = test_options();
  o.port = f.server.bound_port();
  recorder sink;
  ocpp::ws_server taken(o);
  const auto st = taken.start(sink);
  BOOST_REQUIRE(!st.ok());
  BOOST_TEST((st.err().code == evnet::errc::bind_failed));
  BOOST_TEST(st.err().message.find("cannot listen on 127.0.0.1:") == 0u);

  auto bad_host = test_options();
  bad_host.host = "not an address";
  ocpp::ws_server s2(bad_host);
  const auto st2 = s2.start(sink);
  BOOST_REQUIRE(!st2.ok());
  BOOST_TEST((st2.err().code == evnet::errc::config));

  BOOST_TEST(!f.server.start(sink).ok());  // twice
  f.server.stop();
  f.server.stop();  // idempotent
  BOOST_TEST(!f.server.send_text(1, "x"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(wss_upgrade_works_and_a_plain_client_fails_cleanly) {
  const self_signed pem;
  auto o = test_options();
  o.tls_cert = pem.cert;
  o.tls_key = pem.key;
  fixture f(o);

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(pem.cert);  // trust exactly the test certificate
  ctx.set_verify_mode(asio::ssl::verify_peer);
  {
    tls_client c(ctx);
    const auto id = open_connection(f, c);
    BOOST_REQUIRE(!c.write("over tls"));
    const auto in = f.sink.next(event::kind::text);
    BOOST_REQUIRE(in.has_value());
    BOOST_TEST(in->text == "over tls");
    BOOST_TEST(f.server.send_text(id, "back"));
    const auto r = c.read();
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    BOOST_TEST(r.text == "back");
  }

  client plain;
  BOOST_REQUIRE(!plain.connect(f.server.bound_port()));
  auto hs = plain.handshake("/ocpp/CP1", "ocpp1.6", basic_cp1);
  const auto r = await(hs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->ec.failed());
  const auto refused = f.sink.next(event::kind::refused);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->conn == 0u);
  BOOST_TEST(refused->refusal.http_status == 0);
  BOOST_TEST(refused->refusal.reason.find("TLS handshake failed") == 0u);
}

BOOST_AUTO_TEST_CASE(tls_files_that_do_not_load_are_config_errors) {
  const self_signed pem;
  recorder sink;
  auto o = test_options();
  o.tls_cert = pem.cert;  // no key
  ocpp::ws_server only_cert(o);
  const auto st = only_cert.start(sink);
  BOOST_REQUIRE(!st.ok());
  BOOST_TEST((st.err().code == evnet::errc::config));

  o.tls_key = (pem.dir / "missing.pem").string();
  ocpp::ws_server missing(o);
  const auto st2 = missing.start(sink);
  BOOST_REQUIRE(!st2.ok());
  BOOST_TEST((st2.err().code == evnet::errc::config));
  BOOST_TEST(st2.err().message.find("cannot load TLS key") == 0u);

  const self_signed other;
  o.tls_key = other.key;  // a key of another certificate
  ocpp::ws_server mismatched(o);
  const auto st3 = mismatched.start(sink);
  BOOST_REQUIRE(!st3.ok());
  BOOST_TEST((st3.err().code == evnet::errc::config));
}

BOOST_AUTO_TEST_SUITE_END()

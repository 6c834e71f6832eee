// Issue #8: trust on the wire. Every link runs CURVE; identities are bound
// to keys, every message is checked against its sender's key, the stream is
// private, and what is refused or revoked is audited.
//
// Peers without a registered key (plaintext, unregistered, revoked) are
// refused at the handshake on every port: they get no answer at all, and
// Central's audit trail (read with `EV_Central --audit`) records it. Peers
// holding a registered key but speaking for someone else get an error reply
// and bill nobody. A key revoked mid-charge ends that charge with one ticket
// for what was supplied. A driver never sees another driver's charge, on
// any socket. And an eavesdropper on every link (a recording TCP relay)
// sees no id, location or amount -- while the same check does find them
// when the programs run with --insecure.
#define BOOST_TEST_MODULE integration_trust
#include "harness.hpp"
#include "raw_client.hpp"
#include "tcp_relay.hpp"

#include <boost/test/unit_test.hpp>

#include <msgpack.hpp>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace evnet::testing;
using evnet::errc;
namespace json = evnet::json;
namespace protocol = evnet::protocol;

namespace {

std::string endpoint(std::uint16_t port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// ---- running a program to its end, keeping its stdout exactly -------------

struct captured {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion (SIGKILL after `timeout`) and returns its exit
// code, stdout and stderr byte for byte.
captured capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) {
    cargs.push_back(a.data());
  }
  cargs.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  captured r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* into[2] = {&r.out, &r.err};
  bool killed = false;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char buf[4096];
        const auto n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
        } else {
          into[i]->append(buf, static_cast<std::size_t>(n));
        }
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      ::close(f.fd);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = killed ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return r;
}

// ---- the audit trail, as `EV_Central --audit` prints it --------------------

// "YYYY-MM-DDTHH:MM:SS" (UTC) of a time in ms since the epoch.
std::string utc_seconds(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// Checks that one line of the audit output is a whole entry: an object with
// time (ISO-8601 UTC, agreeing with time_ms), time_ms, source, action,
// params (an object) and outcome.
void check_entry_shape(const json::value& e, const std::string& line) {
  BOOST_TEST_REQUIRE(e.is_object(), line);
  for (const auto* key : {"time", "source", "action", "outcome"}) {
    const auto* v = json::find(e, key);
    BOOST_TEST((v != nullptr && v->is_string()), key << " in " << line);
  }
  const auto* ms = json::find(e, "time_ms");
  BOOST_TEST_REQUIRE((ms != nullptr && ms->is_number_integer()), "time_ms in " << line);
  const auto* params = json::find(e, "params");
  BOOST_TEST((params != nullptr && params->is_object()), "params in " << line);
  const auto time = str(e, "time");
  BOOST_TEST(time.rfind(utc_seconds(ms->get<std::int64_t>()), 0) == 0u, "time and time_ms disagree: " << line);
  BOOST_TEST((!time.empty() && time.back() == 'Z'), "time is not UTC: " << line);
}

// Every entry of `db` (from `since`, when given), each checked for shape.
std::vector<json::value> read_audit(const std::string& db, const std::string& since = {}) {
  std::vector<std::string> argv{program_path("EV_Central"), "--audit", "--db", db};
  if (!since.empty()) {
    argv.push_back("--since");
    argv.push_back(since);
  }
  auto r = capture(argv);
  BOOST_TEST_REQUIRE(r.exit_code == 0, "EV_Central --audit failed (" << r.exit_code << "): " << r.err);
  std::vector<json::value> entries;
  std::size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    if (end == std::string::npos) {
      end = r.out.size();
    }
    const auto line = r.out.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      continue;
    }
    auto parsed = json::parse(line);
    BOOST_TEST_REQUIRE(static_cast<bool>(parsed), "audit line is not JSON: " << line);
    check_entry_shape(*parsed, line);
    entries.push_back(std::move(*parsed));
  }
  return entries;
}

std::vector<json::value> read_audit(network& net, const std::string& since = {}) {
  return read_audit(net.dir().file("central.db"), since);
}

// What an audit entry must say: its action (one of `actions`), how its
// outcome begins, and texts its source or params must contain.
struct audit_match {
  std::set<std::string> actions;
  std::string outcome_prefix;
  std::vector<std::string> mentions;
  std::string source;  // exact, when not empty

  bool operator()(const json::value& e) const {
    if (actions.count(str(e, "action")) == 0) {
      return false;
    }
    if (str(e, "outcome").rfind(outcome_prefix, 0) != 0) {
      return false;
    }
    if (!source.empty() && str(e, "source") != source) {
      return false;
    }
    const auto* params = json::find(e, "params");
    const auto text = str(e, "source") + " " + (params != nullptr ? json::dump(*params) : std::string{});
    for (const auto& m : mentions) {
      if (text.find(m) == std::string::npos) {
        return false;
      }
    }
    return true;
  }
};

// A refusal: at the handshake ("auth"), of a hello, or of a message.
audit_match refusal(std::vector<std::string> mentions) {
  return audit_match{{"auth", "hello", "refused"}, "refused", std::move(mentions), {}};
}
audit_match refused_handshake(std::vector<std::string> mentions = {}) {
  return audit_match{{"auth"}, "refused", std::move(mentions), {}};
}

std::string dump_all(const std::vector<json::value>& entries) {
  std::string out;
  for (const auto& e : entries) {
    out += json::dump(e) + "\n";
  }
  return out;
}

// Polls the audit trail (bounded) until an entry matches; fails the test
// with the whole trail otherwise.
json::value wait_audit(network& net, const audit_match& m, const std::string& what,
                       std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<json::value> entries;
  for (;;) {
    entries = read_audit(net);
    for (const auto& e : entries) {
      if (m(e)) {
        return e;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(200ms);  // polling a file written by another process; bounded
  }
  BOOST_FAIL("no audit entry: " << what << " within " << timeout.count() << " ms; the trail:\n" << dump_all(entries));
  return {};
}

// ---- keys -----------------------------------------------------------------

std::string public_key(const network& net, const std::string& name) {
  return read_key_file(net.keys_dir() + "/" + name + ".pub");
}

// `name`'s pair as a client of Central.
curve_client central_client(const network& net, const std::string& name) {
  return client_keys(net.keys_dir(), name, "central");
}

// `name`'s pair as a client of the Engine of `cp` (whose server key is the CP's).
curve_client engine_client(const network& net, const std::string& name, const std::string& cp) {
  return client_keys(net.keys_dir(), name, "cp-" + cp);
}

// ---- waiting on the stream ------------------------------------------------

// Toggles STOP/RESUME on `cp` (an ACTIVE CP) until `sub` has received a
// stream update: then it is surely subscribed. Returns that update.
raw_subscriber::frame wait_subscribed(process& central, raw_subscriber& sub, const std::string& cp) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    central.send("stop " + cp);
    central.expect(state_of(cp, "OUT_OF_ORDER"), 10s, cp + " OUT_OF_ORDER");
    central.send("resume " + cp);
    central.expect(state_of(cp, "ACTIVE"), 10s, cp + " ACTIVE again");
    if (auto f = sub.receive(1s)) {
      // Take the resume's update too, so the next reads start clean.
      while (sub.receive(300ms)) {
      }
      return *f;
    }
  }
  BOOST_FAIL("the registered subscriber never received a stream update");
  return {};
}

// A reply to a message that a key may not send: anything but the positive
// answer. Returns a description for the test log.
template <class Positive>
std::string expect_refused(raw_dealer& raw, const std::string& what, bool (*positive)(const Positive&)) {
  auto reply = raw.receive(10s);
  BOOST_TEST_REQUIRE(reply.has_value(), "no answer at all to " << what);
  if (reply->is<Positive>()) {
    BOOST_TEST(!positive(reply->as<Positive>()), what << " was accepted");
    return std::string(reply->type());
  }
  BOOST_TEST_REQUIRE(reply->is<protocol::error_reply>(), what << ": unexpected reply " << reply->type());
  const auto& e = reply->as<protocol::error_reply>();
  BOOST_TEST(e.code == errc::forbidden, what << ": " << e.code << " (" << e.detail << ")");
  return "error " + std::string(evnet::to_string(e.code)) + ": " + e.detail;
}

bool auth_ok(const protocol::cp_auth_reply& r) { return r.ok; }
bool ack_ok(const protocol::ack& a) { return a.ok; }
bool charge_ok(const protocol::charge_reply& r) { return r.ok; }
bool record_acked(const protocol::record_ack&) { return true; }

// Fails when a client that should be refused got any answer within `wait`.
void expect_silence(raw_dealer& raw, const std::string& who, std::chrono::milliseconds wait) {
  auto reply = raw.receive(wait);
  BOOST_TEST(!reply.has_value(), who << " was answered (" << (reply ? std::string(reply->type()) : "") << ")");
}

// The bytes msgpack makes of a value in a MAP body: the key, then the value
// (an integral double packs as an integer, so kWh 3.0 is "\xa3kwh\x03").
std::string packed_field(const std::string& key, double v) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack(key);
  packer.pack(v);
  return std::string(buffer.data(), buffer.size());
}

// A double as msgpack's float64: 0xcb and 8 bytes, big-endian.
std::string float64(double v) {
  std::uint64_t bits = 0;
  static_assert(sizeof bits == sizeof v);
  std::memcpy(&bits, &v, sizeof v);
  std::string out(1, static_cast<char>(0xcb));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
  return out;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

} // namespace

// ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(plaintext_clients_are_refused_on_every_port_and_audited) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");

  // Central's ROUTER: a plaintext DEALER says hello as a driver and asks
  // for the table. The handshake fails: no answer, one audit row.
  raw_dealer plain{endpoint(net.central_port()), "plain-driver"};
  plain.send(protocol::driver_hello{"D1"}, 1);
  plain.send(protocol::snapshot_request{}, 2);
  wait_audit(net, refused_handshake({"\"key\":\"\""}), "the plaintext (keyless) client's refused handshake");
  expect_silence(plain, "a plaintext client of Central's ROUTER", 1s);

  // Central's PUB: a registered subscriber hears the stream, a plaintext one
  // hears nothing of the same updates.
  raw_subscriber plain_sub{endpoint(net.central_port() + 1)};
  raw_subscriber keyed_sub{endpoint(net.central_port() + 1), "cp", central_client(net, "driver-D1")};
  wait_subscribed(central, keyed_sub, "ALC1");
  central.send("stop ALC1");
  auto keyed = keyed_sub.receive(10s);
  BOOST_TEST_REQUIRE(keyed.has_value(), "the registered subscriber missed the STOP update");
  BOOST_TEST(keyed->msg.is<protocol::cp_update>());
  auto leaked = plain_sub.receive(1s);
  BOOST_TEST(!leaked.has_value(), "a plaintext subscriber read the stream");
  central.send("resume ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE again");

  // An Engine's port: its own CP's key is served (so the port works), a
  // plaintext client is not.
  raw_dealer own_cp{endpoint(net.engine_port("ALC1")), "own-cp", engine_client(net, "cp-ALC1", "ALC1")};
  raw_dealer plain_engine{endpoint(net.engine_port("ALC1")), "plain-monitor"};
  plain_engine.send(protocol::health_check{}, 1);
  plain_engine.send(protocol::engine_configure{protocol::cp_config{"ALC1", "Nowhere 0", 9.99}}, 2);
  own_cp.send(protocol::health_check{}, 3);
  BOOST_TEST(own_cp.receive_a<protocol::health_reply>(10s).has_value(), "the CP's own key is not served");
  expect_silence(plain_engine, "a plaintext client of the Engine", 2s);
  BOOST_TEST(net.engine("ALC1").all(event_is("configured", {{"location", "Nowhere 0"}})).empty());

  // The CP was never disturbed, and still charges at its own price.
  auto& d1 = net.start_driver("D1");
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(central.all(state_of("ALC1", "DISCONNECTED")).empty());
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(unregistered_keys_and_keys_of_others_are_refused_at_the_handshake) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  const auto central_key = public_key(net, "central");
  const auto alc1_key = public_key(net, "cp-ALC1");

  // Central: a key nobody registered.
  const auto stranger = unregistered_keys(central_key);
  raw_dealer unknown{endpoint(net.central_port()), "stranger", stranger};
  unknown.send(protocol::driver_hello{"D1"}, 1);
  wait_audit(net, refused_handshake({stranger.public_key}), "the unregistered key's refused handshake");
  expect_silence(unknown, "an unregistered key at Central", 1s);

  // Central: a registered key that does not know Central's key (it takes
  // ALC1's public key for Central's).
  auto confused_keys = central_client(net, "driver-D1");
  confused_keys.server_key = alc1_key;
  raw_dealer confused{endpoint(net.central_port()), "confused", confused_keys};
  confused.send(protocol::driver_hello{"D1"}, 1);

  // Central's stream: an unregistered subscriber hears nothing.
  raw_subscriber unknown_sub{endpoint(net.central_port() + 1), "cp", unregistered_keys(central_key)};
  raw_subscriber keyed_sub{endpoint(net.central_port() + 1), "cp", central_client(net, "driver-D2")};
  wait_subscribed(central, keyed_sub, "ALC1");
  central.send("stop ALC1");
  BOOST_TEST_REQUIRE(keyed_sub.receive(10s).has_value(), "the registered subscriber missed the STOP update");
  BOOST_TEST(!unknown_sub.receive(1s).has_value(), "an unregistered subscriber read the stream");
  central.send("resume ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE again");

  // The Engine of ALC1 admits only ALC1's key: not an unregistered one, not
  // another CP's, not a driver's (each knows the Engine's server key).
  raw_dealer e_unknown{endpoint(net.engine_port("ALC1")), "e-stranger", unregistered_keys(alc1_key)};
  raw_dealer e_other_cp{endpoint(net.engine_port("ALC1")), "e-alc2", engine_client(net, "cp-ALC2", "ALC1")};
  raw_dealer e_driver{endpoint(net.engine_port("ALC1")), "e-d1", engine_client(net, "driver-D1", "ALC1")};
  raw_dealer e_own{endpoint(net.engine_port("ALC1")), "e-own", engine_client(net, "cp-ALC1", "ALC1")};
  for (auto* r : {&e_unknown, &e_other_cp, &e_driver, &e_own}) {
    r->send(protocol::health_check{}, 1);
  }
  BOOST_TEST(e_own.receive_a<protocol::health_reply>(10s).has_value(), "the CP's own key is not served");
  expect_silence(e_unknown, "an unregistered key at the Engine", 2s);
  expect_silence(e_other_cp, "ALC2's key at ALC1's Engine", 200ms);
  expect_silence(e_driver, "a driver's key at the Engine", 200ms);
  expect_silence(confused, "a client with the wrong server key at Central", 200ms);

  auto& d1 = net.start_driver("D1");
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(central.all(state_of("ALC1", "DISCONNECTED")).empty());
}

BOOST_AUTO_TEST_CASE(a_cp_key_claiming_another_cp_is_refused_and_audited) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");

  // ALC2's key (its CP is not running) says it is ALC1, then MAD1, each on
  // its own connection (refusals are audited at most once a second per peer).
  raw_dealer as_alc1{endpoint(net.central_port()), "alc2-as-alc1", central_client(net, "cp-ALC2")};
  as_alc1.send(protocol::cp_auth{"ALC1"}, 1);
  const auto how = expect_refused<protocol::cp_auth_reply>(as_alc1, "cp_auth ALC1 with ALC2's key", auth_ok);
  raw_dealer as_mad1{endpoint(net.central_port()), "alc2-as-mad1", central_client(net, "cp-ALC2")};
  as_mad1.send(protocol::cp_auth{"MAD1"}, 2);
  expect_refused<protocol::cp_auth_reply>(as_mad1, "cp_auth MAD1 with ALC2's key", auth_ok);
  wait_audit(net, refusal({"cp:ALC2", "ALC1"}), "ALC2's key claiming ALC1 (" + how + ")");
  wait_audit(net, refusal({"cp:ALC2", "MAD1"}), "ALC2's key claiming MAD1");

  // A driver's key claiming a CP.
  raw_dealer d1_as_cp{endpoint(net.central_port()), "d1-raw", central_client(net, "driver-D1")};
  d1_as_cp.send(protocol::cp_auth{"MAD1"}, 1);
  expect_refused<protocol::cp_auth_reply>(d1_as_cp, "cp_auth MAD1 with D1's key", auth_ok);
  wait_audit(net, refusal({"driver:D1", "MAD1"}), "D1's key claiming MAD1");

  // The same ALC2 key may be ALC2: the refusals were about the claims.
  as_mad1.send(protocol::cp_auth{"ALC2"}, 3);
  auto own = as_mad1.receive_a<protocol::cp_auth_reply>(10s);
  BOOST_TEST_REQUIRE(own.has_value());
  BOOST_TEST(own->ok, own->reason);

  BOOST_TEST(central.all(event_is("auth", {{"cp", "MAD1"}, {"ok", true}})).empty());
  BOOST_TEST(central.all(event_is("auth", {{"cp", "ALC1"}, {"ok", true}})).size() == 1u);
  BOOST_TEST(central.all(state_of("MAD1", "ACTIVE")).empty());
  // ALC1's real Monitor kept its session.
  auto& d1 = net.start_driver("D1");
  short_charge(net, d1, "D1", "ALC1", 2);
  BOOST_TEST(central.all(state_of("ALC1", "DISCONNECTED")).empty());
}

BOOST_AUTO_TEST_CASE(a_cp_key_speaking_as_another_cps_engine_bills_nobody) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");

  // ALC2's key says it is ALC1's Engine, then reports a charge of D1's at
  // ALC1 (the forgery of the issue: 99 kWh, 34.65 EUR).
  raw_dealer alc2{endpoint(net.central_port()), "alc2-engine", central_client(net, "cp-ALC2")};
  alc2.send(protocol::engine_hello{"ALC1"}, 1);
  expect_refused<protocol::ack>(alc2, "engine_hello ALC1 with ALC2's key", ack_ok);
  const auto t = now_ms();
  alc2.send(protocol::charge_finished{protocol::charge_record{"ALC1", "ALC1-forged-1", "D1", 99.0, 0.35, 34.65,
                                                              t - 5000, t, evnet::end_reason::completed}},
            2);
  expect_refused<protocol::record_ack>(alc2, "charge_finished for ALC1 with ALC2's key", record_acked);
  alc2.send(protocol::telemetry{"ALC1", "ALC1-forged-1", "D1", 1, 98.0, 34.30, 0.35}, 3);

  // As ALC2's own Engine (allowed), it still may not report ALC1's charges
  // (a second connection: refusals are audited at most once a second per peer).
  raw_dealer alc2_engine{endpoint(net.central_port()), "alc2-own-engine", central_client(net, "cp-ALC2")};
  alc2_engine.send(protocol::engine_hello{"ALC2"}, 4);
  auto hello = alc2_engine.receive_a<protocol::ack>(10s);
  BOOST_TEST_REQUIRE(hello.has_value());
  BOOST_TEST(hello->ok, hello->reason);
  alc2_engine.send(protocol::charge_finished{protocol::charge_record{"ALC1", "ALC1-forged-2", "D1", 99.0, 0.35, 34.65,
                                                                     t - 5000, t, evnet::end_reason::completed}},
                   5);
  expect_refused<protocol::record_ack>(alc2_engine, "charge_finished for ALC1 from ALC2's Engine", record_acked);
  wait_audit(net, refusal({"cp:ALC2", "charge_finished"}), "the forged charge_finished");

  // D1's ticket list holds only its real charge, exactly billed.
  short_charge(net, d1, "D1", "ALC1", 2);
  for (const auto* forged : {"ALC1-forged-1", "ALC1-forged-2"}) {
    BOOST_TEST(central.all(ticket_for(forged)).empty(), forged);
    BOOST_TEST(d1.all(ticket_for(forged)).empty(), forged);
  }
  BOOST_TEST(d1.all(event_is("progress", {{"kwh", 98.0}})).empty());
  BOOST_TEST(central.all(event_is("telemetry", {{"kwh", 98.0}})).empty());
  BOOST_TEST(d1.all(event_is("ticket")).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_driver_key_acts_only_as_its_driver) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  d1.send("charge ALC1 2");
  const auto charge_id = str(d1.expect(event_is("authorized", {{"cp", "ALC1"}}), 15s, "authorized"), "charge_id");
  d1.kill_hard();
  central.expect(ticket_for(charge_id), 20s, "D1's ticket stored");
  // D1 again, on a connection that never acknowledges: its ticket is owed to
  // it again (Central sees a killed driver go at once, and forgets what it
  // owed until the driver's next hello).
  raw_dealer d1_again{endpoint(net.central_port()), "d1-again", central_client(net, "driver-D1")};
  d1_again.send(protocol::driver_hello{"D1"}, 1);
  BOOST_TEST_REQUIRE(d1_again.receive_a<protocol::ack>(10s).has_value());
  BOOST_TEST_REQUIRE(d1_again.receive_a<protocol::ticket>(10s).has_value());

  // Refusals are audited at most once a second per peer: each forgery
  // below comes from its own connection (all with D2's key).
  // D2's key says it is D1.
  raw_dealer as_d1{endpoint(net.central_port()), "d2-as-d1", central_client(net, "driver-D2")};
  as_d1.send(protocol::driver_hello{"D1"}, 1);
  expect_refused<protocol::ack>(as_d1, "driver_hello D1 with D2's key", ack_ok);
  wait_audit(net, refusal({"driver:D2", "D1"}), "D2's key saying it is D1");
  // As D2 (allowed), it asks for a charge in D1's name...
  auto hello_as_d2 = [&](raw_dealer& raw) {
    raw.send(protocol::driver_hello{"D2"}, 2);
    auto hello = raw.receive_a<protocol::ack>(10s);
    BOOST_TEST_REQUIRE(hello.has_value());
    BOOST_TEST(hello->ok, hello->reason);
  };
  raw_dealer requester{endpoint(net.central_port()), "d2-requester", central_client(net, "driver-D2")};
  hello_as_d2(requester);
  requester.send(protocol::charge_request{"D1", "ALC1", 2, "D2-forged-1"}, 3);
  expect_refused<protocol::charge_reply>(requester, "charge_request for D1 with D2's key", charge_ok);
  // ... and settles D1's ticket.
  raw_dealer acker{endpoint(net.central_port()), "d2-acker", central_client(net, "driver-D2")};
  hello_as_d2(acker);
  acker.send(protocol::ticket_ack{"ALC1", charge_id}, 4);
  expect_refused<protocol::ack>(acker, "ticket_ack of D1's ticket with D2's key", ack_ok);
  wait_audit(net, refusal({"driver:D2", "ticket_ack"}), "D2's key acknowledging D1's ticket");

  // D1 comes back and is still owed its ticket, exactly as billed.
  auto& again = net.start_driver("D1");
  auto ticket = again.expect_ever(ticket_for(charge_id), 20s, "ticket delivered to D1");
  check_ticket(ticket, "ALC1", "D1", 2.0, 0.35, "completed");
  BOOST_TEST(central.all(event_is("authorized", {{"driver", "D1"}})).size() == 1u);
  BOOST_TEST(central.all(event_is("request", {{"request_id", "D2-forged-1"}})).empty());
  BOOST_TEST(central.all_once(event_is("ticket"), 1).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_cp_revoked_mid_charge_ends_it_with_one_ticket_and_shows_disconnected) {
  network net{three_cps()};
  auto& central = net.start_central();
  auto& monitor = net.start_cp("ALC1");
  net.start_cp("ALC2");
  auto& d1 = net.start_driver("D1");
  const auto charge_id = str(start_charging(d1, "ALC1", 30, 2.0), "charge_id");

  central.send("revoke ALC1");
  central.expect(state_of("ALC1", "DISCONNECTED"), 10s, "ALC1 DISCONNECTED after the revocation");
  auto ticket = d1.expect(ticket_for(charge_id), 15s, "the ticket of the revoked charge");
  const double kwh = num(ticket, "kwh");
  check_ticket(ticket, "ALC1", "D1", kwh, 0.35, "key revoked");
  BOOST_TEST(kwh >= 2.0);
  BOOST_TEST(kwh < 30.0);
  // For what was supplied: the last figure the driver was shown.
  auto progress = d1.all(event_is("progress", {{"charge_id", charge_id}}));
  BOOST_TEST_REQUIRE(!progress.empty());
  BOOST_TEST(num(progress.back(), "kwh") == kwh);
  check_ticket(central.expect_ever(ticket_for(charge_id), 10s, "Central's ticket"), "ALC1", "D1", kwh, 0.35,
               "key revoked");

  // The CP's links are cut and its key no longer opens them.
  monitor.expect(event_is("central", {{"status", "unreachable"}}), 20s, "the Monitor cut off from Central");
  wait_audit(net, audit_match{{"revoke"}, "", {"ALC1"}, "operator"}, "the operator's revocation");
  wait_audit(net, refused_handshake({public_key(net, "cp-ALC1")}), "ALC1's key refused after its revocation", 30s);
  BOOST_TEST(listed_state(central, "ALC1") == "DISCONNECTED");
  d1.send("charge ALC1 2");
  auto denied = d1.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "ALC1 denied");
  BOOST_TEST(str(denied, "reason").find("disconnected") != std::string::npos, str(denied, "reason"));

  // Another CP is untouched.
  short_charge(net, d1, "D1", "ALC2", 2);
  // Exactly one ticket for the revoked charge, everywhere.
  BOOST_TEST(d1.all(ticket_for(charge_id)).size() == 1u);
  BOOST_TEST(central.all(ticket_for(charge_id)).size() == 1u);
  BOOST_TEST(central.all_once(event_is("ticket"), 2).size() == 2u);
  BOOST_TEST(central.all(state_of("ALC1", "ACTIVE")).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_driver_revoked_while_central_is_down_is_refused_after_it_starts) {
  network net{three_cps(), {"D1", "D2"}};
  net.start_central();
  {
    auto& d2 = net.start_driver("D2");  // the key works before
    d2.kill_hard();
  }
  net.stop_central();

  auto r = capture({program_path("evnet_keys"), "revoke", "D2", "--keys", net.keys_dir(), "--db",
                    net.dir().file("central.db"), "--config", net.dir().file("db.json")});
  BOOST_TEST_REQUIRE(r.exit_code == 0, "evnet_keys revoke D2: " << r.err << r.out);
  BOOST_TEST(r.out.find(read_key_file(net.keys_dir() + "/driver-D2.key")) == std::string::npos);
  wait_audit(net, audit_match{{"revoke"}, "", {"D2"}, "tool"}, "the tool's revocation");

  auto& central = net.start_central();
  process d2{"driver-D2-revoked", net.with_keys({program_path("EV_Driver"), "127.0.0.1",
                                                 std::to_string(net.central_port()), "D2", "--headless"})};
  wait_audit(net, refused_handshake({public_key(net, "driver-D2")}), "D2's revoked key refused");
  d2.expect(event_is("central", {{"status", "unreachable"}}), 20s, "D2 cannot reach Central");
  d2.send("charge ALC1 2");
  auto denied = d2.expect(event_is("denied", {{"cp", "ALC1"}}), 15s, "D2 denied");
  BOOST_TEST(str(denied, "reason").find("cannot reach CENTRAL") != std::string::npos, str(denied, "reason"));
  BOOST_TEST(d2.all(event_is("cps")).empty());
  BOOST_TEST(central.all(event_is("request", {{"driver", "D2"}})).empty());

  // D1 is served as before.
  net.start_cp("ALC1");
  auto& d1 = net.start_driver("D1");
  short_charge(net, d1, "D1", "ALC1", 2);
}

BOOST_AUTO_TEST_CASE(a_driver_never_sees_another_drivers_charge_on_any_socket) {
  network net{three_cps(), {"DRVQ93", "D2", "D3"}};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  auto& d2 = net.start_driver("D2");

  // D3's key, raw: a subscriber to the stream, and a DEALER that asks for
  // snapshots.
  raw_subscriber sub{endpoint(net.central_port() + 1), "cp", central_client(net, "driver-D3")};
  wait_subscribed(central, sub, "ALC1");
  raw_dealer d3{endpoint(net.central_port()), "d3-raw", central_client(net, "driver-D3")};
  // No snapshot before saying who it is.
  d3.send(protocol::snapshot_request{}, 1);
  auto early = d3.receive(10s);
  BOOST_TEST_REQUIRE(early.has_value(), "no answer to a snapshot request before hello");
  BOOST_TEST(early->is<protocol::error_reply>(), "a snapshot for a peer that never said hello: " << early->type());
  d3.send(protocol::driver_hello{"D3"}, 2);
  auto hello = d3.receive_a<protocol::ack>(10s);
  BOOST_TEST_REQUIRE(hello.has_value());
  BOOST_TEST(hello->ok, hello->reason);

  auto& charging = net.start_driver("DRVQ93");
  const auto charge_id = str(start_charging(charging, "ALC1", 4, 1.0), "charge_id");
  d3.send(protocol::snapshot_request{}, 3);

  // Everything D3 can read until the charge's ticket is out.
  std::vector<raw_subscriber::frame> stream;
  std::vector<protocol::message> direct;
  std::vector<std::string> direct_bytes;
  auto heartbeat_due = std::chrono::steady_clock::now();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const bool done = !charging.all(ticket_for(charge_id)).empty();
    if (std::chrono::steady_clock::now() >= heartbeat_due) {
      d3.heartbeat();  // stay a known peer for the whole charge
      heartbeat_due += 500ms;
    }
    while (auto f = sub.receive(done ? 300ms : 50ms)) {
      stream.push_back(std::move(*f));
    }
    while (auto m = d3.receive(50ms)) {
      direct.push_back(std::move(*m));
      direct_bytes.push_back(d3.last_frame());
    }
    if (done || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
  }
  auto ticket = charging.expect_ever(ticket_for(charge_id), 1s, "the charge's ticket");
  check_ticket(ticket, "ALC1", "DRVQ93", 4.0, 0.35, "completed");

  // The stream told of the charge (ALC1 BUSY), and of nothing private.
  bool saw_busy = false;
  for (const auto& f : stream) {
    BOOST_TEST_REQUIRE(f.msg.is<protocol::cp_update>(), "a stream message of type " << f.msg.type());
    const auto& cp = f.msg.as<protocol::cp_update>().cp;
    saw_busy = saw_busy || (cp.cp_id == "ALC1" && cp.state == evnet::cp_state::busy);
    BOOST_TEST(cp.driver_id.empty(), "the stream named driver " << cp.driver_id);
    BOOST_TEST(cp.kwh == 0.0, "the stream carried kWh " << cp.kwh);
    BOOST_TEST(cp.amount == 0.0, "the stream carried amount " << cp.amount);
    BOOST_TEST(f.payload.find("DRVQ93") == std::string::npos);
    BOOST_TEST(f.payload.find(charge_id) == std::string::npos);
  }
  BOOST_TEST(saw_busy, "the stream never showed ALC1 BUSY (" << stream.size() << " updates)");

  // Direct to D3: the snapshot it asked for, private too, and nothing of the charge.
  bool saw_snapshot = false;
  for (std::size_t i = 0; i < direct.size(); ++i) {
    const auto& m = direct[i];
    BOOST_TEST(direct_bytes[i].find("DRVQ93") == std::string::npos, "D3 received " << m.type() << " naming DRVQ93");
    BOOST_TEST(direct_bytes[i].find(charge_id) == std::string::npos, "D3 received " << m.type() << " naming the charge");
    BOOST_TEST(!(m.is<protocol::progress>() || m.is<protocol::ticket>() || m.is<protocol::charge_interrupted>() ||
                 m.is<protocol::charge_reply>()),
               "D3 received " << m.type());
    if (m.is<protocol::snapshot>()) {
      saw_snapshot = true;
      for (const auto& cp : m.as<protocol::snapshot>().cps) {
        BOOST_TEST(cp.driver_id.empty(), "a snapshot named driver " << cp.driver_id);
        BOOST_TEST(cp.kwh == 0.0);
        BOOST_TEST(cp.amount == 0.0);
      }
    }
  }
  BOOST_TEST(saw_snapshot, "D3's snapshot request during the charge was not answered");

  // D2, a real driver, saw the CP busy and nothing else of the charge.
  for (const auto* name : {"authorized", "progress", "plugged", "interrupted", "ticket"}) {
    BOOST_TEST(d2.all(event_is(name)).empty(), "D2 got a '" << name << "' event");
  }
  std::vector<json::value> rows = d2.all(event_is("cp_state"));
  for (const auto& table : d2.all(event_is("cps"))) {
    const auto& r = rows_of(table, "cps");
    rows.insert(rows.end(), r.begin(), r.end());
  }
  for (const auto& ev : rows) {
    BOOST_TEST(str(ev, "driver").empty(), json::dump(ev));
    BOOST_TEST(num(ev, "kwh") <= 0.0, json::dump(ev));
    BOOST_TEST(num(ev, "amount") <= 0.0, json::dump(ev));
  }
  auto row = listed_row(d2, "ALC1");
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(str(*row, "driver").empty());
  // Central's own console still shows everything.
  BOOST_TEST(!central.all(event_is("telemetry", {{"driver", "DRVQ93"}})).empty());
}

BOOST_AUTO_TEST_CASE(the_audit_trail_records_operator_orders_faults_and_recoveries_and_filters_by_time) {
  network net{three_cps()};
  auto& central = net.start_central();
  net.start_cp("ALC1");
  const auto t0 = now_ms();

  central.send("stop ALC1");
  central.expect(state_of("ALC1", "OUT_OF_ORDER"), 10s, "ALC1 OUT_OF_ORDER");
  central.send("resume ALC1");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE");
  net.engine("ALC1").send("fault");
  central.expect(state_of("ALC1", "BROKEN"), 10s, "ALC1 BROKEN");
  net.engine("ALC1").send("repair");
  central.expect(state_of("ALC1", "ACTIVE"), 10s, "ALC1 ACTIVE after repair");

  auto stop = wait_audit(net, audit_match{{"stop"}, "ok", {"ALC1"}, "operator"}, "the operator's STOP");
  auto resume = wait_audit(net, audit_match{{"resume"}, "ok", {"ALC1"}, "operator"}, "the operator's RESUME");
  auto fault = wait_audit(net, audit_match{{"fault"}, "", {"ALC1"}, ""}, "the fault");
  auto recovery = wait_audit(net, audit_match{{"recovery"}, "", {"ALC1"}, ""}, "the recovery");
  for (const auto* e : {&stop, &resume, &fault, &recovery}) {
    BOOST_TEST(num(*e, "time_ms") >= double(t0 - 1000), json::dump(*e));
    BOOST_TEST(num(*e, "time_ms") <= double(now_ms() + 1000), json::dump(*e));
  }
  BOOST_TEST(num(stop, "time_ms") <= num(resume, "time_ms"));
  BOOST_TEST(num(fault, "time_ms") <= num(recovery, "time_ms"));

  // --since: everything from a time on, in each accepted spelling.
  const auto all = read_audit(net);
  BOOST_TEST(read_audit(net, "2000-01-01").size() == all.size());
  BOOST_TEST(read_audit(net, std::to_string(now_ms() / 1000 + 3600)).empty());
  const auto since_t0 = read_audit(net, std::to_string((t0 - 1000) / 1000));
  BOOST_TEST(std::any_of(since_t0.begin(), since_t0.end(), audit_match{{"stop"}, "ok", {"ALC1"}, "operator"}));
  BOOST_TEST(read_audit(net, utc_seconds(now_ms() + 3'600'000) + "Z").empty());
  for (const auto& e : since_t0) {
    BOOST_TEST(num(e, "time_ms") >= double((t0 - 1000) / 1000 * 1000), json::dump(e));
  }
  auto bad = capture({program_path("EV_Central"), "--audit", "--db", net.dir().file("central.db"), "--since",
                      "not a time"});
  BOOST_TEST(bad.exit_code == 2, bad.err);
  BOOST_TEST(bad.err.find("usage:") != std::string::npos, bad.err);
}

// ---- what an eavesdropper sees ----------------------------------------------

namespace {

// One relayed network's recordings, per link.
struct eavesdropped {
  std::vector<std::pair<std::string, std::vector<std::string>>> links;  // link name -> its streams
  json::value ticket;
};

// A port span that is free now and collides with none of `taken`.
std::uint16_t relay_port(int span, const std::vector<std::uint16_t>& taken) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto p = free_port(span);
    bool clash = false;
    for (auto t : taken) {
      clash = clash || (t >= p && t < p + span);
    }
    if (!clash) {
      return p;
    }
  }
  throw std::runtime_error("no free relay port");
}

// A driver's view of `cp` in `state`: a stream update, or a whole table
// (what the driver shows after a gap in the stream's sequence, e.g. when
// its subscription began after its first snapshot).
predicate shows_state(const std::string& cp, const std::string& state) {
  return [cp, state](const json::value& ev) {
    if (state_of(cp, state)(ev)) {
      return true;
    }
    if (!event_is("cps")(ev)) {
      return false;
    }
    for (const auto& row : rows_of(ev, "cps")) {
      if (str(row, "cp") == cp && str(row, "state") == state) {
        return true;
      }
    }
    return false;
  };
}

// Toggles STOP/RESUME on `cp` until the driver shows the STOP from the
// stream: its subscription is live from then on.
void wait_stream_live(process& central, process& driver, const std::string& cp) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    central.send("stop " + cp);
    central.expect(state_of(cp, "OUT_OF_ORDER"), 10s, cp + " OUT_OF_ORDER");
    const bool seen = driver.wait_for(shows_state(cp, "OUT_OF_ORDER"), 1s).has_value();
    central.send("resume " + cp);
    central.expect(state_of(cp, "ACTIVE"), 10s, cp + " ACTIVE again");
    if (seen) {
      driver.expect(shows_state(cp, "ACTIVE"), 10s, cp + " ACTIVE again, from the stream");
      return;
    }
  }
  BOOST_FAIL("the driver never saw a stream update\n" << driver.recent_output());
}

// Runs one full charge with unusual ids, every link through its own
// recording relay: Engine->Central, Monitor->Central, Monitor->Engine,
// Driver->Central (ROUTER) and Driver->stream (PUB; the driver learns its
// port from Central).
eavesdropped run_relayed_charge(bool insecure) {
  const std::string cp = "QZX7ALC";
  const std::string driver = "DRVQ93";
  network net{{{cp, "Calle Secreta 42", 0.37}}, {driver}};
  const auto central_port = net.central_port();
  const auto engine_port = net.engine_port(cp);
  auto trust = [&](std::vector<std::string> argv) {
    if (insecure) {
      argv.push_back("--insecure");
      return argv;
    }
    return net.with_keys(std::move(argv));
  };

  // Central listens on 127.0.0.1 only, so that the driver's two relays can
  // stand on 127.0.0.2 with Central's own port numbers: the driver learns
  // the stream's port from Central's snapshot and connects to it on the
  // host it reached Central at, i.e. through the relay.
  process central_proc{"central-relayed",
                       trust({program_path("EV_Central"), std::to_string(central_port), "--bind", "127.0.0.1",
                              "--headless", "--config", net.dir().file("db.json"), "--db",
                              net.dir().file("central.db")})};
  central_proc.expect(event_is("started"), 15s, "started");
  process* central = &central_proc;

  std::vector<std::uint16_t> taken{central_port, static_cast<std::uint16_t>(central_port + 1), engine_port};
  tcp_relay to_central_router{central_port, central_port, "127.0.0.2"};
  tcp_relay to_central_stream{static_cast<std::uint16_t>(central_port + 1), static_cast<std::uint16_t>(central_port + 1),
                              "127.0.0.2"};
  const auto engine_central_port = relay_port(1, taken);
  tcp_relay engine_to_central{engine_central_port, central_port};
  taken.push_back(engine_central_port);
  const auto monitor_central_port = relay_port(1, taken);
  tcp_relay monitor_to_central{monitor_central_port, central_port};
  taken.push_back(monitor_central_port);
  const auto monitor_engine_port = relay_port(1, taken);
  tcp_relay monitor_to_engine{monitor_engine_port, engine_port};

  std::vector<std::string> engine_argv{program_path("EV_CP_E"), "127.0.0.1", std::to_string(engine_central_port),
                                       "--listen", std::to_string(engine_port), "--headless", "--store",
                                       net.dir().file("engine.db")};
  if (!insecure) {
    engine_argv.push_back("--cp");
    engine_argv.push_back(cp);
  }
  process engine{"engine-" + cp, trust(engine_argv)};
  engine.expect(event_is("started"), 15s, "engine started");
  process monitor{"monitor-" + cp,
                  trust({program_path("EV_CP_M"), "127.0.0.1", std::to_string(monitor_engine_port), "127.0.0.1",
                         std::to_string(monitor_central_port), cp, "--headless"})};
  central->expect(state_of(cp, "ACTIVE"), 30s, cp + " ACTIVE through the relays");
  process drv{"driver-" + driver, trust({program_path("EV_Driver"), "127.0.0.2", std::to_string(central_port),
                                         driver, "--headless"})};
  drv.expect(event_is("cps"), 20s, "the driver's first table");
  wait_stream_live(*central, drv, cp);

  drv.send("charge " + cp + " 3");
  drv.expect(event_is("authorized", {{"cp", cp}}), 15s, "authorized");
  eavesdropped out;
  out.ticket = drv.expect(event_is("ticket", {{"cp", cp}}), 20s, "ticket");
  check_ticket(out.ticket, cp, driver, 3.0, 0.37, "completed");
  engine.expect(event_is("acknowledged"), 10s, "the Engine's record acknowledged");
  // The stream carried the charge to the driver too.
  drv.expect_ever(shows_state(cp, "BUSY"), 10s, "the stream's update of the charge");

  const std::vector<std::pair<std::string, const tcp_relay*>> relays{{"Engine->Central", &engine_to_central},
                                                                      {"Monitor->Central", &monitor_to_central},
                                                                      {"Monitor->Engine", &monitor_to_engine},
                                                                      {"Driver->Central", &to_central_router},
                                                                      {"Driver->stream", &to_central_stream}};
  for (const auto& [name, r] : relays) {
    // Every link went through its relay and carried the charge's traffic.
    BOOST_TEST(r->connections() >= 1u, name);
    BOOST_TEST(r->bytes() > 0u, name);
    BOOST_TEST_MESSAGE((insecure ? "insecure " : "CURVE ") << name << ": " << r->connections() << " connection(s), "
                                                          << r->bytes() << " bytes");
    out.links.emplace_back(name, r->streams());
  }
  return out;
}

// The links whose bytes contain `needle`, comma-separated ("" when none).
std::string links_carrying(const eavesdropped& e, const std::string& needle) {
  std::string out;
  for (const auto& [name, streams] : e.links) {
    for (const auto& s : streams) {
      if (s.find(needle) != std::string::npos) {
        out += (out.empty() ? "" : ", ") + name;
        break;
      }
    }
  }
  return out;
}

// What must not cross the wire in the clear: the ids, the location, and
// the ticket's figures as msgpack encodes them (the amount as float64; kWh
// 3.0, an integral double, packs as an integer, so it is looked for with
// its field name), and the price.
std::vector<std::pair<std::string, std::string>> secrets(const json::value& ticket) {
  const double amount = num(ticket, "amount");
  const double kwh = num(ticket, "kwh");
  return {{"CP id", "QZX7ALC"},
          {"driver id", "DRVQ93"},
          {"location", "Calle Secreta 42"},
          {"amount (float64)", float64(amount)},
          {"amount field", packed_field("amount", amount)},
          {"kWh field", packed_field("kwh", kwh)},
          {"price (float64)", float64(0.37)}};
}

} // namespace

BOOST_AUTO_TEST_CASE(an_eavesdropper_on_every_link_sees_no_ids_locations_or_amounts) {
  {
    BOOST_TEST_MESSAGE("phase 1: CURVE on every link");
    const auto seen = run_relayed_charge(false);
    for (const auto& [what, needle] : secrets(seen.ticket)) {
      BOOST_TEST(links_carrying(seen, needle).empty(),
                 what << " (" << hex(needle) << ") crossed in the clear on: " << links_carrying(seen, needle));
    }
    // Every link negotiated CURVE (the ZMTP greeting names the mechanism).
    for (const auto& [name, streams] : seen.links) {
      bool curve = false;
      for (const auto& s : streams) {
        curve = curve || s.find("CURVE") != std::string::npos;
      }
      BOOST_TEST(curve, name << " did not run CURVE");
    }
  }
  {
    // The same check finds them when CURVE is off: it can fail.
    BOOST_TEST_MESSAGE("phase 2: --insecure");
    const auto seen = run_relayed_charge(true);
    for (const auto& [what, needle] : secrets(seen.ticket)) {
      BOOST_TEST(!links_carrying(seen, needle).empty(),
                 what << " (" << hex(needle) << ") not found in the plaintext recording");
    }
    // And on every link: each one the first phase checked carried a secret.
    for (const auto& [name, streams] : seen.links) {
      BOOST_TEST(links_carrying(eavesdropped{{{name, streams}}, {}}, "QZX7ALC") == name,
                 name << " did not carry the CP id in the clear");
    }
  }
}

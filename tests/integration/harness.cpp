#include "harness.hpp"

#include "evnet/security/keys.hpp"
#include "evnet/store/central_store.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace evnet::testing {

std::string program_path(const std::string& name) {
  const char* root = std::getenv("EVNET_BUILD_ROOT");
  std::string base = root != nullptr ? root : ".";
  static const std::vector<std::pair<std::string, std::string>> dirs = {{"EV_Central", "src/central"},
                                                                         {"EV_CP_E", "src/engine"},
                                                                         {"EV_CP_M", "src/monitor"},
                                                                         {"EV_Driver", "src/driver"},
                                                                         {"EV_OCPP", "src/gateway"},
                                                                         {"evnet_keys", "tools"}};
  for (const auto& [prog, dir] : dirs) {
    if (prog == name) {
      return base + "/" + dir + "/" + prog;
    }
  }
  return name;
}

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "evnet-test-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  if (std::getenv("EVNET_KEEP_TEST_DIRS") == nullptr) {
    std::filesystem::remove_all(path_, ec);
  }
}

namespace {

bool port_free(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

} // namespace

std::uint16_t free_port(int span) {
  // Random start in a range the kernel does not hand out as ephemeral ports
  // (32768+), so two tests running at once rarely collide, and never with
  // outgoing connections.
  static std::mt19937 rng{std::random_device{}() ^ static_cast<unsigned>(::getpid())};
  std::uniform_int_distribution<int> dist(20000, 32000 - span);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto base = static_cast<std::uint16_t>(dist(rng));
    bool ok = true;
    for (int i = 0; i < span && ok; ++i) {
      ok = port_free(static_cast<std::uint16_t>(base + i));
    }
    if (ok) {
      return base;
    }
  }
  throw std::runtime_error("no free port");
}

predicate event_is(std::string name, json::object fields) {
  return [name = std::move(name), fields = std::move(fields)](const json::value& ev) {
    const auto* n = json::find(ev, "event");
    if (n == nullptr || !n->is_string() || n->get_ref<const std::string&>() != name) {
      return false;
    }
    for (const auto& [key, want] : fields) {
      const auto* got = json::find(ev, key);
      if (got == nullptr) {
        return false;
      }
      if (want.is_number() && got->is_number()) {
        if (std::abs(want.get<double>() - got->get<double>()) > 1e-9) {
          return false;
        }
      } else if (!(*got == want)) {
        return false;
      }
    }
    return true;
  };
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double expected_amount(double kwh, double price) {
  // Micro-euros first: 7 x 0.35 is 2.4499999999999997 in binary.
  const long long micros = std::llround(kwh * price * 1e6);
  const long long cents = (micros + (micros < 0 ? -5000 : 5000)) / 10000;
  return static_cast<double>(cents) / 100.0;
}

process::process(std::string name, std::vector<std::string> argv, std::string cwd) : name_(std::move(name)) {
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<char*> args;
  for (auto& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  stdin_fd_ = in_pipe[1];
  out_thread_ = std::thread([this, fd = out_pipe[0]] { read_loop(fd, true); });
  err_thread_ = std::thread([this, fd = err_pipe[0]] { read_loop(fd, false); });
}

process::~process() {
  if (running()) {
    kill_hard();
  }
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
  }
  if (out_thread_.joinable()) {
    out_thread_.join();
  }
  if (err_thread_.joinable()) {
    err_thread_.join();
  }
}

void process::read_loop(int fd, bool is_stdout) {
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t pos;
    while ((pos = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, pos);
      pending.erase(0, pos + 1);
      std::lock_guard<std::mutex> guard{mutex_};
      if (is_stdout) {
        auto parsed = json::parse(line);
        if (parsed && parsed->is_object()) {
          events_.push_back(std::move(*parsed));
          cv_.notify_all();
          continue;
        }
        noise_.push_back("stdout: " + line);
      } else {
        noise_.push_back("stderr: " + line);
      }
      if (noise_.size() > 200) {
        noise_.erase(noise_.begin());
      }
    }
  }
  ::close(fd);
  std::lock_guard<std::mutex> guard{mutex_};
  cv_.notify_all();
}

void process::send(const std::string& line) {
  std::string data = line + "\n";
  if (::write(stdin_fd_, data.data(), data.size()) < 0) {
    BOOST_TEST_MESSAGE(name_ << ": cannot write to stdin");
  }
}

std::optional<json::value> process::wait_for(const predicate& p, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    while (cursor_ < events_.size()) {
      const auto& ev = events_[cursor_++];
      if (p(ev)) {
        return ev;
      }
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      while (cursor_ < events_.size()) {
        const auto& ev = events_[cursor_++];
        if (p(ev)) {
          return ev;
        }
      }
      return std::nullopt;
    }
  }
}

json::value process::expect(const predicate& p, std::chrono::milliseconds timeout, const std::string& what) {
  auto ev = wait_for(p, timeout);
  if (!ev) {
    BOOST_FAIL(name_ << ": no event " << what << " within " << timeout.count() << " ms\n" << recent_output());
  }
  return *ev;
}

json::value process::expect_ever(const predicate& p, std::chrono::milliseconds timeout, const std::string& what) {
  // Anything not yet in events_ arrives after the cursor, so expect() sees it.
  if (auto seen = all(p); !seen.empty()) {
    return seen.front();
  }
  return expect(p, timeout, what);
}

std::vector<json::value> process::all(const predicate& p) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<json::value> out;
  for (const auto& ev : events_) {
    if (p(ev)) {
      out.push_back(ev);
    }
  }
  return out;
}

std::vector<json::value> process::all_once(const predicate& p, std::size_t n, std::chrono::milliseconds timeout) {
  const auto count = [&] {
    std::size_t k = 0;
    for (const auto& ev : events_) {
      k += p(ev) ? 1 : 0;
    }
    return k;
  };
  {
    std::unique_lock<std::mutex> lock{mutex_};
    cv_.wait_for(lock, timeout, [&] { return count() >= n; });
  }
  return all(p);
}

void process::skip_to_end() {
  std::lock_guard<std::mutex> guard{mutex_};
  cursor_ = events_.size();
}

std::string process::recent_output() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::ostringstream out;
  std::size_t from = events_.size() > 40 ? events_.size() - 40 : 0;
  out << "--- last events of " << name_ << " ---\n";
  for (std::size_t i = from; i < events_.size(); ++i) {
    out << json::dump(events_[i]) << "\n";
  }
  out << "--- other output of " << name_ << " ---\n";
  for (const auto& line : noise_) {
    out << line << "\n";
  }
  return out.str();
}

bool process::running() {
  if (exited_ || pid_ <= 0) {
    return false;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return -1;
    }
    std::this_thread::sleep_for(10ms);  // polling a child's exit; bounded by the deadline
  }
  return status_;
}

void process::kill_hard() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(10s);
  }
}

int process::terminate(std::chrono::milliseconds timeout) {
  if (!running()) {
    return status_;
  }
  ::kill(pid_, SIGTERM);
  int code = wait_exit(timeout);
  if (code < 0) {
    kill_hard();
  }
  return code;
}

run_result run_to_end(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  process p{argv.front(), argv};
  run_result r;
  r.exit_code = p.wait_exit(timeout);
  if (r.exit_code < 0) {
    p.kill_hard();
  }
  // Joining happens in the destructor; read what was collected first.
  r.out = p.recent_output();
  r.err = r.out;
  return r;
}

std::string str(const json::value& ev, const std::string& key) {
  const auto* v = json::find(ev, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
}

double num(const json::value& ev, const std::string& key) {
  const auto* v = json::find(ev, key);
  return v != nullptr && v->is_number() ? v->get<double>() : -1.0;
}

bool flag(const json::value& ev, const std::string& key) {
  const auto* v = json::find(ev, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

const json::array& rows_of(const json::value& ev, const std::string& key) {
  static const json::array none;
  const auto* v = json::find(ev, key);
  return v != nullptr && v->is_array() ? v->get_ref<const json::array&>() : none;
}

void check_ticket(const json::value& t, const std::string& cp, const std::string& driver, double kwh, double price,
                  const std::string& reason) {
  const std::string what = json::dump(t);
  BOOST_TEST(str(t, "cp") == cp, what);
  BOOST_TEST(str(t, "driver") == driver, what);
  BOOST_TEST(num(t, "kwh") == kwh, what);
  BOOST_TEST(num(t, "price") == price, what);
  BOOST_TEST(std::abs(num(t, "amount") - expected_amount(kwh, price)) < 1e-9, what);
  BOOST_TEST(num(t, "end") >= num(t, "start"), what);
  if (!reason.empty()) {
    BOOST_TEST(str(t, "reason").find(reason) != std::string::npos, what << " (reason should say '" << reason << "')");
  }
}

std::vector<cp_spec> three_cps() {
  return {{"ALC1", "Calle Italia 5, Alicante", 0.35}, {"ALC2", "Av. Maisonnave 10, Alicante", 0.42},
          {"MAD1", "Gran Via 1, Madrid", 0.55}};
}

predicate state_of(const std::string& cp, const std::string& state) {
  return event_is("cp_state", {{"cp", cp}, {"state", state}});
}

predicate ticket_for(const std::string& charge_id) { return event_is("ticket", {{"charge_id", charge_id}}); }

std::optional<json::value> listed_row(process& p, const std::string& cp) {
  p.send("list");
  auto cps = p.expect(event_is("cps"), 10s, "cps (answer to list)");
  for (const auto& row : rows_of(cps, "cps")) {
    if (str(row, "cp") == cp) {
      return row;
    }
  }
  return std::nullopt;
}

std::string listed_state(process& p, const std::string& cp) {
  auto row = listed_row(p, cp);
  return row ? str(*row, "state") : "(not listed)";
}

json::value start_charging(process& driver, const std::string& cp, int seconds, double kwh) {
  driver.send("charge " + cp + " " + std::to_string(seconds));
  auto auth = driver.expect(event_is("authorized", {{"cp", cp}}), 15s, "authorized at " + cp);
  driver.expect(event_is("progress", {{"cp", cp}, {"kwh", kwh}}), 15s, "supplying at " + cp);
  return auth;
}

void short_charge(network& net, process& driver, const std::string& driver_id, const std::string& cp, int seconds) {
  driver.send("charge " + cp + " " + std::to_string(seconds));
  driver.expect(event_is("authorized", {{"cp", cp}}), 15s, "authorized at " + cp);
  auto t = driver.expect(event_is("ticket", {{"cp", cp}}), 20s, "ticket at " + cp);
  check_ticket(t, cp, driver_id, seconds, net.price(cp), "completed");
}

// ---- network ---------------------------------------------------------------

network::network(std::vector<cp_spec> cps, std::vector<std::string> drivers)
    : cps_(std::move(cps)), central_port_(free_port(2)) {
  json::array cp_rows;
  for (const auto& cp : cps_) {
    cp_rows.push_back(json::object{{"id", cp.id}, {"location", cp.location}, {"price", cp.price}});
    engine_ports_.emplace_back(cp.id, free_port(1));
  }
  json::array driver_rows;
  for (const auto& d : drivers) {
    driver_rows.push_back(json::object{{"id", d}, {"name", "Driver " + d}});
  }
  {
    std::ofstream out{dir_.file("db.json")};
    out << json::dump(json::object{{"cps", std::move(cp_rows)}, {"drivers", std::move(driver_rows)}});
  }
  // Every test runs with CURVE on: a key pair for Central and for every CP
  // and driver, registered in the store Central will open.
  auto made = run_to_end({program_path("evnet_keys"), "init", "--keys", keys_dir(), "--db", dir_.file("central.db"),
                          "--config", dir_.file("db.json")},
                         60s);
  if (made.exit_code != 0) {
    throw std::runtime_error("evnet_keys init failed: " + made.err + made.out);
  }
}

void network::register_unlisted_key(const std::string& kind, const std::string& id) const {
  auto pair = security::generate_pair();
  const auto name = kind == "cp" ? security::cp_key_name(id) : security::driver_key_name(id);
  if (!pair || !security::save_pair(keys_dir(), name, *pair)) {
    throw std::runtime_error("cannot make a key pair for " + id);
  }
  auto db = store::central_store::open(dir_.file("central.db"));
  if (!db) {
    throw std::runtime_error(db.err().message);
  }
  if (auto st = (*db)->register_key(kind, id, pair->public_key,
                                    domain::audit_entry{now_ms(), "test", "register", {{"id", id}}, "ok"});
      !st) {
    throw std::runtime_error(st.err().message);
  }
}

std::string network::keys_dir() const {
  return dir_.file("keys");
}

std::vector<std::string> network::with_keys(std::vector<std::string> argv) const {
  argv.push_back("--keys");
  argv.push_back(keys_dir());
  return argv;
}

void network::add_key(const std::string& kind, const std::string& id, std::vector<std::string> extra) const {
  std::vector<std::string> argv{program_path("evnet_keys"), "add-" + kind, id};
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (const auto& a : std::vector<std::string>{"--keys", keys_dir(), "--db", dir_.file("central.db"), "--config",
                                                dir_.file("db.json")}) {
    argv.push_back(a);
  }
  auto r = run_to_end(argv, 60s);
  if (r.exit_code != 0) {
    throw std::runtime_error("evnet_keys add-" + kind + " " + id + " failed: " + r.err + r.out);
  }
}

network::~network() {
  for (auto& p : retired_) {
    p->kill_hard();
  }
  for (auto& d : drivers_) {
    d->kill_hard();
  }
  for (auto& [id, m] : monitors_) {
    m->kill_hard();
  }
  for (auto& [id, e] : engines_) {
    e->kill_hard();
  }
  if (central_) {
    central_->kill_hard();
  }
}

process& network::start_central() {
  if (central_) {
    central_->kill_hard();  // a restart: the old one must not hold the port
    retired_centrals_.push_back(central_.get());
    retired_.push_back(std::move(central_));
  }
  central_ = std::make_unique<process>(
      "central", with_keys({program_path("EV_Central"), std::to_string(central_port_), "--headless", "--config",
                                dir_.file("db.json"), "--db", dir_.file("central.db")}));
  central_->expect(event_is("started"), 15s, "started");
  return *central_;
}

std::uint16_t network::engine_port(const std::string& cp_id) const {
  for (const auto& [id, port] : engine_ports_) {
    if (id == cp_id) {
      return port;
    }
  }
  throw std::runtime_error("no such CP in the test network: " + cp_id);
}

double network::price(const std::string& cp_id) const {
  for (const auto& cp : cps_) {
    if (cp.id == cp_id) {
      return cp.price;
    }
  }
  throw std::runtime_error("no such CP in the test network: " + cp_id);
}

namespace {

template <class Vec>
process* find_in(Vec& v, const std::string& id) {
  for (auto& [key, p] : v) {
    if (key == id) {
      return p.get();
    }
  }
  return nullptr;
}

// A restarted component replaces the old one, which is kept (dead) in
// `retired` so that references to it stay valid.
template <class Vec>
void put(Vec& v, const std::string& id, std::unique_ptr<process> p, std::vector<std::unique_ptr<process>>& retired) {
  for (auto& [key, old] : v) {
    if (key == id) {
      old->kill_hard();
      retired.push_back(std::move(old));
      old = std::move(p);
      return;
    }
  }
  v.emplace_back(id, std::move(p));
}

} // namespace

process& network::start_engine(const std::string& cp_id) {
  const auto port = engine_port(cp_id);
  put(engines_, cp_id,
      std::make_unique<process>("engine-" + cp_id,
                                with_keys({program_path("EV_CP_E"), "127.0.0.1", std::to_string(central_port_),
                                           "--cp", cp_id, "--listen", std::to_string(port), "--headless",
                                           "--store", dir_.file("engine-" + cp_id + ".db")})),
      retired_);
  auto& e = engine(cp_id);
  e.expect(event_is("started"), 15s, "started");
  return e;
}

process& network::start_monitor(const std::string& cp_id, const std::vector<std::string>& early_commands) {
  put(monitors_, cp_id,
      std::make_unique<process>("monitor-" + cp_id, monitor_argv(cp_id, cp_id)), retired_);
  auto& m = monitor(cp_id);
  for (const auto& line : early_commands) {
    m.send(line);
  }
  m.expect(event_is("started"), 15s, "started");
  return m;
}

std::vector<std::string> network::monitor_argv(const std::string& engine_cp, const std::string& claimed_id) const {
  return with_keys({program_path("EV_CP_M"), "127.0.0.1", std::to_string(engine_port(engine_cp)), "127.0.0.1",
                    std::to_string(central_port_), claimed_id, "--headless"});
}

process& network::start_cp(const std::string& cp_id) {
  start_engine(cp_id);
  auto& m = start_monitor(cp_id);
  central_->expect(state_of(cp_id, "ACTIVE"), 20s, cp_id + " ACTIVE");
  return m;
}

process& network::start_driver(const std::string& driver_id, std::vector<std::string> extra) {
  auto argv = with_keys({program_path("EV_Driver"), "127.0.0.1", std::to_string(central_port_), driver_id,
                         "--headless"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  drivers_.push_back(std::make_unique<process>("driver-" + driver_id, argv));
  auto& d = *drivers_.back();
  d.expect(event_is("cps"), 20s, "cps (first snapshot)");
  return d;
}

process& network::engine(const std::string& cp_id) {
  auto* p = find_in(engines_, cp_id);
  if (p == nullptr) {
    throw std::runtime_error("engine not started: " + cp_id);
  }
  return *p;
}

process& network::monitor(const std::string& cp_id) {
  auto* p = find_in(monitors_, cp_id);
  if (p == nullptr) {
    throw std::runtime_error("monitor not started: " + cp_id);
  }
  return *p;
}

void network::stop_engine(const std::string& cp_id, bool hard) {
  hard ? engine(cp_id).kill_hard() : (void) engine(cp_id).terminate();
}

void network::stop_monitor(const std::string& cp_id, bool hard) {
  hard ? monitor(cp_id).kill_hard() : (void) monitor(cp_id).terminate();
}

void network::stop_central(bool hard) { hard ? central_->kill_hard() : (void) central_->terminate(); }

std::vector<json::value> network::all_centrals(const predicate& p) {
  std::vector<json::value> out;
  for (auto* c : retired_centrals_) {
    auto some = c->all(p);
    out.insert(out.end(), some.begin(), some.end());
  }
  if (central_) {
    auto some = central_->all(p);
    out.insert(out.end(), some.begin(), some.end());
  }
  return out;
}

} // namespace evnet::testing

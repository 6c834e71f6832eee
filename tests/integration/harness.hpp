#pragma once

// Test harness for integration tests: real processes, real sockets on
// 127.0.0.1, ports the test picks. A `process` runs one evnet program in
// --headless mode, collects its JSON event lines on a reader thread, and
// lets the test wait (always with a bound) for the event it expects.

#include "evnet/json.hpp"

#include <chrono>
#include <condition_variable>
#include <sys/types.h>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace evnet::testing {

using namespace std::chrono_literals;

// Where the built programs are (meson passes EVNET_BUILD_ROOT).
std::string program_path(const std::string& name);

// A scratch directory removed when the object dies.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that is free now, with `span` free ports from it
// (Central needs port and port+1).
std::uint16_t free_port(int span = 1);

using predicate = std::function<bool(const json::value&)>;

// Matches events by name and, optionally, string/number/bool fields.
predicate event_is(std::string name, json::object fields = {});

// Milliseconds since the Unix epoch, the clock of every event's "ts".
std::int64_t now_ms();

// What a ticket must cost: kWh x price in EUR, rounded to the cent, half away
// from zero on the decimal value (computed here independently of the
// programs' billing code, so that a billing bug makes tests fail).
double expected_amount(double kwh, double price);

class process {
public:
  process(std::string name, std::vector<std::string> argv, std::string cwd = {});
  ~process();  // SIGKILL if still running
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

  // Writes one command line to the program's stdin.
  void send(const std::string& line);

  // Waits until an event after the cursor matches; advances the cursor past it.
  // Returns nullopt after `timeout`.
  std::optional<json::value> wait_for(const predicate& p, std::chrono::milliseconds timeout = 15s);
  // As wait_for, but fails the current Boost test with the program's recent output.
  json::value expect(const predicate& p, std::chrono::milliseconds timeout = 15s, const std::string& what = {});
  // As expect, but an event before the cursor counts too (for events whose
  // order relative to others is not defined). Does not move the cursor back.
  json::value expect_ever(const predicate& p, std::chrono::milliseconds timeout = 15s, const std::string& what = {});
  // Every event so far (not only after the cursor) matching p.
  std::vector<json::value> all(const predicate& p);
  // As all(), after waiting (up to `timeout`) until at least `n` match: for
  // counting events another process's event may overtake on its way to us
  // (Central's `ticket` line and the driver's). Asserting the exact count
  // afterwards still catches a duplicate. Does not move the cursor.
  std::vector<json::value> all_once(const predicate& p, std::size_t n, std::chrono::milliseconds timeout = 10s);
  // Moves the cursor to the end: later waits only see new events.
  void skip_to_end();

  void kill_hard();                 // SIGKILL, then reap
  int terminate(std::chrono::milliseconds timeout = 10s);  // SIGTERM; returns exit status (or -1)
  int wait_exit(std::chrono::milliseconds timeout);        // -1 on timeout
  bool running();

  // Raw stdout lines that were not JSON, and stderr, for diagnostics.
  std::string recent_output() const;

private:
  void read_loop(int fd, bool is_stdout);

  std::string name_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::thread out_thread_;
  std::thread err_thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<json::value> events_;
  std::size_t cursor_ = 0;
  std::vector<std::string> noise_;
  bool exited_ = false;
  int status_ = -1;
};

// Runs a program to completion (for --help and bad-argument checks).
struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
run_result run_to_end(std::vector<std::string> argv, std::chrono::milliseconds timeout = 10s);

// A whole network: Central plus N CPs (Engine + Monitor), each headless,
// in a temp dir with its own db.json.
struct cp_spec {
  std::string id;
  std::string location;
  double price;
};

class network {
public:
  explicit network(std::vector<cp_spec> cps, std::vector<std::string> drivers = {"D1", "D2", "D3"});
  ~network();

  // Starting a component that was started before (e.g. after a kill) reuses
  // its port, db and store, and keeps the old process object alive (see
  // retired()), so references a test holds stay valid and its events can
  // still be counted.
  process& start_central();
  process& restart_central() { return start_central(); }
  process& start_engine(const std::string& cp_id);
  // `early_commands` are written to stdin before the Monitor has even
  // started: they reach it before it can have talked to anybody.
  process& start_monitor(const std::string& cp_id, const std::vector<std::string>& early_commands = {});
  process& start_cp(const std::string& cp_id);  // engine + monitor; waits until Central shows it ACTIVE
  process& start_driver(const std::string& driver_id, std::vector<std::string> extra = {});
  // The command line of a Monitor that talks to the Engine of `engine_cp`
  // and claims to be `claimed_id`, for tests that start impostors by hand.
  std::vector<std::string> monitor_argv(const std::string& engine_cp, const std::string& claimed_id) const;

  process& central() { return *central_; }
  process& engine(const std::string& cp_id);
  process& monitor(const std::string& cp_id);
  void stop_engine(const std::string& cp_id, bool hard = true);
  void stop_monitor(const std::string& cp_id, bool hard = true);
  void stop_central(bool hard = true);

  // Events matching p from every Central this network ran, oldest first.
  std::vector<json::value> all_centrals(const predicate& p);
  // Every process replaced by a restart, oldest first.
  const std::vector<std::unique_ptr<process>>& retired() const { return retired_; }

  // The test network's key directory (tools/evnet keys init made it), and
  // argv with "--keys DIR" appended, for programs a test starts by hand.
  std::string keys_dir() const;
  std::vector<std::string> with_keys(std::vector<std::string> argv) const;
  // `evnet_keys add-<kind> ID extra...` on this network's store and keys
  // (kind "cp" or "driver"); throws when it fails.
  void add_key(const std::string& kind, const std::string& id, std::vector<std::string> extra = {}) const;
  // A key pair for `id` (kind "cp" or "driver") registered in the store
  // although the registry has no such CP or driver: what a CP removed from
  // the registry would hold. Its holder is admitted by CURVE, then denied by
  // Central's rules. Central takes it in within a second if it runs.
  void register_unlisted_key(const std::string& kind, const std::string& id) const;

  std::uint16_t central_port() const { return central_port_; }
  std::uint16_t engine_port(const std::string& cp_id) const;
  const temp_dir& dir() const { return dir_; }
  double price(const std::string& cp_id) const;

private:
  temp_dir dir_;
  std::vector<cp_spec> cps_;
  std::uint16_t central_port_;
  std::vector<std::pair<std::string, std::uint16_t>> engine_ports_;
  std::unique_ptr<process> central_;
  std::vector<std::pair<std::string, std::unique_ptr<process>>> engines_;
  std::vector<std::pair<std::string, std::unique_ptr<process>>> monitors_;
  std::vector<std::unique_ptr<process>> drivers_;
  std::vector<std::unique_ptr<process>> retired_;
  std::vector<process*> retired_centrals_;
};

// Field access for events.
std::string str(const json::value& ev, const std::string& key);
double num(const json::value& ev, const std::string& key);
bool flag(const json::value& ev, const std::string& key);
// The array `key` of an event; empty when absent or not an array.
const json::array& rows_of(const json::value& ev, const std::string& key);

// Checks one ticket object (a `ticket` or `finished` event) exactly: CP,
// driver, kWh, price, amount = expected_amount(kWh, price), and the reason
// when one is given (a substring match). Reports through BOOST_TEST.
void check_ticket(const json::value& t, const std::string& cp, const std::string& driver, double kwh, double price,
                  const std::string& reason = {});

// The network most tests run: two CPs in Alicante and one in Madrid, each
// at its own price so that a ticket billed at the wrong CP shows.
std::vector<cp_spec> three_cps();

// A `cp_state` event saying `cp` is in `state`.
predicate state_of(const std::string& cp, const std::string& state);
// The `ticket` event of one charge.
predicate ticket_for(const std::string& charge_id);

// Sends `list` to a Central or a Driver and returns the row of `cp` in the
// answer (nullopt when it is not listed).
std::optional<json::value> listed_row(process& p, const std::string& cp);
// The state of `cp` in that answer, "(not listed)" when it is not there.
std::string listed_state(process& p, const std::string& cp);

// Asks for a charge from a driver and waits until it is authorised and has
// supplied `kwh`, so that what the test does next hits a charge in progress.
// Returns the `authorized` event.
json::value start_charging(process& driver, const std::string& cp, int seconds, double kwh);

// Runs a short charge to the end and checks its ticket exactly: the CP works.
void short_charge(network& net, process& driver, const std::string& driver_id, const std::string& cp, int seconds);

} // namespace evnet::testing

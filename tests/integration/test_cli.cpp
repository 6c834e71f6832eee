// Command lines: --help, wrong arguments, a port already taken; key files
// (a missing one is named, exit 2), --insecure and its warning, --cp, --audit.
#define BOOST_TEST_MODULE integration_cli
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace evnet::testing;

namespace {

// The four programs' command lines, all with `extra` appended: each would
// start (nothing listens at `port`, which is fine) if it had its keys.
std::vector<std::vector<std::string>> every_program(const temp_dir& dir, std::uint16_t port,
                                                    const std::vector<std::string>& extra) {
  const auto p = std::to_string(port);
  const auto engine_listen = std::to_string(free_port(1));
  std::vector<std::vector<std::string>> out = {
      {program_path("EV_Central"), p, "--headless", "--db", dir.file("central.db"), "--config",
       EVNET_SOURCE_ROOT "/config/db.json"},
      {program_path("EV_CP_E"), "127.0.0.1", p, "--cp", "ALC1", "--listen", engine_listen, "--headless", "--store",
       dir.file("engine.db")},
      {program_path("EV_CP_M"), "127.0.0.1", engine_listen, "127.0.0.1", p, "ALC1", "--headless"},
      {program_path("EV_Driver"), "127.0.0.1", p, "D1", "--headless"},
  };
  for (auto& argv : out) {
    argv.insert(argv.end(), extra.begin(), extra.end());
  }
  return out;
}

// Makes the key pairs of config/db.json (Central's, ALC1's, D1's, ...) in
// DIR/keys, as `tools/evnet keys init` does.
std::string make_keys(const temp_dir& dir) {
  auto r = run_to_end({program_path("evnet_keys"), "init", "--keys", dir.file("keys"), "--db", dir.file("keys.db"),
                       "--config", EVNET_SOURCE_ROOT "/config/db.json"},
                      60s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  return dir.file("keys");
}

// Waits (bounded) until the process has written `text` on stdout or stderr.
bool wrote(process& p, const std::string& text, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (p.recent_output().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);  // polling another thread's collected output; bounded
  }
  return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(help_prints_usage_and_exits_zero) {
  for (const auto* prog : {"EV_Central", "EV_CP_E", "EV_CP_M", "EV_Driver", "EV_OCPP"}) {
    auto r = run_to_end({program_path(prog), "--help"});
    BOOST_TEST(r.exit_code == 0, prog);
    BOOST_TEST(r.out.find("usage: " + std::string(prog)) != std::string::npos, prog);
  }
}

BOOST_AUTO_TEST_CASE(wrong_arguments_print_usage_and_exit_two) {
  std::vector<std::vector<std::string>> cases = {
      {program_path("EV_Central")},
      {program_path("EV_Central"), "notaport"},
      {program_path("EV_Central"), "7000", "--bogus"},
      {program_path("EV_CP_E"), "127.0.0.1"},
      {program_path("EV_CP_E"), "127.0.0.1", "7000", "--listen", "99999"},
      {program_path("EV_CP_M"), "127.0.0.1", "6000", "127.0.0.1", "7000"},
      {program_path("EV_CP_M"), "127.0.0.1", "6000", "127.0.0.1", "7000", "bad id"},
      {program_path("EV_Driver"), "127.0.0.1", "7000"},
      {program_path("EV_Driver"), "127.0.0.1", "7000", "D1", "--duration", "-3"},
      {program_path("EV_OCPP")},
      {program_path("EV_OCPP"), "127.0.0.1"},
      {program_path("EV_OCPP"), "127.0.0.1", "7000", "--listen", "99999"},
      {program_path("EV_OCPP"), "127.0.0.1", "7000", "--heartbeat", "0"},
      {program_path("EV_OCPP"), "127.0.0.1", "7000", "--tls-cert", "cert.pem"},
      {program_path("EV_OCPP"), "127.0.0.1", "7000", "--bogus"},
  };
  for (auto& argv : cases) {
    auto r = run_to_end(argv);
    BOOST_TEST(r.exit_code == 2, argv.back());
    BOOST_TEST(r.err.find("usage:") != std::string::npos, argv.back());
  }
}

BOOST_AUTO_TEST_CASE(a_port_already_taken_gives_one_clear_line) {
  temp_dir dir;
  const auto keys = make_keys(dir);
  auto port = free_port(2);
  process first{"central-1", {program_path("EV_Central"), std::to_string(port), "--headless", "--db",
                              dir.file("a.db"), "--config", EVNET_SOURCE_ROOT "/config/db.json", "--keys", keys}};
  first.expect(event_is("started"), 15s, "started");
  auto r = run_to_end({program_path("EV_Central"), std::to_string(port), "--headless", "--db", dir.file("b.db"),
                       "--config", EVNET_SOURCE_ROOT "/config/db.json", "--keys", keys});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("Address already in use") != std::string::npos);
  BOOST_TEST(r.err.find("terminate") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unreachable_central_is_reported_not_fatal) {
  temp_dir dir;
  const auto keys = make_keys(dir);
  auto port = free_port(2);  // nobody listens here
  process driver{"driver",
                 {program_path("EV_Driver"), "127.0.0.1", std::to_string(port), "D1", "--headless", "--keys", keys}};
  auto ev = driver.expect(event_is("central", {{"status", "unreachable"}}), 20s, "unreachable");
  BOOST_TEST(str(ev, "text").find("cannot reach CENTRAL at 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  driver.send("charge ALC1 5");
  auto denied = driver.expect(event_is("denied"), 10s, "denied");
  BOOST_TEST(str(denied, "reason").find("cannot reach CENTRAL") != std::string::npos);
  BOOST_TEST(driver.running());
  driver.send("quit");
  BOOST_TEST(driver.wait_exit(10s) == 0);
}

// ---- issue #8: keys and --insecure -------------------------------------------


BOOST_AUTO_TEST_CASE(a_missing_key_file_is_named_and_exits_two) {
  temp_dir dir;
  const auto port = free_port(2);
  // No key at all: each program names its own pair's file.
  const std::vector<std::string> own{"/central.", "/cp-ALC1.", "/cp-ALC1.", "/driver-D1."};
  const auto empty = dir.file("nokeys");
  auto programs = every_program(dir, port, {"--keys", empty});
  for (std::size_t i = 0; i < programs.size(); ++i) {
    auto r = run_to_end(programs[i]);
    BOOST_TEST(r.exit_code == 2, programs[i][0] << "\n" << r.err);
    BOOST_TEST(r.err.find(empty + own[i]) != std::string::npos, programs[i][0] << " does not name the file:\n" << r.err);
    BOOST_TEST(r.err.find("terminate") == std::string::npos, r.err);
  }

  // Its own pair but not Central's public key: the clients name that file.
  const auto keys = make_keys(dir);
  std::filesystem::remove(keys + "/central.pub");
  programs = every_program(dir, port, {"--keys", keys});
  for (std::size_t i = 1; i < programs.size(); ++i) {
    auto r = run_to_end(programs[i]);
    BOOST_TEST(r.exit_code == 2, programs[i][0] << "\n" << r.err);
    BOOST_TEST(r.err.find(keys + "/central.pub") != std::string::npos, programs[i][0] << ":\n" << r.err);
  }

  // A secret key that others may read is refused, naming the file.
  std::filesystem::permissions(keys + "/driver-D1.key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  auto r = run_to_end(programs[3]);
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(r.err.find(keys + "/driver-D1.key") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(insecure_warns_on_stderr_and_is_the_only_way_without_keys) {
  temp_dir dir;
  const auto port = free_port(2);
  for (auto& argv : every_program(dir, port, {"--insecure", "--keys", dir.file("nokeys")})) {
    process p{argv[0], argv};
    p.expect(event_is("started"), 15s, "started with --insecure");
    BOOST_TEST(wrote(p, "stderr: "), argv[0] << " wrote nothing on stderr\n" << p.recent_output());
    const auto out = p.recent_output();
    bool warned = false;
    std::istringstream lines{out};
    for (std::string line; std::getline(lines, line);) {
      warned = warned || (line.rfind("stderr: ", 0) == 0 && line.find("WARNING") != std::string::npos &&
                          line.find("--insecure") != std::string::npos);
    }
    BOOST_TEST(warned, argv[0] << " printed no --insecure warning on stderr\n" << out);
  }
  // With its keys and without --insecure, no such warning.
  const auto keys = make_keys(dir);
  for (auto& argv : every_program(dir, static_cast<std::uint16_t>(port), {"--keys", keys})) {
    process p{argv[0], argv};
    p.expect(event_is("started"), 15s, "started with keys");
    BOOST_TEST(p.recent_output().find("WARNING: --insecure") == std::string::npos, argv[0]);
  }
}

BOOST_AUTO_TEST_CASE(an_engine_needs_cp_unless_insecure) {
  const auto port = std::to_string(free_port(2));
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {program_path("EV_CP_E"), "127.0.0.1", port, "--headless"},
           {program_path("EV_CP_E"), "127.0.0.1", port, "--listen", "6123", "--headless"},
           {program_path("EV_CP_E"), "127.0.0.1", port, "--cp", "bad id", "--headless"},
           {program_path("EV_CP_E"), "127.0.0.1", port, "--cp", "", "--headless"},
       }) {
    auto r = run_to_end(argv);
    BOOST_TEST(r.exit_code == 2, argv[4]);
    BOOST_TEST(r.err.find("usage:") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("--cp") != std::string::npos, r.err);
  }
}

BOOST_AUTO_TEST_CASE(audit_on_a_new_or_empty_store_prints_no_peer_event_and_exits_zero) {
  temp_dir dir;
  // A store Central made and nothing happened in.
  {
    const auto port = free_port(2);
    process central{"central", {program_path("EV_Central"), std::to_string(port), "--headless", "--insecure", "--db",
                                dir.file("new.db"), "--config", EVNET_SOURCE_ROOT "/config/db.json"}};
    central.expect(event_is("started"), 15s, "started");
    central.send("quit");
    BOOST_TEST(central.wait_exit(10s) == 0);
  }
  auto fresh = run_to_end({program_path("EV_Central"), "--audit", "--db", dir.file("new.db")});
  BOOST_TEST(fresh.exit_code == 0, fresh.err);
  // Whatever a start writes, nothing of a peer: no handshakes, no refusals.
  BOOST_TEST(fresh.out.find("\"auth\"") == std::string::npos, fresh.out);
  BOOST_TEST(fresh.out.find("\"refused\"") == std::string::npos, fresh.out);
  BOOST_TEST(fresh.out.find("stdout: ") == std::string::npos, "a line that is not JSON:\n" << fresh.out);

  // An empty file (an SQLite database with no tables yet).
  { std::ofstream{dir.file("empty.db")}; }
  auto empty = run_to_end({program_path("EV_Central"), "--audit", "--db", dir.file("empty.db")});
  BOOST_TEST(empty.exit_code == 0, empty.err);
  BOOST_TEST(empty.out.find("\"action\"") == std::string::npos, empty.out);
  BOOST_TEST(empty.out.find("terminate") == std::string::npos, empty.out);

  // A store that is not there is a mistaken --db, not an empty trail.
  auto missing = run_to_end({program_path("EV_Central"), "--audit", "--db", dir.file("missing.db")});
  BOOST_TEST(missing.exit_code == 1, missing.err);
  BOOST_TEST(missing.err.find(dir.file("missing.db")) != std::string::npos, missing.err);
  BOOST_TEST(!std::filesystem::exists(dir.file("missing.db")));

  // --audit takes no port; --since goes with --audit only and must be a time.
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {program_path("EV_Central"), "--audit", "7000", "--db", dir.file("new.db")},
           {program_path("EV_Central"), "--audit", "--db", dir.file("new.db"), "--since", "yesterday-ish"},
           {program_path("EV_Central"), "7000", "--since", "2026-11-27"},
       }) {
    auto r = run_to_end(argv);
    BOOST_TEST(r.exit_code == 2, argv.back());
    BOOST_TEST(r.err.find("usage:") != std::string::npos, r.err);
  }
}

// EV_OCPP --audit: the upgrades the gateway refused, from its own store.
BOOST_AUTO_TEST_CASE(gateway_audit_reads_its_store_and_refuses_bad_arguments) {
  temp_dir dir;
  auto missing = run_to_end({program_path("EV_OCPP"), "--audit", "--db", dir.file("missing.db")});
  BOOST_TEST(missing.exit_code == 1, missing.err);
  BOOST_TEST(missing.err.find(dir.file("missing.db")) != std::string::npos, missing.err);
  BOOST_TEST(!std::filesystem::exists(dir.file("missing.db")));
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {program_path("EV_OCPP"), "--audit", "127.0.0.1", "7000", "--db", dir.file("gw.db")},
           {program_path("EV_OCPP"), "--audit", "--db", dir.file("gw.db"), "--since", "yesterday-ish"},
           {program_path("EV_OCPP"), "127.0.0.1", "7000", "--since", "2026-11-27"},
       }) {
    auto r = run_to_end(argv);
    BOOST_TEST(r.exit_code == 2, argv.back());
    BOOST_TEST(r.err.find("usage:") != std::string::npos, r.err);
  }
}

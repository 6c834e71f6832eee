// evnet_keys: makes, registers, lists and revokes the CURVE keys of Central,
// the CPs and the drivers (issue 8). tools/evnet keys ... runs it from the
// repository's root with its defaults.
//
// A key pair on disk (DIR/<name>.pub, DIR/<name>.key) is the truth: the tool
// registers in Central's store every public key the store does not hold or
// holds differently, and makes a pair only where none exists. A revoked key
// is never registered again by `init`; `add-cp`/`add-driver` give a revoked
// CP or driver a new pair. Secret keys are never printed.
//
// Exit codes: 0 done, 1 a file or store error (one line on stderr), 2 bad
// arguments (usage on stderr).

#include "evnet/domain/audit.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/json.hpp"
#include "evnet/security/keys.hpp"
#include "evnet/security/ocpp_password.hpp"
#include "evnet/store/central_store.hpp"
#include "evnet/text.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace evnet;
namespace fs = std::filesystem;

constexpr const char* usage =
    "usage: evnet_keys <command> [--keys DIR] [--db FILE] [--config FILE]\n"
    "\n"
    "  init                          Central's key pair if missing; a pair for every CP and\n"
    "                                driver of the config and of the store that has none;\n"
    "                                registers their public keys (creating the store from\n"
    "                                the config if needed). Running it again changes nothing.\n"
    "  add-cp ID [PRICE LOCATION...] a key pair for CP ID, registered (a new pair if its key\n"
    "                                was revoked); registers the CP too when the store does\n"
    "                                not know it, then PRICE (EUR/kWh) and LOCATION are required\n"
    "  add-driver ID [NAME...]       the same for driver ID\n"
    "  list [--json]                 one line per CP and driver: kind, id, public key, status\n"
    "  revoke ID                     revokes the key of CP or driver ID (also while Central runs)\n"
    "  ocpp-password ID              reads a new OCPP Basic-auth password for CP ID from stdin\n"
    "                                (16 to 40 printable characters, one line) and registers its\n"
    "                                salted hash; init registers the config's ocpp_password\n"
    "\n"
    "  --keys DIR      key directory (default var/keys)\n"
    "  --db FILE       Central's store (default var/central.db)\n"
    "  --config FILE   registry seed (default config/db.json; used when it exists)\n";

constexpr double max_price = 100.0;

[[noreturn]] void exit_usage(const std::string& problem = {}) {
  if (problem.empty()) {
    std::fputs(usage, stdout);
    std::exit(0);
  }
  std::fprintf(stderr, "evnet_keys: %s\n%s", problem.c_str(), usage);
  std::exit(2);
}

int fail(const std::string& text) {
  std::fprintf(stderr, "evnet_keys: %s\n", text.c_str());
  return 1;
}

struct options {
  std::string command;
  std::vector<std::string> positional;
  std::string keys_dir = "var/keys";
  std::string db_path = "var/central.db";
  std::string config_path = "config/db.json";
  bool config_given = false;
  bool json = false;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      exit_usage();
    }
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (arg.starts_with("--")) {
      std::string name(arg.substr(2));
      std::optional<std::string> value;
      if (const auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      }
      if (name != "keys" && name != "db" && name != "config") {
        exit_usage("unknown option --" + printable_id(name));
      }
      if (!value || value->empty()) {
        exit_usage("--" + name + " needs a value");
      }
      if (name == "keys") {
        o.keys_dir = *value;
      } else if (name == "db") {
        o.db_path = *value;
      } else {
        o.config_path = *value;
        o.config_given = true;
      }
      continue;
    }
    if (o.command.empty()) {
      o.command = std::string(arg);
    } else {
      o.positional.emplace_back(arg);
    }
  }
  if (o.command.empty()) {
    exit_usage("expected a command: init, add-cp, add-driver, list, revoke or ocpp-password");
  }
  if (o.json && o.command != "list") {
    exit_usage("--json goes with list");
  }
  return o;
}

std::string join(const std::vector<std::string>& words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (!out.empty()) {
      out += ' ';
    }
    out += words[i];
  }
  return out;
}

void require_safe_id(const std::string& id, const char* what) {
  if (!is_safe_id(id)) {
    exit_usage(std::string("invalid ") + what + " id '" + printable_id(id) +
               "': use 1 to 64 letters, digits, '-', '_' or '.'");
  }
}

std::optional<double> parse_price(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0.0 || v > max_price) {
    return std::nullopt;
  }
  return v;
}

domain::audit_entry tool_entry(const std::string& action, json::object params) {
  return domain::audit_entry{0, "tool", action, std::move(params), "ok"};
}

// The store, opened. `create`: make it (and its directory) when missing and
// add what the config holds that it does not know yet, as Central does at
// start; otherwise a missing store is an error.
evnet::result<std::unique_ptr<store::central_store>> open_store(const options& o, bool create) {
  std::error_code ec;
  const bool existed = fs::exists(o.db_path, ec);
  if (!existed && !create) {
    return error{errc::file, "no store at " + o.db_path + " (create it with: tools/evnet keys init)"};
  }
  if (!existed) {
    const auto parent = fs::path(o.db_path).parent_path();
    if (!parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec) {
        return error{errc::file, "cannot create directory " + parent.string() + ": " + ec.message()};
      }
    }
  }
  auto db = store::central_store::open(o.db_path);
  if (!db) {
    return db.err();
  }
  if (create && (o.config_given || fs::exists(o.config_path, ec))) {
    auto seed = domain::load_seed_file(o.config_path);
    if (!seed) {
      return seed.err();
    }
    auto added = (*db)->seed(*seed);
    if (!added) {
      return added.err();
    }
    if (!existed) {
      std::printf("created the store %s from %s\n", o.db_path.c_str(), o.config_path.c_str());
    } else if (*added > 0) {
      std::printf("added %d CPs and drivers from %s to the store\n", *added, o.config_path.c_str());
    }
  }
  return db;
}

std::string key_name(const std::string& kind, const std::string& id) {
  return kind == "cp" ? security::cp_key_name(id) : security::driver_key_name(id);
}

std::string pair_path(const options& o, const std::string& name) {
  return (fs::path(o.keys_dir) / name).string();
}

// The pair on disk: nullopt when neither file exists; an error when only one
// does or when it is not a valid pair (never overwritten: it may be someone's
// only copy of a secret).
evnet::result<std::optional<security::key_pair>> pair_on_disk(const options& o, const std::string& name) {
  std::error_code ec;
  const bool pub = fs::exists(pair_path(o, name) + ".pub", ec);
  const bool key = fs::exists(pair_path(o, name) + ".key", ec);
  if (!pub && !key) {
    return std::optional<security::key_pair>{};
  }
  auto pair = security::load_pair(o.keys_dir, name);
  if (!pair) {
    return error{errc::file, pair.err().message + "; remove both files of " + pair_path(o, name) +
                                 " to make a new pair"};
  }
  return std::optional<security::key_pair>(std::move(pair).value());
}

evnet::result<security::key_pair> make_pair(const options& o, const std::string& name) {
  auto pair = security::generate_pair();
  if (!pair) {
    return pair.err();
  }
  if (auto saved = security::save_pair(o.keys_dir, name, *pair); !saved) {
    return saved.err();
  }
  return pair;
}

struct tally {
  int made = 0;
  int registered = 0;
  int unchanged = 0;
  int revoked = 0;
};

// Gives CP or driver `id` a registered key: the pair on disk when there is
// one, a new pair otherwise. A revoked identity keeps its revocation unless
// `renew` (add-cp, add-driver): then a pair that is the revoked one is
// replaced by a new one.
evnet::status ensure_key(const options& o, store::central_store& db, const std::map<std::string, store::key_row>& rows,
                         const std::string& kind, const std::string& id, bool renew, tally& t) {
  const auto name = key_name(kind, id);
  const auto path = pair_path(o, name);
  const auto identity = kind + ":" + id;
  const auto row = rows.find(identity);
  const bool revoked = row != rows.end() && row->second.status == "revoked";
  if (revoked && !renew) {
    std::printf("%s %s: key revoked; left as it is (a new pair: tools/evnet keys add-%s %s)\n", kind.c_str(),
                id.c_str(), kind.c_str(), id.c_str());
    ++t.revoked;
    return ok_value;
  }
  auto disk = pair_on_disk(o, name);
  if (!disk) {
    return disk.err();
  }
  std::optional<security::key_pair> pair = std::move(*disk);
  if (pair && revoked && pair->public_key == row->second.public_key) {
    pair.reset();  // the revoked pair itself: replaced below
  }
  bool made = false;
  if (!pair) {
    auto fresh = make_pair(o, name);
    if (!fresh) {
      return fresh.err();
    }
    pair = std::move(fresh).value();
    made = true;
    ++t.made;
  }
  if (row != rows.end() && row->second.public_key == pair->public_key && !revoked) {
    // init stays quiet about what is in place (tools/evnet up runs it every time).
    if (renew) {
      std::printf("%s %s: key %s.pub already registered\n", kind.c_str(), id.c_str(), path.c_str());
    }
    ++t.unchanged;
    return ok_value;
  }
  auto done = db.register_key(kind, id, pair->public_key,
                              tool_entry("register", json::object{{"kind", kind},
                                                                  {"id", id},
                                                                  {"key", pair->public_key},
                                                                  {"replaces", row != rows.end() ? row->second.public_key
                                                                                                 : std::string()}}));
  if (!done) {
    return done;
  }
  ++t.registered;
  if (made) {
    std::printf("%s %s: made key pair %s.{pub,key} and registered it%s\n", kind.c_str(), id.c_str(), path.c_str(),
                revoked ? " (replaces the revoked key)" : "");
  } else {
    std::printf("%s %s: registered %s.pub%s\n", kind.c_str(), id.c_str(), path.c_str(),
                row != rows.end() ? " (replaces the key the store held)" : "");
  }
  return ok_value;
}

evnet::result<std::map<std::string, store::key_row>> key_rows(store::central_store& db) {
  auto rows = db.keys();
  if (!rows) {
    return rows.err();
  }
  std::map<std::string, store::key_row> out;
  for (auto& r : *rows) {
    out.emplace(r.identity, std::move(r));
  }
  return out;
}

// Central's own pair: made when missing; an existing one must be valid.
evnet::status ensure_central(const options& o, tally& t) {
  const auto name = security::central_key_name();
  auto disk = pair_on_disk(o, name);
  if (!disk) {
    return disk.err();
  }
  if (*disk) {
    ++t.unchanged;
    return ok_value;
  }
  auto made = make_pair(o, name);
  if (!made) {
    return made.err();
  }
  ++t.made;
  std::printf("central: made key pair %s.{pub,key}\n", pair_path(o, name).c_str());
  return ok_value;
}

// The config's ocpp_password of every CP that has none registered yet (a
// password set later with ocpp-password is not overwritten by the seed).
status register_seed_passwords(const options& o, store::central_store& db, tally& t) {
  std::error_code ec;
  if (!o.config_given && !fs::exists(o.config_path, ec)) {
    return ok_value;
  }
  auto seed = domain::load_seed_file(o.config_path);
  if (!seed) {
    return seed.err();
  }
  for (const auto& cp : seed->cps) {
    if (cp.ocpp_password.empty()) {
      continue;
    }
    auto stored = db.ocpp_password_hash(cp.id);
    if (!stored) {
      return stored.err();
    }
    if (*stored) {
      continue;
    }
    auto hash = security::hash_ocpp_password(cp.ocpp_password);
    if (!hash) {
      return error{hash.err().code, o.config_path + ": the ocpp_password of CP " + cp.id + ": " + hash.err().message};
    }
    if (auto done = db.set_ocpp_password(cp.id, *hash, tool_entry("ocpp_password", json::object{{"cp", cp.id},
                                                                                            {"from", "config"}}));
        !done) {
      return done;
    }
    ++t.registered;
    std::printf("cp %s: OCPP password registered from %s\n", cp.id.c_str(), o.config_path.c_str());
  }
  return ok_value;
}

int cmd_init(const options& o) {
  if (!o.positional.empty()) {
    exit_usage("init takes no arguments");
  }
  tally t;
  if (auto done = ensure_central(o, t); !done) {
    return fail(done.err().message);
  }
  auto db = open_store(o, true);
  if (!db) {
    return fail(db.err().message);
  }
  auto registry = (*db)->load_registry();
  if (!registry) {
    return fail(registry.err().message);
  }
  auto rows = key_rows(**db);
  if (!rows) {
    return fail(rows.err().message);
  }
  int skipped = 0;
  const auto one = [&](const std::string& kind, const std::string& id) -> bool {
    // The registry accepts ids the key files cannot be named after.
    if (!is_safe_id(id)) {
      std::fprintf(stderr, "evnet_keys: skipped %s '%s': not a safe id (letters, digits, '-', '_', '.')\n",
                   kind.c_str(), printable_id(id).c_str());
      ++skipped;
      return true;
    }
    if (auto done = ensure_key(o, **db, *rows, kind, id, false, t); !done) {
      fail(done.err().message);
      return false;
    }
    return true;
  };
  for (const auto& cp : registry->cps) {
    if (!one("cp", cp.id)) {
      return 1;
    }
  }
  for (const auto& driver : registry->drivers) {
    if (!one("driver", driver.id)) {
      return 1;
    }
  }
  if (auto pw = register_seed_passwords(o, **db, t); !pw) {
    return fail(pw.err().message);
  }
  if (t.made == 0 && t.registered == 0) {
    std::printf("keys: nothing to do; %d pairs in place in %s%s\n", t.unchanged, o.keys_dir.c_str(),
                t.revoked > 0 ? (", " + std::to_string(t.revoked) + " revoked").c_str() : "");
  } else {
    std::printf("keys: %d pairs made, %d keys registered, %d unchanged%s\n", t.made, t.registered, t.unchanged,
                t.revoked > 0 ? (", " + std::to_string(t.revoked) + " revoked").c_str() : "");
  }
  return skipped > 0 ? 1 : 0;
}

int cmd_add(const options& o, const std::string& kind) {
  if (o.positional.empty()) {
    exit_usage("add-" + kind + " needs an ID");
  }
  const auto& id = o.positional.front();
  require_safe_id(id, kind == "cp" ? "CP" : "driver");
  auto db = open_store(o, true);
  if (!db) {
    return fail(db.err().message);
  }
  auto registry = (*db)->load_registry();
  if (!registry) {
    return fail(registry.err().message);
  }
  if (kind == "cp") {
    bool known = false;
    for (const auto& cp : registry->cps) {
      known = known || cp.id == id;
    }
    if (o.positional.size() >= 2) {
      const auto price = parse_price(o.positional[1]);
      if (!price) {
        exit_usage("invalid PRICE '" + printable_id(o.positional[1]) +
                   "': a number of EUR/kWh greater than 0 and at most 100");
      }
      const auto location = join(o.positional, 2);
      if (location.empty()) {
        exit_usage("add-cp " + id + " " + o.positional[1] + " needs a LOCATION");
      }
      auto added = (*db)->add_cp(domain::cp_record{id, location, *price},
                                 tool_entry("register", json::object{{"kind", "cp"},
                                                                     {"id", id},
                                                                     {"price", *price},
                                                                     {"location", location}}));
      if (!added) {
        return fail(added.err().message);
      }
      std::printf("cp %s: %s (%.2f EUR/kWh, %s)\n", id.c_str(), *added ? "registered" : "updated", *price,
                  location.c_str());
    } else if (!known) {
      exit_usage("CP " + id + " is not registered yet: give its PRICE and LOCATION (add-cp " + id +
                 " 0.40 Plaza Mayor 1, Madrid)");
    }
  } else {
    bool known = false;
    for (const auto& driver : registry->drivers) {
      known = known || driver.id == id;
    }
    const auto name = join(o.positional, 1);
    if (!known || !name.empty()) {
      const auto shown = name.empty() ? id : name;
      auto added = (*db)->add_driver(domain::driver_record{id, shown},
                                     tool_entry("register", json::object{{"kind", "driver"}, {"id", id}, {"name", shown}}));
      if (!added) {
        return fail(added.err().message);
      }
      std::printf("driver %s: %s (%s)\n", id.c_str(), *added ? "registered" : "renamed", shown.c_str());
    }
  }
  auto rows = key_rows(**db);
  if (!rows) {
    return fail(rows.err().message);
  }
  tally t;
  if (auto done = ensure_key(o, **db, *rows, kind, id, true, t); !done) {
    return fail(done.err().message);
  }
  return 0;
}

int cmd_list(const options& o) {
  if (!o.positional.empty()) {
    exit_usage("list takes no arguments");
  }
  auto db = open_store(o, false);
  if (!db) {
    return fail(db.err().message);
  }
  auto rows = key_rows(**db);
  if (!rows) {
    return fail(rows.err().message);
  }
  auto registry = (*db)->load_registry();
  if (!registry) {
    return fail(registry.err().message);
  }
  // Registered CPs and drivers without a key are listed too: they cannot connect.
  for (const auto& cp : registry->cps) {
    if (rows->count("cp:" + cp.id) == 0) {
      rows->emplace("cp:" + cp.id, store::key_row{"cp:" + cp.id, "cp", cp.id, "", "no key", 0, 0});
    }
  }
  for (const auto& driver : registry->drivers) {
    if (rows->count("driver:" + driver.id) == 0) {
      rows->emplace("driver:" + driver.id,
                    store::key_row{"driver:" + driver.id, "driver", driver.id, "", "no key", 0, 0});
    }
  }
  for (const auto& [identity, r] : *rows) {
    if (o.json) {
      const auto line = json::dump(json::value(json::object{{"identity", r.identity},
                                                            {"kind", r.kind},
                                                            {"id", r.id},
                                                            {"public_key", r.public_key},
                                                            {"status", r.status},
                                                            {"registered_ms", r.registered_ms},
                                                            {"revoked_ms", r.revoked_ms}}));
      std::printf("%s\n", line.c_str());
    } else {
      std::printf("%-6s %-16s %-40s %s\n", r.kind.c_str(), printable_id(r.id).c_str(),
                  r.public_key.empty() ? "-" : r.public_key.c_str(), r.status.c_str());
    }
  }
  return 0;
}

int cmd_revoke(const options& o) {
  if (o.positional.size() != 1) {
    exit_usage("revoke needs exactly one ID");
  }
  const auto& id = o.positional.front();
  require_safe_id(id, "CP or driver");
  auto db = open_store(o, false);
  if (!db) {
    return fail(db.err().message);
  }
  auto kind = (*db)->revoke(id, tool_entry("revoke", json::object{{"id", id}}));
  if (!kind) {
    return fail(kind.err().message);
  }
  std::printf("%s %s: key revoked\n", kind->c_str(), id.c_str());
  return 0;
}

// One line from stdin (a terminal echoes it; scripts pipe it), without its
// line end.
int cmd_ocpp_password(const options& o) {
  if (o.positional.size() != 1) {
    exit_usage("ocpp-password needs exactly one CP ID (the password comes on stdin)");
  }
  const auto& id = o.positional.front();
  require_safe_id(id, "CP");
  std::string line;
  if (!std::getline(std::cin, line)) {
    return fail("no password on stdin (one line of 16 to 40 printable characters)");
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  auto hash = security::hash_ocpp_password(line);
  if (!hash) {
    return fail(hash.err().message);
  }
  auto db = open_store(o, false);
  if (!db) {
    return fail(db.err().message);
  }
  if (auto done = (*db)->set_ocpp_password(id, *hash, tool_entry("ocpp_password", json::object{{"cp", id},
                                                                                           {"from", "stdin"}}));
      !done) {
    return fail(done.err().message);
  }
  std::printf("cp %s: OCPP password registered\n", id.c_str());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  if (o.command == "init") {
    return cmd_init(o);
  }
  if (o.command == "add-cp") {
    return cmd_add(o, "cp");
  }
  if (o.command == "add-driver") {
    return cmd_add(o, "driver");
  }
  if (o.command == "list") {
    return cmd_list(o);
  }
  if (o.command == "revoke") {
    return cmd_revoke(o);
  }
  if (o.command == "ocpp-password") {
    return cmd_ocpp_password(o);
  }
  exit_usage("unknown command '" + printable_id(o.command) + "'");
}

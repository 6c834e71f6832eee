#include "setup.hpp"

#include "evnet/domain/audit.hpp"
#include "evnet/domain/registry.hpp"
#include "evnet/json.hpp"
#include "evnet/store/central_store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace evnet::fleet {

namespace {

namespace fs = std::filesystem;

double price_of(int i) { return static_cast<double>(30 + i % 10) / 100.0; }

status write_text(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return error{errc::file, "cannot write " + tmp};
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return error{errc::file, "cannot write " + tmp};
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return error{errc::file, "cannot write " + path};
  }
  return ok_value;
}

} // namespace

status write_setup(const setup_settings& s) {
  std::error_code ec;
  fs::create_directories(s.dir, ec);
  if (ec) {
    return error{errc::file, "cannot create " + s.dir + ": " + ec.message()};
  }
  domain::seed seed;
  json::array cp_rows;
  json::array driver_rows;
  for (int i = 0; i < s.cps; ++i) {
    domain::cp_record r{s.names.cp(i), "Fleet street " + std::to_string(i), price_of(i)};
    cp_rows.push_back(json::object{{"id", r.id}, {"location", r.location}, {"price", r.price}});
    seed.cps.push_back(std::move(r));
  }
  for (int i = 0; i < s.drivers; ++i) {
    domain::driver_record r{s.names.driver(i), "Fleet driver " + std::to_string(i)};
    driver_rows.push_back(json::object{{"id", r.id}, {"name", r.name}});
    seed.drivers.push_back(std::move(r));
  }
  const auto doc = json::dump(json::object{{"cps", std::move(cp_rows)}, {"drivers", std::move(driver_rows)}});
  if (auto st = write_text(s.dir + "/db.json", doc + "\n", 0644); !st) {
    return st;
  }
  auto db = store::central_store::open(s.dir + "/central.db");
  if (!db) {
    return db.err();
  }
  if (auto added = (*db)->seed(seed); !added) {
    return added.err();
  }
  if (!s.curve) {
    return ok_value;
  }
  const std::string keys_dir = s.dir + "/keys";
  auto central = security::generate_pair();
  if (!central) {
    return central.err();
  }
  if (auto st = security::save_pair(keys_dir, security::central_key_name(), *central); !st) {
    return st;
  }
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  std::string tsv;
  auto add = [&](const char* kind, const std::string& id) -> status {
    auto kp = security::generate_pair();
    if (!kp) {
      return kp.err();
    }
    rows.emplace_back(kind, id, kp->public_key);
    tsv += std::string(kind) + "\t" + id + "\t" + kp->public_key + "\t" + kp->secret_key + "\n";
    return ok_value;
  };
  for (const auto& cp : seed.cps) {
    if (auto st = add("cp", cp.id); !st) {
      return st;
    }
  }
  for (const auto& d : seed.drivers) {
    if (auto st = add("driver", d.id); !st) {
      return st;
    }
  }
  if (auto st = write_text(keys_dir + "/" + fleet_keys_file, tsv, 0600); !st) {
    return st;
  }
  return (*db)->register_keys(rows, domain::audit_entry{0, "ev_fleet --setup", "register",
                                                        {{"cps", s.cps}, {"drivers", s.drivers}}, "ok"});
}

result<fleet_keys> load_fleet_keys(const std::string& dir, const naming& n, int cps, int drivers) {
  fleet_keys out;
  auto central = security::load_public(dir, security::central_key_name());
  if (!central) {
    return central.err();
  }
  out.central_public = *central;
  const std::string tsv_path = dir + "/" + fleet_keys_file;
  if (struct stat st {}; ::stat(tsv_path.c_str(), &st) == 0) {
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      return error{errc::file, "secret key file " + tsv_path + " is open to group or others; fix it with: chmod 600 " +
                                   tsv_path};
    }
    std::map<std::string, security::key_pair> by_id;  // "cp FC00001" -> pair
    std::ifstream in{tsv_path};
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields{line};
      std::string kind, id;
      security::key_pair kp;
      if (fields >> kind >> id >> kp.public_key >> kp.secret_key && security::is_z85_key(kp.public_key) &&
          security::is_z85_key(kp.secret_key)) {
        by_id[kind + " " + id] = std::move(kp);
      }
    }
    auto take = [&](const std::string& kind, const std::string& id) -> result<security::key_pair> {
      const auto it = by_id.find(kind + " " + id);
      if (it == by_id.end()) {
        return error{errc::file, "no key for " + kind + " " + id + " in " + tsv_path +
                                     " (make the fleet's keys with: ev_fleet --setup DIR --cps N --drivers M)"};
      }
      return it->second;
    };
    for (int i = 0; i < cps; ++i) {
      auto kp = take("cp", n.cp(i));
      if (!kp) {
        return kp.err();
      }
      out.cps.push_back(std::move(*kp));
    }
    for (int i = 0; i < drivers; ++i) {
      auto kp = take("driver", n.driver(i));
      if (!kp) {
        return kp.err();
      }
      out.drivers.push_back(std::move(*kp));
    }
    return out;
  }
  for (int i = 0; i < cps; ++i) {
    auto kp = security::load_pair(dir, security::cp_key_name(n.cp(i)));
    if (!kp) {
      return kp.err();
    }
    out.cps.push_back(std::move(*kp));
  }
  for (int i = 0; i < drivers; ++i) {
    auto kp = security::load_pair(dir, security::driver_key_name(n.driver(i)));
    if (!kp) {
      return kp.err();
    }
    out.drivers.push_back(std::move(*kp));
  }
  return out;
}

} // namespace evnet::fleet

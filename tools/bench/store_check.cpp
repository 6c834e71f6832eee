#include "store_check.hpp"

#include "evnet/store/central_store.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

namespace evnet::bench {

store_check check_store(const std::string& db_path, const std::string& books_dir) {
  store_check out;
  struct supply {
    double kwh = 0;
    double amount = 0;
    bool acked = false;     // Central's record_ack reached the CP
    bool ticketed = false;  // the ticket reached the driver
  };
  std::map<std::pair<std::string, std::string>, supply> supplied;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(books_dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("records-", 0) != 0) {
      continue;
    }
    std::ifstream in{entry.path()};
    for (std::string line; std::getline(in, line);) {
      std::istringstream f{line};
      std::string cp, charge, driver;
      supply s;
      int acked = 0;
      int ticketed = 0;
      if (f >> cp >> charge >> driver >> s.kwh >> s.amount >> acked >> ticketed) {
        s.acked = acked == 1;
        s.ticketed = ticketed == 1;
        supplied[{cp, charge}] = s;
      }
    }
  }
  if (ec) {
    out.problem = "cannot read " + books_dir + ": " + ec.message();
    return out;
  }
  auto db = store::central_store::open(db_path);
  if (!db) {
    out.problem = db.err().message;
    return out;
  }
  auto rows = (*db)->charges();
  if (!rows) {
    out.problem = rows.err().message;
    return out;
  }
  out.ok = true;
  out.supplied = supplied.size();
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& r : *rows) {
    const std::pair<std::string, std::string> key{r.cp_id, r.charge_id};
    ++out.stored;
    if (++seen[key] > 1) {
      ++out.unexpected;  // the same charge twice (the key forbids it; counted all the same)
      continue;
    }
    const auto it = supplied.find(key);
    if (it == supplied.end()) {
      ++out.unexpected;
    } else if (std::fabs(it->second.kwh - r.kwh) > 1e-6 || std::fabs(it->second.amount - r.amount) > 1e-6) {
      ++out.different;
    }
  }
  for (const auto& [key, s] : supplied) {
    const bool stored = seen.count(key) != 0;
    out.missing += stored ? 0 : 1;
    if (s.acked && !stored) {
      ++out.lost;
    } else if (!s.acked || !stored || !s.ticketed) {
      ++out.unsettled;
    }
  }
  return out;
}

} // namespace evnet::bench

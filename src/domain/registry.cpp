#include "evnet/domain/registry.hpp"

#include "evnet/text.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace evnet::domain {

namespace {

constexpr std::size_t max_id_length = 64;
constexpr double max_price = 100.0;

error config_error(std::string message) { return error{errc::config, std::move(message)}; }

// "cps[2] (ALC3)" when the id is usable, "cps[2]" otherwise, so the message
// points at the entry even when its id is the thing that is wrong.
std::string entry_name(std::string_view list, std::size_t index, const json::value& entry) {
  std::string name = std::string(list) + "[" + std::to_string(index) + "]";
  const auto* id = json::find(entry, "id");
  if (id != nullptr && id->is_string() && is_safe_id(id->get_ref<const std::string&>())) {
    name += " (" + id->get<std::string>() + ")";
  }
  return name;
}

// The list named `key`, or nullptr when absent. A present member that is not
// an array is an error: a typo must not silently empty the registry.
result<const json::array*> list_of(const json::value& doc, std::string_view key) {
  const auto* member = json::find(doc, key);
  if (member == nullptr) {
    return static_cast<const json::array*>(nullptr);
  }
  if (!member->is_array()) {
    return config_error("\"" + std::string(key) + "\" must be an array");
  }
  return &member->get_ref<const json::array&>();
}

result<std::string> id_of(const json::value& entry, const std::string& name, std::set<std::string>& seen) {
  const auto* id = json::find(entry, "id");
  // Registered ids travel on the wire and name key files: the protocol's
  // safe alphabet, or the CP or driver could never be heard.
  if (id == nullptr || !id->is_string() || !is_safe_id(id->get_ref<const std::string&>())) {
    return config_error(name + ": id must be 1 to 64 letters, digits, '-', '_' or '.'");
  }
  const auto& text = id->get_ref<const std::string&>();
  if (!seen.insert(text).second) {
    return config_error(name + ": id " + text + " is used twice");
  }
  return text;
}

result<cp_record> parse_cp(const json::value& entry, std::size_t index, std::set<std::string>& seen) {
  const std::string name = entry_name("cps", index, entry);
  if (!entry.is_object()) {
    return config_error(name + ": must be an object");
  }
  auto id = id_of(entry, name, seen);
  if (!id) {
    return id.err();
  }
  const auto* location = json::find(entry, "location");
  if (location == nullptr || !location->is_string() || location->get_ref<const std::string&>().empty()) {
    return config_error(name + ": location must be a non-empty string");
  }
  const auto* price = json::find(entry, "price");
  const double eur = price != nullptr && price->is_number() ? price->get<double>() : 0.0;
  if (!std::isfinite(eur) || eur <= 0.0 || eur > max_price) {
    return config_error(name + ": price must be a number of EUR/kWh greater than 0 and at most 100");
  }
  std::string ocpp_password;
  if (const auto* pw = json::find(entry, "ocpp_password"); pw != nullptr) {
    if (!pw->is_string()) {
      return config_error(name + ": ocpp_password must be a string");
    }
    ocpp_password = pw->get<std::string>();
  }
  return cp_record{std::move(id).value(), location->get<std::string>(), eur, std::move(ocpp_password)};
}

result<driver_record> parse_driver(const json::value& entry, std::size_t index, std::set<std::string>& seen) {
  const std::string name = entry_name("drivers", index, entry);
  if (!entry.is_object()) {
    return config_error(name + ": must be an object");
  }
  auto id = id_of(entry, name, seen);
  if (!id) {
    return id.err();
  }
  const auto* driver_name = json::find(entry, "name");
  if (driver_name == nullptr || !driver_name->is_string()) {
    return config_error(name + ": name must be a string");
  }
  return driver_record{std::move(id).value(), driver_name->get<std::string>()};
}

} // namespace

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > max_id_length) {
    return false;
  }
  for (const char c : id) {
    // Printable ASCII without the space: 0x21 '!' .. 0x7e '~'.
    if (c < '!' || c > '~') {
      return false;
    }
  }
  return true;
}

result<seed> parse_seed(const json::value& doc) {
  if (!doc.is_object()) {
    return config_error("the seed must be a JSON object with \"cps\" and \"drivers\"");
  }
  auto cps = list_of(doc, "cps");
  if (!cps) {
    return cps.err();
  }
  if (*cps == nullptr) {
    return config_error("the seed has no \"cps\" array");
  }
  auto drivers = list_of(doc, "drivers");
  if (!drivers) {
    return drivers.err();
  }

  seed out;
  std::set<std::string> seen_cps;
  for (std::size_t i = 0; i < (*cps)->size(); ++i) {
    auto cp = parse_cp((**cps)[i], i, seen_cps);
    if (!cp) {
      return cp.err();
    }
    out.cps.push_back(std::move(cp).value());
  }
  if (*drivers != nullptr) {
    std::set<std::string> seen_drivers;
    for (std::size_t i = 0; i < (*drivers)->size(); ++i) {
      auto driver = parse_driver((**drivers)[i], i, seen_drivers);
      if (!driver) {
        return driver.err();
      }
      out.drivers.push_back(std::move(driver).value());
    }
  }
  return out;
}

result<seed> load_seed_file(const std::string& path) {
  // A directory opens as a stream and reads as empty: refuse it explicitly.
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return config_error("cannot read the seed file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return config_error("cannot read the seed file " + path);
  }
  auto doc = json::parse(text.str());
  if (!doc) {
    return config_error(path + ": " + doc.err().message);
  }
  auto parsed = parse_seed(*doc);
  if (!parsed) {
    return config_error(path + ": " + parsed.err().message);
  }
  return parsed;
}

} // namespace evnet::domain

#define BOOST_TEST_MODULE domain_registry
#include <boost/test/unit_test.hpp>

#include "evnet/domain/registry.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

namespace json = evnet::json;
using evnet::domain::parse_seed;
using evnet::domain::valid_id;

namespace {

json::value cp(json::value id, json::value location, json::value price) {
  return json::object{{"id", std::move(id)}, {"location", std::move(location)}, {"price", std::move(price)}};
}

json::value driver(json::value id, json::value name) {
  return json::object{{"id", std::move(id)}, {"name", std::move(name)}};
}

json::value doc(json::array cps, json::array drivers) {
  return json::object{{"cps", std::move(cps)}, {"drivers", std::move(drivers)}};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A private directory for files written by one test, removed afterwards.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "evnet-registry-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(ids_are_short_printable_words) {
  BOOST_TEST(valid_id("ALC1"));
  BOOST_TEST(valid_id("D1"));
  BOOST_TEST(valid_id("@ALC1"));
  BOOST_TEST(valid_id("a"));
  BOOST_TEST(valid_id(std::string(64, 'x')));
  BOOST_TEST(!valid_id(std::string(65, 'x')));
  BOOST_TEST(!valid_id(""));
  BOOST_TEST(!valid_id("ALC 1"));
  BOOST_TEST(!valid_id("ALC1\t"));
  BOOST_TEST(!valid_id("ALC1\n"));
  BOOST_TEST(!valid_id(std::string("AL\0C", 4)));
  BOOST_TEST(!valid_id("ALC\x7f"));
  BOOST_TEST(!valid_id("Calle\xC3\xB1"));  // non-ASCII
}

BOOST_AUTO_TEST_CASE(a_valid_seed_is_read_in_order) {
  const auto parsed = parse_seed(doc({cp("ALC1", "C/ Italia 5, Alicante", 0.35), cp("MAD1", "Gran Via 1, Madrid", 1)},
                                     {driver("D1", "Ana"), driver("D2", "Luis")}));
  BOOST_REQUIRE(parsed.ok());
  BOOST_REQUIRE(parsed->cps.size() == 2u);
  BOOST_TEST((parsed->cps[0] == evnet::domain::cp_record{"ALC1", "C/ Italia 5, Alicante", 0.35}));
  BOOST_TEST((parsed->cps[1] == evnet::domain::cp_record{"MAD1", "Gran Via 1, Madrid", 1.0}));
  BOOST_REQUIRE(parsed->drivers.size() == 2u);
  BOOST_TEST((parsed->drivers[0] == evnet::domain::driver_record{"D1", "Ana"}));
  BOOST_TEST((parsed->drivers[1] == evnet::domain::driver_record{"D2", "Luis"}));
}

BOOST_AUTO_TEST_CASE(drivers_may_be_absent_but_cps_may_not) {
  const auto no_drivers = parse_seed(json::object{{"cps", json::array{cp("ALC1", "Alicante", 0.4)}}});
  BOOST_REQUIRE(no_drivers.ok());
  BOOST_TEST(no_drivers->drivers.empty());

  const auto no_cps = parse_seed(json::object{{"drivers", json::array{}}});
  BOOST_REQUIRE(!no_cps.ok());
  BOOST_TEST(no_cps.err().code == evnet::errc::config);
  BOOST_TEST(contains(no_cps.err().message, "cps"));
}

BOOST_AUTO_TEST_CASE(document_shape_errors) {
  for (const json::value& bad : {json::value(json::array{}), json::value(42), json::value(nullptr),
                                 json::value(json::object{{"cps", "ALC1"}}),
                                 json::value(json::object{{"cps", json::array{}}, {"drivers", json::object{}}})}) {
    const auto parsed = parse_seed(bad);
    BOOST_REQUIRE(!parsed.ok());
    BOOST_TEST(parsed.err().code == evnet::errc::config);
  }
}

BOOST_AUTO_TEST_CASE(bad_cp_entries_name_index_and_field) {
  struct bad_case {
    json::value entry;
    std::string index;
    std::string field;
  };
  const bad_case cases[] = {
      {json::value("ALC2"), "cps[1]", "object"},
      {cp("ALC 2", "Alicante", 0.4), "cps[1]", "id"},
      {cp("ALC:2", "Alicante", 0.4), "cps[1]", "id"},  // ids travel on the wire: the safe alphabet only
      {cp("@ALC2", "Alicante", 0.4), "cps[1]", "id"},
      {cp("", "Alicante", 0.4), "cps[1]", "id"},
      {cp(7, "Alicante", 0.4), "cps[1]", "id"},
      {json::object{{"location", "Alicante"}, {"price", 0.4}}, "cps[1]", "id"},
      {cp(std::string(65, 'A'), "Alicante", 0.4), "cps[1]", "id"},
      {cp("ALC2", 5, 0.4), "cps[1] (ALC2)", "location"},
      {cp("ALC2", "", 0.4), "cps[1] (ALC2)", "location"},
      {json::object{{"id", "ALC2"}, {"price", 0.4}}, "cps[1] (ALC2)", "location"},
      {cp("ALC2", "Alicante", 0), "cps[1] (ALC2)", "price"},
      {cp("ALC2", "Alicante", -0.3), "cps[1] (ALC2)", "price"},
      {cp("ALC2", "Alicante", 100.01), "cps[1] (ALC2)", "price"},
      {cp("ALC2", "Alicante", "0.40"), "cps[1] (ALC2)", "price"},
      {cp("ALC2", "Alicante", nullptr), "cps[1] (ALC2)", "price"},
      {json::object{{"id", "ALC2"}, {"location", "Alicante"}}, "cps[1] (ALC2)", "price"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_seed(doc({cp("ALC1", "Alicante", 0.35), c.entry}, {}));
    BOOST_TEST_CONTEXT("expected " << c.index << " / " << c.field) {
      BOOST_REQUIRE(!parsed.ok());
      BOOST_TEST(parsed.err().code == evnet::errc::config);
      BOOST_TEST(contains(parsed.err().message, c.index));
      BOOST_TEST(contains(parsed.err().message, c.field));
    }
  }
}

BOOST_AUTO_TEST_CASE(price_bounds_are_inclusive_of_100_only) {
  BOOST_TEST(parse_seed(doc({cp("A", "x", 100)}, {})).ok());
  BOOST_TEST(parse_seed(doc({cp("A", "x", 0.01)}, {})).ok());
  BOOST_TEST(parse_seed(doc({cp("A", "x", 1e-9)}, {})).ok());
  BOOST_TEST(!parse_seed(doc({cp("A", "x", 100.0000001)}, {})).ok());
}

BOOST_AUTO_TEST_CASE(duplicate_ids_are_rejected) {
  const auto cps = parse_seed(doc({cp("ALC1", "a", 0.3), cp("ALC2", "b", 0.3), cp("ALC1", "c", 0.4)}, {}));
  BOOST_REQUIRE(!cps.ok());
  BOOST_TEST(cps.err().code == evnet::errc::config);
  BOOST_TEST(contains(cps.err().message, "cps[2]"));
  BOOST_TEST(contains(cps.err().message, "ALC1"));

  const auto drivers = parse_seed(doc({}, {driver("D1", "Ana"), driver("D1", "Eva")}));
  BOOST_REQUIRE(!drivers.ok());
  BOOST_TEST(contains(drivers.err().message, "drivers[1]"));

  // A CP and a driver may share an id: they live in different namespaces.
  BOOST_TEST(parse_seed(doc({cp("X1", "a", 0.3)}, {driver("X1", "Xavi")})).ok());
}

BOOST_AUTO_TEST_CASE(bad_driver_entries) {
  const std::pair<json::value, std::string> cases[] = {
      {driver("D 1", "Ana"), "id"},
      {driver("D/1", "Ana"), "id"},
      {driver("D1", 3), "name"},
      {json::object{{"id", "D1"}}, "name"},
      {json::value(1), "object"},
  };
  for (const auto& [entry, field] : cases) {
    const auto parsed = parse_seed(doc({}, {driver("D0", "Eva"), entry}));
    BOOST_REQUIRE(!parsed.ok());
    BOOST_TEST(parsed.err().code == evnet::errc::config);
    BOOST_TEST(contains(parsed.err().message, "drivers[1]"));
    BOOST_TEST(contains(parsed.err().message, field));
  }
}

BOOST_AUTO_TEST_CASE(load_reports_unreadable_files_with_their_path) {
  temp_dir dir;
  const std::string missing = (dir.path / "nope.json").string();
  const auto parsed = evnet::domain::load_seed_file(missing);
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(parsed.err().code == evnet::errc::config);
  BOOST_TEST(contains(parsed.err().message, missing));

  const auto directory = evnet::domain::load_seed_file(dir.path.string());
  BOOST_REQUIRE(!directory.ok());
  BOOST_TEST(directory.err().code == evnet::errc::config);
}

BOOST_AUTO_TEST_CASE(load_reads_and_validates_a_file) {
  temp_dir dir;
  const auto good = dir.write("db.json", R"({"cps": [{"id": "VLC1", "location": "C/ Colon 2, Valencia", "price": 0.42}],
                                              "drivers": [{"id": "D1", "name": "Ana"}]})");
  const auto parsed = evnet::domain::load_seed_file(good);
  BOOST_REQUIRE(parsed.ok());
  BOOST_REQUIRE(parsed->cps.size() == 1u);
  BOOST_TEST(parsed->cps[0].id == "VLC1");
  BOOST_TEST(parsed->cps[0].price == 0.42);

  const auto not_json = evnet::domain::load_seed_file(dir.write("broken.json", "{\"cps\": ["));
  BOOST_REQUIRE(!not_json.ok());
  BOOST_TEST(not_json.err().code == evnet::errc::config);
  BOOST_TEST(contains(not_json.err().message, "broken.json"));

  const auto invalid = evnet::domain::load_seed_file(dir.write("bad.json", R"({"cps": [{"id": "A", "location": "x", "price": 0}]})"));
  BOOST_REQUIRE(!invalid.ok());
  BOOST_TEST(invalid.err().code == evnet::errc::config);
  BOOST_TEST(contains(invalid.err().message, "bad.json"));
  BOOST_TEST(contains(invalid.err().message, "price"));
}

BOOST_AUTO_TEST_CASE(shipped_seed_is_valid_and_realistic) {
  const char* config_dir = std::getenv("EVNET_CONFIG_DIR");
  BOOST_REQUIRE_MESSAGE(config_dir != nullptr, "EVNET_CONFIG_DIR is set by meson");
  const auto parsed = evnet::domain::load_seed_file(std::string(config_dir) + "/db.json");
  BOOST_REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.err().message));
  BOOST_TEST(parsed->cps.size() >= 6u);
  BOOST_TEST(parsed->drivers.size() >= 5u);
  for (const auto& c : parsed->cps) {
    BOOST_TEST_CONTEXT(c.id) {
      BOOST_TEST(c.price >= 0.30);
      BOOST_TEST(c.price <= 0.60);
    }
  }
}

// An OCPP charge point's password may come with the seed (the key tool
// hashes it into the store); it must be a string when present.
BOOST_AUTO_TEST_CASE(a_cp_may_carry_an_ocpp_password) {
  auto with = cp("OC1", "Parking 1", 0.3);
  with["ocpp_password"] = "oc1-secret-password";
  auto wrong = cp("OC2", "Parking 2", 0.3);
  wrong["ocpp_password"] = 12345;
  const auto parsed = parse_seed(doc({with, cp("ALC1", "Alicante", 0.4)}, {}));
  BOOST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->cps[0].ocpp_password == "oc1-secret-password");
  BOOST_TEST(parsed->cps[1].ocpp_password.empty());
  const auto bad = parse_seed(doc({wrong}, {}));
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.err().message.find("ocpp_password must be a string") != std::string::npos);
}

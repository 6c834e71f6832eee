#define BOOST_TEST_MODULE security_keys
#include <boost/test/unit_test.hpp>

#include "evnet/security/keys.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

namespace sec = evnet::security;
namespace fs = std::filesystem;

namespace {

// A private directory per test case, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "evnet-keys-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string dir(const std::string& sub = "keys") const { return (path / sub).string(); }
};

unsigned mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode & 07777);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

sec::key_pair fresh() {
  auto kp = sec::generate_pair();
  BOOST_REQUIRE_MESSAGE(kp.ok(), (kp.ok() ? "" : kp.err().message));
  return std::move(kp).value();
}

} // namespace

BOOST_AUTO_TEST_CASE(generated_pairs_are_z85_and_distinct) {
  const auto a = fresh();
  const auto b = fresh();
  BOOST_TEST(sec::is_z85_key(a.public_key));
  BOOST_TEST(sec::is_z85_key(a.secret_key));
  BOOST_TEST(a.public_key != a.secret_key);
  BOOST_TEST(a.public_key != b.public_key);
  BOOST_TEST(a.secret_key != b.secret_key);
}

BOOST_AUTO_TEST_CASE(public_key_derives_from_secret) {
  const auto kp = fresh();
  auto pub = sec::public_from_secret(kp.secret_key);
  BOOST_REQUIRE(pub.ok());
  BOOST_TEST(*pub == kp.public_key);
  BOOST_TEST(!sec::public_from_secret("short").ok());
  BOOST_TEST(!sec::public_from_secret(std::string(40, ' ')).ok());
}

BOOST_AUTO_TEST_CASE(z85_check) {
  BOOST_TEST(sec::is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"));
  BOOST_TEST(!sec::is_z85_key(""));
  BOOST_TEST(!sec::is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf"));    // 39
  BOOST_TEST(!sec::is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7x"));  // 41
  BOOST_TEST(!sec::is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\""));  // quote
  BOOST_TEST(!sec::is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]y f"));   // space
  BOOST_TEST(!sec::is_z85_key(std::string("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\0", 40)));
}

BOOST_AUTO_TEST_CASE(names_and_identities) {
  BOOST_TEST(sec::central_key_name() == "central");
  BOOST_TEST(sec::cp_key_name("ALC1") == "cp-ALC1");
  BOOST_TEST(sec::driver_key_name("D1") == "driver-D1");
  BOOST_TEST(sec::central_identity() == "central");
  BOOST_TEST(sec::cp_identity("ALC1") == "cp:ALC1");
  BOOST_TEST(sec::driver_identity("D1") == "driver:D1");
}

BOOST_AUTO_TEST_CASE(parse_identity_round_trips_and_refuses_others) {
  using kind = sec::identity::kind;
  auto c = sec::parse_identity("central");
  BOOST_TEST((c.what == kind::central));
  BOOST_TEST(c.id.empty());
  auto cp = sec::parse_identity(sec::cp_identity("ALC1"));
  BOOST_TEST((cp.what == kind::cp));
  BOOST_TEST(cp.id == "ALC1");
  auto d = sec::parse_identity(sec::driver_identity("D1"));
  BOOST_TEST((d.what == kind::driver));
  BOOST_TEST(d.id == "D1");
  for (const char* other : {"", "cp:", "driver:", "cp", "CP:ALC1", "centrals", "driver-D1", "admin:x"}) {
    BOOST_TEST_INFO("user id " << other);
    BOOST_TEST((sec::parse_identity(other).what == kind::none));
  }
}

BOOST_AUTO_TEST_CASE(save_then_load_with_modes) {
  temp_dir t;
  const auto dir = t.dir("var/keys");  // parents are created too
  const auto kp = fresh();
  BOOST_TEST(!sec::pair_exists(dir, "cp-ALC1"));
  auto saved = sec::save_pair(dir, "cp-ALC1", kp);
  BOOST_REQUIRE_MESSAGE(saved.ok(), (saved.ok() ? "" : saved.err().message));
  BOOST_TEST(sec::pair_exists(dir, "cp-ALC1"));
  BOOST_TEST(mode_of(dir) == 0700u);
  BOOST_TEST(mode_of(dir + "/cp-ALC1.key") == 0600u);
  BOOST_TEST(read_all(dir + "/cp-ALC1.pub") == kp.public_key + "\n");
  BOOST_TEST(read_all(dir + "/cp-ALC1.key") == kp.secret_key + "\n");
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
    ++files;
  }
  BOOST_TEST(files == 2);

  auto loaded = sec::load_pair(dir, "cp-ALC1");
  BOOST_REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.err().message));
  BOOST_TEST(loaded->public_key == kp.public_key);
  BOOST_TEST(loaded->secret_key == kp.secret_key);
  auto pub = sec::load_public(dir, "cp-ALC1");
  BOOST_REQUIRE(pub.ok());
  BOOST_TEST(*pub == kp.public_key);
}

BOOST_AUTO_TEST_CASE(secret_is_0600_whatever_the_umask) {
  temp_dir t;
  const auto old = ::umask(0);
  auto saved = sec::save_pair(t.dir(), "central", fresh());
  ::umask(old);
  BOOST_REQUIRE(saved.ok());
  BOOST_TEST(mode_of(t.dir() + "/central.key") == 0600u);
  BOOST_TEST(mode_of(t.dir() + "/central.pub") == 0644u);
}

BOOST_AUTO_TEST_CASE(save_replaces_an_existing_pair) {
  temp_dir t;
  BOOST_REQUIRE(sec::save_pair(t.dir(), "driver-D1", fresh()).ok());
  const auto second = fresh();
  BOOST_REQUIRE(sec::save_pair(t.dir(), "driver-D1", second).ok());
  auto loaded = sec::load_pair(t.dir(), "driver-D1");
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(loaded->public_key == second.public_key);
  BOOST_TEST(mode_of(t.dir() + "/driver-D1.key") == 0600u);
}

BOOST_AUTO_TEST_CASE(save_refuses_an_invalid_pair) {
  temp_dir t;
  BOOST_TEST(!sec::save_pair(t.dir(), "central", sec::key_pair{"x", "y"}).ok());
  BOOST_TEST(!sec::pair_exists(t.dir(), "central"));
}

BOOST_AUTO_TEST_CASE(missing_files_are_named_with_the_fix) {
  temp_dir t;
  auto none = sec::load_pair(t.dir(), "cp-ALC1");
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST((none.err().code == evnet::errc::file));
  BOOST_TEST(none.err().message.find("missing key file " + t.dir() + "/cp-ALC1.key") != std::string::npos);
  BOOST_TEST(none.err().message.find("tools/evnet keys init") != std::string::npos);

  // Only the public half missing.
  BOOST_REQUIRE(sec::save_pair(t.dir(), "cp-ALC1", fresh()).ok());
  fs::remove(t.dir() + "/cp-ALC1.pub");
  BOOST_TEST(!sec::pair_exists(t.dir(), "cp-ALC1"));
  auto half = sec::load_pair(t.dir(), "cp-ALC1");
  BOOST_REQUIRE(!half.ok());
  BOOST_TEST(half.err().message.find("cp-ALC1.pub") != std::string::npos);
  auto pub = sec::load_public(t.dir(), "cp-ALC1");
  BOOST_REQUIRE(!pub.ok());
  BOOST_TEST(pub.err().message.find("missing key file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secret_open_to_others_is_refused) {
  temp_dir t;
  BOOST_REQUIRE(sec::save_pair(t.dir(), "cp-ALC1", fresh()).ok());
  const auto key = t.dir() + "/cp-ALC1.key";
  for (unsigned mode : {0640u, 0604u, 0660u, 0644u, 0610u}) {
    BOOST_TEST_INFO("mode " << std::oct << mode);
    BOOST_REQUIRE(::chmod(key.c_str(), mode) == 0);
    auto loaded = sec::load_pair(t.dir(), "cp-ALC1");
    BOOST_REQUIRE(!loaded.ok());
    BOOST_TEST((loaded.err().code == evnet::errc::file));
    BOOST_TEST(loaded.err().message.find(key) != std::string::npos);
    BOOST_TEST(loaded.err().message.find("chmod 600") != std::string::npos);
  }
  // 0400 (read-only for its owner) is fine.
  BOOST_REQUIRE(::chmod(key.c_str(), 0400) == 0);
  BOOST_TEST(sec::load_pair(t.dir(), "cp-ALC1").ok());
}

BOOST_AUTO_TEST_CASE(garbage_and_mismatched_files_are_refused) {
  temp_dir t;
  const auto a = fresh();
  const auto b = fresh();
  BOOST_REQUIRE(sec::save_pair(t.dir(), "x", a).ok());

  // Not a key.
  write_file(t.dir() + "/x.key", "hello\n", 0600);
  auto bad = sec::load_pair(t.dir(), "x");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.err().message.find("holds no valid key") != std::string::npos);

  // A key followed by more text.
  write_file(t.dir() + "/x.key", a.secret_key + "\n" + a.secret_key + "\n", 0600);
  BOOST_TEST(!sec::load_pair(t.dir(), "x").ok());

  // Huge file.
  write_file(t.dir() + "/x.key", std::string(100000, 'a'), 0600);
  BOOST_TEST(!sec::load_pair(t.dir(), "x").ok());

  // A .pub of another pair.
  write_file(t.dir() + "/x.key", a.secret_key + "\n", 0600);
  write_file(t.dir() + "/x.pub", b.public_key + "\n", 0644);
  auto mismatch = sec::load_pair(t.dir(), "x");
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(mismatch.err().message.find("do not belong together") != std::string::npos);

  // No trailing newline and CRLF are both accepted.
  write_file(t.dir() + "/x.pub", a.public_key, 0644);
  write_file(t.dir() + "/x.key", a.secret_key + "\r\n", 0600);
  BOOST_TEST(sec::load_pair(t.dir(), "x").ok());

  // A directory where a key file should be.
  fs::remove(t.dir() + "/x.pub");
  fs::create_directory(t.dir() + "/x.pub");
  BOOST_TEST(!sec::load_public(t.dir(), "x").ok());
}

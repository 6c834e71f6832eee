#include "evnet/security/keys.hpp"

#include <zmq.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace evnet::security {

namespace {

// The 85 characters ZeroMQ's Z85 uses (RFC 32).
constexpr std::string_view z85_alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

const char* const how_to_make = " (create keys with: tools/evnet keys init)";

std::string path_of(const std::string& dir, const std::string& name, const char* suffix) {
  return (std::filesystem::path(dir) / (name + suffix)).string();
}

std::string system_message(int code) { return std::strerror(code); }

// Reads a whole (small) key file. Its first line, without trailing white
// space, must be one Z85 key; anything after it is refused too, so that a
// file holding something else is never half-trusted.
result<std::string> read_key_file(const std::string& path, bool secret) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int code = errno;
    if (code == ENOENT) {
      return error{errc::file, "missing key file " + path + how_to_make};
    }
    return error{errc::file, "cannot read key file " + path + ": " + system_message(code)};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return error{errc::file, "key file " + path + " is not a regular file"};
  }
  if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    ::close(fd);
    return error{errc::file, "secret key file " + path + " is open to group or others (mode " + mode +
                                 "); fix it with: chmod 600 " + path};
  }
  // A key file is 41 bytes; anything much larger is not one of ours.
  std::array<char, 256> buf{};
  std::size_t size = 0;
  for (;;) {
    const auto n = ::read(fd, buf.data() + size, buf.size() - size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int code = errno;
      ::close(fd);
      return error{errc::file, "cannot read key file " + path + ": " + system_message(code)};
    }
    if (n == 0) {
      break;
    }
    size += static_cast<std::size_t>(n);
    if (size == buf.size()) {
      ::close(fd);
      return error{errc::file, "key file " + path + " holds no valid key (too long)" + how_to_make};
    }
  }
  ::close(fd);
  std::string_view text(buf.data(), size);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (!is_z85_key(text)) {
    return error{errc::file, "key file " + path + " holds no valid key" + how_to_make};
  }
  return std::string(text);
}

// Writes `text` to `path` through a temporary file in the same directory,
// created with O_EXCL and `mode` (so a secret is never briefly readable),
// synced, then renamed over `path`.
status write_atomically(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(temp.c_str());  // a leftover of a crashed run with the same pid
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return error{errc::file, "cannot create " + temp + ": " + system_message(errno)};
  }
  // The umask may have taken bits away; never added any. Set exactly.
  if (::fchmod(fd, mode) != 0) {
    const int code = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return error{errc::file, "cannot set the mode of " + temp + ": " + system_message(code)};
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int code = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return error{errc::file, "cannot write " + temp + ": " + system_message(code)};
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int code = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return error{errc::file, "cannot sync " + temp + ": " + system_message(code)};
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int code = errno;
    ::unlink(temp.c_str());
    return error{errc::file, "cannot rename " + temp + " to " + path + ": " + system_message(code)};
  }
  return ok_value;
}

status make_key_dir(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path p(dir);
  if (std::filesystem::is_directory(p, ec)) {
    return ok_value;
  }
  if (p.has_parent_path() && !p.parent_path().empty()) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      return error{errc::file, "cannot create directory " + p.parent_path().string() + ": " + ec.message()};
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return error{errc::file, "cannot create key directory " + dir + ": " + system_message(errno)};
  }
  return ok_value;
}

} // namespace

result<key_pair> generate_pair() {
  std::array<char, z85_key_size + 1> pub{};
  std::array<char, z85_key_size + 1> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return error{errc::config, std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno())};
  }
  return key_pair{std::string(pub.data(), z85_key_size), std::string(sec.data(), z85_key_size)};
}

bool is_z85_key(std::string_view s) {
  if (s.size() != z85_key_size) {
    return false;
  }
  for (const char c : s) {
    if (z85_alphabet.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

result<std::string> public_from_secret(std::string_view secret_key) {
  if (!is_z85_key(secret_key)) {
    return error{errc::config, "not a Z85 CURVE secret key"};
  }
  const std::string secret(secret_key);
  std::array<char, z85_key_size + 1> pub{};
  if (zmq_curve_public(pub.data(), secret.c_str()) != 0) {
    return error{errc::config, std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno())};
  }
  return std::string(pub.data(), z85_key_size);
}

std::string central_key_name() { return "central"; }
std::string cp_key_name(std::string_view cp_id) { return "cp-" + std::string(cp_id); }
std::string driver_key_name(std::string_view driver_id) { return "driver-" + std::string(driver_id); }

std::string central_identity() { return "central"; }
std::string cp_identity(std::string_view cp_id) { return "cp:" + std::string(cp_id); }
std::string driver_identity(std::string_view driver_id) { return "driver:" + std::string(driver_id); }

identity parse_identity(std::string_view user_id) {
  if (user_id == "central") {
    return identity{identity::kind::central, {}};
  }
  constexpr std::string_view cp_prefix = "cp:";
  constexpr std::string_view driver_prefix = "driver:";
  if (user_id.starts_with(cp_prefix) && user_id.size() > cp_prefix.size()) {
    return identity{identity::kind::cp, std::string(user_id.substr(cp_prefix.size()))};
  }
  if (user_id.starts_with(driver_prefix) && user_id.size() > driver_prefix.size()) {
    return identity{identity::kind::driver, std::string(user_id.substr(driver_prefix.size()))};
  }
  return identity{};
}

result<key_pair> load_pair(const std::string& dir, const std::string& name) {
  const auto pub_path = path_of(dir, name, ".pub");
  const auto key_path = path_of(dir, name, ".key");
  auto secret = read_key_file(key_path, true);
  if (!secret) {
    return secret.err();
  }
  auto pub = read_key_file(pub_path, false);
  if (!pub) {
    return pub.err();
  }
  // A .pub that does not belong to its .key would make peers admit one key
  // while we present another: refuse the pair rather than fail obscurely later.
  auto derived = public_from_secret(*secret);
  if (!derived) {
    return error{errc::file, "key file " + key_path + " holds no valid key" + how_to_make};
  }
  if (*derived != *pub) {
    return error{errc::file, "key files " + pub_path + " and " + key_path + " do not belong together" + how_to_make};
  }
  return key_pair{std::move(pub).value(), std::move(secret).value()};
}

result<std::string> load_public(const std::string& dir, const std::string& name) {
  return read_key_file(path_of(dir, name, ".pub"), false);
}

bool pair_exists(const std::string& dir, const std::string& name) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path_of(dir, name, ".pub"), ec) &&
         std::filesystem::is_regular_file(path_of(dir, name, ".key"), ec);
}

status save_pair(const std::string& dir, const std::string& name, const key_pair& kp) {
  if (!is_z85_key(kp.public_key) || !is_z85_key(kp.secret_key)) {
    return error{errc::config, "refusing to save an invalid key pair for " + name};
  }
  if (auto made = make_key_dir(dir); !made) {
    return made;
  }
  // The secret first: a crash between the two leaves a .key without a .pub,
  // which load_pair reports, never a .pub whose secret is gone.
  if (auto done = write_atomically(path_of(dir, name, ".key"), kp.secret_key + "\n", 0600); !done) {
    return done;
  }
  return write_atomically(path_of(dir, name, ".pub"), kp.public_key + "\n", 0644);
}

} // namespace evnet::security

// Writes the fuzz seed corpus: one realistic encoded frame per message type,
// named after the type, into the directory given as the only argument.
// Seeds that already decode let libFuzzer start inside every body decoder
// instead of spending its budget rediscovering the envelope.

#include "evnet/protocol.hpp"
#include "sample_messages.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace fs = std::filesystem;
namespace s = evnet::protocol::samples;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "make_corpus: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  int failures = 0;
  int written = 0;
  s::for_each_type([&]<class T>(std::type_identity<T>) {
    const std::string frame = evnet::protocol::encode(s::sample_message<T>());
    const fs::path file = dir / (std::string(T::name) + ".msgpack");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "make_corpus: cannot write %s\n", file.c_str());
      ++failures;
    } else {
      ++written;
    }
  });
  std::printf("make_corpus: wrote %d frames to %s\n", written, dir.c_str());
  return failures == 0 ? 0 : 1;
}

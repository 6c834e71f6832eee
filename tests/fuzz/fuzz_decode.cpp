// libFuzzer target for protocol::decode, the only door from network bytes
// into the system. Besides "never crash", it checks that whatever decode
// accepts survives encode/decode unchanged: a frame that decodes differently
// the second time would let two peers disagree about the same message.

#include "evnet/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_decode: %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto first = evnet::protocol::decode(data, size);
  if (!first.ok()) {
    if (evnet::to_string(first.err().code) == "?" || first.err().message.empty()) {
      fail("error without a known code or a message");
    }
    return 0;
  }
  const std::string once = evnet::protocol::encode(*first);
  const auto second = evnet::protocol::decode(once);
  if (!second.ok()) {
    fail("an accepted message does not decode after re-encoding");
  }
  if (evnet::protocol::encode(*second) != once) {
    fail("encode/decode is not stable");
  }
  return 0;
}

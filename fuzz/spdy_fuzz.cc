// SPDY/3.1 frames as a streaming client sends them (kubectl, client-go), fed in
// arbitrary pieces: frames come out or the reader says the stream is malformed.
#include <cstddef>
#include <cstdint>

#include "streaming/spdy/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  berth::streaming::spdy::FrameReader reader;
  size_t at = 0;
  while (at < size) {
    // The first byte of each piece is its length.
    size_t length = std::min<size_t>(data[at], size - at - 1);
    reader.Feed(absl::string_view(reinterpret_cast<const char*>(data) + at + 1, length));
    at += 1 + length;
    for (;;) {
      auto frame = reader.Next();
      if (!frame.ok()) return 0;  // the connection would end here
      if (!frame->has_value()) break;
    }
  }
  return 0;
}

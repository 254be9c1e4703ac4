// What a streaming client (kubectl, client-go) sends, fed in arbitrary pieces:
// SPDY/3.1 frames, which come out or the reader says the stream is malformed, and
// the bytes of a terminal's resize stream, which give sizes or nothing.
#include <cstddef>
#include <cstdint>

#include "streaming/resize_events.h"
#include "streaming/spdy/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  berth::streaming::spdy::FrameReader reader;
  berth::streaming::ResizeEvents resizes;
  bool frames_ok = true;
  size_t at = 0;
  while (at < size) {
    // The first byte of each piece is its length.
    size_t length = std::min<size_t>(data[at], size - at - 1);
    std::string_view piece(reinterpret_cast<const char*>(data) + at + 1, length);
    at += 1 + length;
    (void)resizes.Feed(piece);
    if (!frames_ok) continue;
    reader.Feed(absl::string_view(piece.data(), piece.size()));
    for (;;) {
      auto frame = reader.Next();
      if (!frame.ok()) {
        frames_ok = false;  // the connection would end here
        break;
      }
      if (!frame->has_value()) break;
    }
  }
  return 0;
}

// What reaches a container's shim from an attach client (frames of stdin, resizes,
// closes), and the exit records berthd reads back from shims of any version.
#include <cstddef>
#include <cstdint>

#include "pods/shim/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  berth::pods::shim::AttachFrameReader reader;
  reader.Feed(bytes);
  while (auto frame = reader.Next()) {
    uint16_t width = 0, height = 0;
    if (frame->first == berth::pods::shim::AttachFrame::kResize) {
      (void)berth::pods::shim::DecodeTerminalSize(frame->second, &width, &height);
    }
  }
  (void)berth::pods::shim::ParseExitRecord(bytes);
  (void)berth::pods::shim::ParseControl(bytes);
  (void)berth::pods::shim::ParseReadyReply(bytes);
  return 0;
}

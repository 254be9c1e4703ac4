// NRI's multiplexer: one unix socket between berthd and a plugin carries two ttrpc
// byte streams, told apart by a connection id. On connection 1 the plugin serves
// (berthd calls its Plugin service); on connection 2 berthd serves (the plugin
// calls RegisterPlugin and UpdateContainers). A frame is the id (u32, big-endian),
// a length (u32) and that many bytes of the connection's stream; frames are not
// aligned to ttrpc messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace berth::nri {

enum class MuxConnection : uint32_t { kPluginService = 1, kRuntimeService = 2 };

inline constexpr size_t kMuxHeaderBytes = 8;
// The most a frame carries: a whole ttrpc message of the largest size (NRI's
// writer splits there too).
inline constexpr size_t kMuxMaxFrame = 10 + (4 << 20);

// The frames that carry `bytes` on `connection`, split at kMuxMaxFrame.
std::string EncodeMuxFrames(MuxConnection connection, std::string_view bytes);

struct MuxFrame {
  uint32_t connection = 0;
  std::string data;
};

// Frames out of the socket's byte stream as it arrives.
class MuxReader {
 public:
  void Feed(std::string_view bytes);
  // The next whole frame; nullopt when more bytes are needed; INVALID_ARGUMENT for
  // a frame longer than any writer sends, after which the socket must be closed.
  StatusOr<std::optional<MuxFrame>> Next();

 private:
  std::string buffer_;
  size_t offset_ = 0;
};

}  // namespace berth::nri

// SPDY/3.1 frames, the subset a CRI streaming server needs (see
// docs/ARCHITECTURE.md, "Streaming"): every frame type is read; SETTINGS,
// WINDOW_UPDATE and HEADERS are read and ignored (Kubernetes' SPDY peers never
// send them and do no flow control); SYN_REPLY, DATA, RST_STREAM, PING and GOAWAY
// are written, and SYN_STREAM too, for clients and tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "streaming/spdy/header_block.h"

namespace berth::streaming::spdy {

// RST_STREAM status codes.
enum class RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kCancel = 5,
  kInternalError = 6,
};

// GOAWAY status codes.
enum class GoAwayStatus : uint32_t { kOk = 0, kProtocolError = 1, kInternalError = 2 };

struct DataFrame {
  uint32_t stream_id = 0;
  bool fin = false;
  std::string data;
};
struct SynStream {
  uint32_t stream_id = 0;
  uint32_t associated_stream_id = 0;
  bool fin = false;
  Headers headers;
};
struct SynReply {
  uint32_t stream_id = 0;
  bool fin = false;
  Headers headers;
};
struct RstStream {
  uint32_t stream_id = 0;
  uint32_t status = 0;
};
struct Ping {
  uint32_t id = 0;
};
struct GoAway {
  uint32_t last_good_stream_id = 0;
  uint32_t status = 0;
};
// SETTINGS, WINDOW_UPDATE, HEADERS and control types SPDY/3 does not define.
struct IgnoredFrame {
  uint16_t type = 0;
};

using Frame = std::variant<DataFrame, SynStream, SynReply, RstStream, Ping, GoAway, IgnoredFrame>;

// The largest DATA payload the writer puts in one frame (callers split larger
// writes; the Go peer writes in io.Copy-sized chunks too).
inline constexpr size_t kMaxDataPayload = 32 * 1024;

// Frames out of a byte stream, as it arrives.
class FrameReader {
 public:
  void Feed(absl::string_view bytes);
  // The next whole frame; nullopt when more bytes are needed; an error for a
  // malformed frame, after which the connection must end.
  StatusOr<std::optional<Frame>> Next();
  // Bytes received and not yet made into frames.
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  HeaderDecoder headers_;
};

// Frames as bytes; header blocks continue one compression context.
class FrameWriter {
 public:
  std::string Data(uint32_t stream_id, absl::string_view data, bool fin);
  StatusOr<std::string> SynStream(uint32_t stream_id, const Headers& headers, bool fin);
  StatusOr<std::string> SynReply(uint32_t stream_id, const Headers& headers, bool fin);
  std::string RstStream(uint32_t stream_id, RstStatus status);
  std::string Ping(uint32_t id);
  std::string GoAway(uint32_t last_good_stream_id, GoAwayStatus status);

 private:
  HeaderEncoder headers_;
};

}  // namespace berth::streaming::spdy

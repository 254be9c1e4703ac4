// ttrpc's framing, as containerd's ttrpc (v1.2) puts messages on a byte stream:
// a 10-byte header, length (u32, big-endian), stream id (u32), type (u8) and flags
// (u8), then `length` bytes of protobuf. NRI speaks only unary calls: a Request
// on an odd stream id, answered by one Response on the same id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace berth::nri {

enum class TtrpcMessageType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

inline constexpr size_t kTtrpcHeaderBytes = 10;
// The largest payload ttrpc sends or accepts (4 MiB).
inline constexpr size_t kTtrpcMaxPayload = 4 << 20;

struct TtrpcMessage {
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  std::string payload;
  // The peer sent more than kTtrpcMaxPayload: the payload was skipped, and the
  // stream is answered RESOURCE_EXHAUSTED, as ttrpc does, without ending the connection.
  bool oversized = false;
};

// The header and payload of one message; the caller keeps payloads within
// kTtrpcMaxPayload.
std::string EncodeTtrpcMessage(uint32_t stream_id, TtrpcMessageType type, uint8_t flags, std::string_view payload);

// Messages out of one direction of a ttrpc byte stream, fed as it arrives in
// pieces of any size.
class TtrpcMessageReader {
 public:
  void Feed(std::string_view bytes);
  // The next whole message, or nullopt when more bytes are needed.
  std::optional<TtrpcMessage> Next();

 private:
  std::string buffer_;
  size_t offset_ = 0;
  // Bytes of an oversized payload still to skip as they arrive.
  size_t skipping_ = 0;
};

}  // namespace berth::nri

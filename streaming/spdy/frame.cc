#include "streaming/spdy/frame.h"

#include "absl/strings/str_cat.h"
#include "base/big_endian.h"

namespace berth::streaming::spdy {
namespace {

constexpr uint16_t kVersion = 3;
constexpr uint8_t kFlagFin = 0x01;
constexpr size_t kHeaderSize = 8;
// Control frames carry a few headers at most; DATA may be as long as the 24-bit
// length allows.
constexpr uint32_t kMaxControlLength = 256 * 1024;

enum ControlType : uint16_t {
  kSynStreamType = 1,
  kSynReplyType = 2,
  kRstStreamType = 3,
  kPingType = 6,
  kGoAwayType = 7,
};

// The 8-byte header of a control frame.
std::string ControlHeader(uint16_t type, uint8_t flags, uint32_t length) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | (kVersion >> 8)));
  out.push_back(static_cast<char>(kVersion & 0xff));
  out.push_back(static_cast<char>(type >> 8));
  out.push_back(static_cast<char>(type & 0xff));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
  return out;
}

Status Malformed(absl::string_view what) { return absl::InvalidArgumentError(absl::StrCat("SPDY: ", what)); }

}  // namespace

void FrameReader::Feed(absl::string_view bytes) {
  // Drop what was consumed before growing, so the buffer holds at most a frame
  // and what came after it.
  if (offset_ > 0 && offset_ >= buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

StatusOr<std::optional<Frame>> FrameReader::Next() {
  absl::string_view in(buffer_);
  in.remove_prefix(offset_);
  if (in.size() < kHeaderSize) return std::optional<Frame>();
  const bool control = (static_cast<uint8_t>(in[0]) & 0x80) != 0;
  const uint8_t flags = static_cast<uint8_t>(in[4]);
  const uint32_t length = ReadBigEndian32(in, 4) & 0xffffff;
  if (control && length > kMaxControlLength) return Malformed("control frame too long");
  if (in.size() < kHeaderSize + length) return std::optional<Frame>();
  absl::string_view payload = in.substr(kHeaderSize, length);
  offset_ += kHeaderSize + length;
  if (!control) {
    DataFrame data;
    data.stream_id = ReadBigEndian32(in, 0) & 0x7fffffff;
    data.fin = (flags & kFlagFin) != 0;
    data.data = std::string(payload);
    return std::optional<Frame>(std::move(data));
  }
  // The version is not checked: the Go peer does not check it either.
  const uint16_t type = static_cast<uint16_t>((static_cast<uint8_t>(in[2]) << 8) | static_cast<uint8_t>(in[3]));
  switch (type) {
    case kSynStreamType: {
      if (length < 10) return Malformed("short SYN_STREAM");
      SynStream syn;
      syn.stream_id = ReadBigEndian32(payload, 0) & 0x7fffffff;
      syn.associated_stream_id = ReadBigEndian32(payload, 4) & 0x7fffffff;
      syn.fin = (flags & kFlagFin) != 0;
      ASSIGN_OR_RETURN(syn.headers, headers_.Decode(payload.substr(10)));
      return std::optional<Frame>(std::move(syn));
    }
    case kSynReplyType: {
      if (length < 4) return Malformed("short SYN_REPLY");
      SynReply reply;
      reply.stream_id = ReadBigEndian32(payload, 0) & 0x7fffffff;
      reply.fin = (flags & kFlagFin) != 0;
      ASSIGN_OR_RETURN(reply.headers, headers_.Decode(payload.substr(4)));
      return std::optional<Frame>(std::move(reply));
    }
    case kRstStreamType:
      if (length != 8) return Malformed("RST_STREAM of the wrong length");
      return std::optional<Frame>(
          RstStream{ReadBigEndian32(payload, 0) & 0x7fffffff, ReadBigEndian32(payload, 4)});
    case kPingType:
      if (length != 4) return Malformed("PING of the wrong length");
      return std::optional<Frame>(Ping{ReadBigEndian32(payload, 0)});
    case kGoAwayType:
      if (length < 4) return Malformed("short GOAWAY");
      return std::optional<Frame>(
          GoAway{ReadBigEndian32(payload, 0) & 0x7fffffff, length >= 8 ? ReadBigEndian32(payload, 4) : 0});
    case 8:  // HEADERS: its block continues the compression context, so it is decoded
      if (length < 4) return Malformed("short HEADERS");
      RETURN_IF_ERROR(headers_.Decode(payload.substr(4)).status());
      return std::optional<Frame>(IgnoredFrame{type});
    default:
      return std::optional<Frame>(IgnoredFrame{type});
  }
}

std::string FrameWriter::Data(uint32_t stream_id, absl::string_view data, bool fin) {
  std::string out;
  AppendBigEndian32(out, stream_id & 0x7fffffff);
  AppendBigEndian32(out,
                    (static_cast<uint32_t>(fin ? kFlagFin : 0) << 24) | static_cast<uint32_t>(data.size() & 0xffffff));
  out.append(data.data(), data.size());
  return out;
}

StatusOr<std::string> FrameWriter::SynStream(uint32_t stream_id, const Headers& headers, bool fin) {
  ASSIGN_OR_RETURN(std::string block, headers_.Encode(headers));
  std::string out = ControlHeader(kSynStreamType, fin ? kFlagFin : 0, static_cast<uint32_t>(10 + block.size()));
  AppendBigEndian32(out, stream_id & 0x7fffffff);
  AppendBigEndian32(out, 0);  // no associated stream
  out.append(2, '\0');        // priority 0, slot 0
  return out + block;
}

StatusOr<std::string> FrameWriter::SynReply(uint32_t stream_id, const Headers& headers, bool fin) {
  ASSIGN_OR_RETURN(std::string block, headers_.Encode(headers));
  std::string out = ControlHeader(kSynReplyType, fin ? kFlagFin : 0, static_cast<uint32_t>(4 + block.size()));
  AppendBigEndian32(out, stream_id & 0x7fffffff);
  return out + block;
}

std::string FrameWriter::RstStream(uint32_t stream_id, RstStatus status) {
  std::string out = ControlHeader(kRstStreamType, 0, 8);
  AppendBigEndian32(out, stream_id & 0x7fffffff);
  AppendBigEndian32(out, static_cast<uint32_t>(status));
  return out;
}

std::string FrameWriter::Ping(uint32_t id) {
  std::string out = ControlHeader(kPingType, 0, 4);
  AppendBigEndian32(out, id);
  return out;
}

std::string FrameWriter::GoAway(uint32_t last_good_stream_id, GoAwayStatus status) {
  std::string out = ControlHeader(kGoAwayType, 0, 8);
  AppendBigEndian32(out, last_good_stream_id & 0x7fffffff);
  AppendBigEndian32(out, static_cast<uint32_t>(status));
  return out;
}

}  // namespace berth::streaming::spdy

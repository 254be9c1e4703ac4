#include "nri/ttrpc_message.h"

#include <algorithm>

#include "base/big_endian.h"

namespace berth::nri {

std::string EncodeTtrpcMessage(uint32_t stream_id, TtrpcMessageType type, uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(kTtrpcHeaderBytes + payload.size());
  AppendBigEndian32(out, static_cast<uint32_t>(payload.size()));
  AppendBigEndian32(out, stream_id);
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  out.append(payload);
  return out;
}

void TtrpcMessageReader::Feed(std::string_view bytes) {
  if (skipping_ > 0) {
    size_t skipped = std::min(skipping_, bytes.size());
    skipping_ -= skipped;
    bytes.remove_prefix(skipped);
  }
  buffer_.append(bytes);
}

std::optional<TtrpcMessage> TtrpcMessageReader::Next() {
  if (skipping_ > 0 || buffer_.size() - offset_ < kTtrpcHeaderBytes) return std::nullopt;
  const char* header = buffer_.data() + offset_;
  uint32_t length = ReadBigEndian32(buffer_, offset_);
  TtrpcMessage message;
  message.stream_id = ReadBigEndian32(buffer_, offset_ + 4);
  message.type = static_cast<uint8_t>(header[8]);
  message.flags = static_cast<uint8_t>(header[9]);
  if (length > kTtrpcMaxPayload) {
    // Skip what is here of the payload now and the rest as it comes; the message
    // is reported at once, so its stream can be answered.
    size_t here = std::min<size_t>(length, buffer_.size() - offset_ - kTtrpcHeaderBytes);
    offset_ += kTtrpcHeaderBytes + here;
    skipping_ = length - here;
    message.oversized = true;
  } else {
    if (buffer_.size() - offset_ - kTtrpcHeaderBytes < length) return std::nullopt;
    message.payload.assign(header + kTtrpcHeaderBytes, length);
    offset_ += kTtrpcHeaderBytes + length;
  }
  // Keep the buffer from growing without bound: drop what has been read once it is
  // most of it.
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return message;
}

}  // namespace berth::nri

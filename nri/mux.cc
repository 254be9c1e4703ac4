#include "nri/mux.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/big_endian.h"

namespace berth::nri {

std::string EncodeMuxFrames(MuxConnection connection, std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + kMuxHeaderBytes * (1 + bytes.size() / kMuxMaxFrame));
  do {
    size_t size = std::min(bytes.size(), kMuxMaxFrame);
    AppendBigEndian32(out, static_cast<uint32_t>(connection));
    AppendBigEndian32(out, static_cast<uint32_t>(size));
    out.append(bytes.substr(0, size));
    bytes.remove_prefix(size);
  } while (!bytes.empty());
  return out;
}

void MuxReader::Feed(std::string_view bytes) { buffer_.append(bytes); }

StatusOr<std::optional<MuxFrame>> MuxReader::Next() {
  if (buffer_.size() - offset_ < kMuxHeaderBytes) return std::nullopt;
  const char* header = buffer_.data() + offset_;
  uint32_t length = ReadBigEndian32(buffer_, offset_ + 4);
  if (length > kMuxMaxFrame) {
    return absl::InvalidArgumentError(
        absl::StrCat("NRI mux frame of ", length, " bytes is longer than any peer sends (", kMuxMaxFrame, ")"));
  }
  if (buffer_.size() - offset_ - kMuxHeaderBytes < length) return std::nullopt;
  MuxFrame frame{ReadBigEndian32(buffer_, offset_), std::string(header + kMuxHeaderBytes, length)};
  offset_ += kMuxHeaderBytes + length;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 64 * 1024 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return frame;
}

}  // namespace berth::nri

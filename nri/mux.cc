#include "nri/mux.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace berth::nri {
namespace {

void PutU32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

uint32_t GetU32(const char* at) {
  auto byte = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(at[i])); };
  return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
}

}  // namespace

std::string EncodeMuxFrames(MuxConnection connection, std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + kMuxHeaderBytes * (1 + bytes.size() / kMuxMaxFrame));
  do {
    size_t size = std::min(bytes.size(), kMuxMaxFrame);
    PutU32(out, static_cast<uint32_t>(connection));
    PutU32(out, static_cast<uint32_t>(size));
    out.append(bytes.substr(0, size));
    bytes.remove_prefix(size);
  } while (!bytes.empty());
  return out;
}

void MuxReader::Feed(std::string_view bytes) { buffer_.append(bytes); }

StatusOr<std::optional<MuxFrame>> MuxReader::Next() {
  if (buffer_.size() - offset_ < kMuxHeaderBytes) return std::nullopt;
  const char* header = buffer_.data() + offset_;
  uint32_t length = GetU32(header + 4);
  if (length > kMuxMaxFrame) {
    return absl::InvalidArgumentError(
        absl::StrCat("NRI mux frame of ", length, " bytes is longer than any peer sends (", kMuxMaxFrame, ")"));
  }
  if (buffer_.size() - offset_ - kMuxHeaderBytes < length) return std::nullopt;
  MuxFrame frame{GetU32(header), std::string(header + kMuxHeaderBytes, length)};
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

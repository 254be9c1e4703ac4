#include "streaming/spdy/header_block.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "streaming/spdy/dictionary.h"

namespace berth::streaming::spdy {
namespace {

// What one decompressed block may grow to: far above any real client's (a handful
// of short headers), far below what would hurt.
constexpr size_t kMaxBlock = 64 * 1024;

void PutU32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

bool GetU32(absl::string_view& in, uint32_t* value) {
  if (in.size() < 4) return false;
  *value = 0;
  for (int i = 0; i < 4; ++i) *value = (*value << 8) | static_cast<uint8_t>(in[i]);
  in.remove_prefix(4);
  return true;
}

StatusOr<Headers> ParseBlock(absl::string_view block) {
  auto bad = [](absl::string_view why) { return absl::InvalidArgumentError(absl::StrCat("SPDY header block: ", why)); };
  uint32_t count;
  if (!GetU32(block, &count)) return bad("truncated count");
  Headers headers;
  std::set<std::string> seen;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_length, value_length;
    if (!GetU32(block, &name_length) || name_length == 0 || name_length > block.size()) return bad("bad name");
    std::string name(block.substr(0, name_length));
    block.remove_prefix(name_length);
    if (!GetU32(block, &value_length) || value_length > block.size()) return bad("bad value");
    std::string value(block.substr(0, value_length));
    block.remove_prefix(value_length);
    name = absl::AsciiStrToLower(name);
    if (!seen.insert(name).second) return bad(absl::StrCat("header \"", name, "\" given twice"));
    headers.emplace_back(std::move(name), std::move(value));
  }
  if (!block.empty()) return bad("bytes after the last header");
  return headers;
}

}  // namespace

HeaderDecoder::HeaderDecoder() { initialized_ = ready_ = ::inflateInit(&stream_) == Z_OK; }

HeaderDecoder::~HeaderDecoder() {
  if (initialized_) ::inflateEnd(&stream_);
}

StatusOr<Headers> HeaderDecoder::Decode(absl::string_view compressed) {
  if (!ready_) return absl::FailedPreconditionError("SPDY header decompression is unusable");
  std::string block;
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream_.avail_in = static_cast<uInt>(compressed.size());
  char chunk[4096];
  while (stream_.avail_in > 0) {
    stream_.next_out = reinterpret_cast<Bytef*>(chunk);
    stream_.avail_out = sizeof chunk;
    int rc = ::inflate(&stream_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& dictionary = HeaderDictionary();
      rc = ::inflateSetDictionary(&stream_, reinterpret_cast<const Bytef*>(dictionary.data()),
                                  static_cast<uInt>(dictionary.size()));
      if (rc != Z_OK) break;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      ready_ = false;
      return absl::InvalidArgumentError(absl::StrCat("SPDY header block does not decompress (zlib ", rc, ")"));
    }
    block.append(chunk, sizeof chunk - stream_.avail_out);
    if (block.size() > kMaxBlock) {
      ready_ = false;
      return absl::ResourceExhaustedError("SPDY header block over 64 KiB");
    }
    if (rc == Z_BUF_ERROR && stream_.avail_out != 0) break;  // no progress with input left: corrupt
  }
  if (stream_.avail_in != 0) {
    ready_ = false;
    return absl::InvalidArgumentError("SPDY header block: compressed bytes left over");
  }
  return ParseBlock(block);
}

HeaderEncoder::HeaderEncoder() {
  // The level Go's SPDY peers use (blocks are a few dozen bytes: the cost is nil).
  initialized_ = ready_ = ::deflateInit(&stream_, Z_BEST_COMPRESSION) == Z_OK;
  if (ready_) {
    const std::string& dictionary = HeaderDictionary();
    ready_ = ::deflateSetDictionary(&stream_, reinterpret_cast<const Bytef*>(dictionary.data()),
                                    static_cast<uInt>(dictionary.size())) == Z_OK;
  }
}

HeaderEncoder::~HeaderEncoder() {
  if (initialized_) ::deflateEnd(&stream_);
}

StatusOr<std::string> HeaderEncoder::Encode(const Headers& headers) {
  if (!ready_) return absl::FailedPreconditionError("SPDY header compression is unusable");
  std::string block;
  PutU32(block, static_cast<uint32_t>(headers.size()));
  std::set<std::string> seen;
  for (const auto& [name, value] : headers) {
    if (name.empty() || name != absl::AsciiStrToLower(name) || !seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("SPDY header name \"", name, "\" is empty, upper-case or repeated"));
    }
    PutU32(block, static_cast<uint32_t>(name.size()));
    block += name;
    PutU32(block, static_cast<uint32_t>(value.size()));
    block += value;
  }
  std::string out;
  stream_.next_in = reinterpret_cast<Bytef*>(block.data());
  stream_.avail_in = static_cast<uInt>(block.size());
  char chunk[4096];
  do {
    stream_.next_out = reinterpret_cast<Bytef*>(chunk);
    stream_.avail_out = sizeof chunk;
    if (::deflate(&stream_, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
      ready_ = false;
      return absl::InternalError("SPDY header compression failed");
    }
    out.append(chunk, sizeof chunk - stream_.avail_out);
  } while (stream_.avail_out == 0);
  return out;
}

}  // namespace berth::streaming::spdy

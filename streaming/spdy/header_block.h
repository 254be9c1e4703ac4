// SPDY/3 header blocks: name/value pairs, zlib-compressed against the SPDY
// dictionary with one compression context per direction for a connection's life
// (every block continues the same zlib stream, ending in a sync flush).
#pragma once

#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "streaming/stream_connection.h"

namespace berth::streaming::spdy {

// A name given twice would be refused by the Go peer, so the encoder refuses it
// first.
using ::berth::streaming::Headers;
using ::berth::streaming::HeaderValue;

class HeaderDecoder {
 public:
  HeaderDecoder();
  ~HeaderDecoder();
  HeaderDecoder(const HeaderDecoder&) = delete;
  HeaderDecoder& operator=(const HeaderDecoder&) = delete;

  // One block, as it came in a frame: it must decompress to exactly one header
  // block, and consume all of compressed. Any error leaves the context unusable
  // (the connection must end).
  StatusOr<Headers> Decode(absl::string_view compressed);

 private:
  z_stream stream_{};
  bool initialized_ = false;  // inflateEnd owed
  bool ready_ = false;        // usable: initialized, and no block has failed
};

class HeaderEncoder {
 public:
  HeaderEncoder();
  ~HeaderEncoder();
  HeaderEncoder(const HeaderEncoder&) = delete;
  HeaderEncoder& operator=(const HeaderEncoder&) = delete;

  StatusOr<std::string> Encode(const Headers& headers);

 private:
  z_stream stream_{};
  bool initialized_ = false;  // deflateEnd owed
  bool ready_ = false;
};

}  // namespace berth::streaming::spdy

// The resize stream of an Exec or Attach with a terminal: the client writes one
// JSON object per resize, {"Width":W,"Height":H}, back to back, cut anywhere by the
// transport. The reader takes the bytes as they come and answers the sizes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::streaming {

struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const TerminalSize&) const = default;
};

class ResizeEvents {
 public:
  // The sizes completed by `data`, oldest first. Anything that is not a resize (not
  // JSON, fields of another type, out of range, zero) is skipped; a run of bytes
  // that never closes an object is dropped once it outgrows any resize.
  std::vector<TerminalSize> Feed(std::string_view data);

 private:
  std::string buffer_;
};

}  // namespace berth::streaming

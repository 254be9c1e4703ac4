#include "streaming/resize_events.h"

#include <nlohmann/json.hpp>

#include "base/json_field.h"

namespace berth::streaming {
namespace {

// Longer than any {"Width":65535,"Height":65535} with whitespace a client may add.
constexpr size_t kMaxPendingBytes = 4096;

}  // namespace

std::vector<TerminalSize> ResizeEvents::Feed(std::string_view data) {
  buffer_.append(data);
  std::vector<TerminalSize> sizes;
  size_t end;
  while ((end = buffer_.find('}')) != std::string::npos) {
    auto event = nlohmann::json::parse(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(end) + 1,
                                       nullptr, /*allow_exceptions=*/false);
    buffer_.erase(0, end + 1);
    // A client's word: a size of another type or out of range is not a resize.
    TerminalSize size{JsonInteger<uint16_t>(event, "Width").value_or(0),
                      JsonInteger<uint16_t>(event, "Height").value_or(0)};
    if (size.width != 0 && size.height != 0) sizes.push_back(size);
  }
  if (buffer_.size() > kMaxPendingBytes) buffer_.clear();
  return sizes;
}

}  // namespace berth::streaming

#include "absl/strings/match.h"
#include "streaming/stream_connection.h"

namespace berth::streaming {

std::string HeaderValue(const Headers& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

}  // namespace berth::streaming

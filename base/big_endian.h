// 32-bit unsigned integers in network byte order, as the wire protocols berth
// speaks frame them (SPDY, ttrpc, NRI's multiplexer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace berth {

inline void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// The four bytes at `at` of bytes (which the caller has checked are there).
inline uint32_t ReadBigEndian32(absl::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

}  // namespace berth

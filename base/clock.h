// Wall-clock time as CRI and the records carry it.
#pragma once

#include <chrono>
#include <cstdint>

namespace berth {

// Nanoseconds since the Unix epoch.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace berth

// Runs fn(0) .. fn(n - 1) on up to max_threads threads (the calling one among them)
// and returns when all are done; each thread takes the next index in turn. For
// independent slow steps, such as checking the network of every pod at start.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace berth {

inline void ParallelFor(size_t n, size_t max_threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(n, max_threads); ++t) helpers.emplace_back(work);
  work();
  for (auto& helper : helpers) helper.join();
}

}  // namespace berth

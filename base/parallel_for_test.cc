#include "base/parallel_for.h"

#include <mutex>
#include <set>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(ParallelForTest, EveryIndexOnce) {
  std::mutex mu;
  std::multiset<size_t> seen;
  ParallelFor(1000, 8, [&](size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(i);
  });
  ASSERT_EQ(seen.size(), 1000u);
  for (size_t i = 0; i < 1000; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
}

TEST(ParallelForTest, NothingToDo) {
  bool called = false;
  ParallelFor(0, 8, [&](size_t) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace berth

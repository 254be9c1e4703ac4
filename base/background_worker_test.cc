#include "base/background_worker.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(BackgroundWorkerTest, RunsInOrderAndDrainWaitsForIt) {
  BackgroundWorker worker;
  std::vector<int> done;
  std::mutex mu;
  for (int i = 0; i < 100; ++i) {
    worker.Submit([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      done.push_back(i);
    });
  }
  worker.Drain();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(done.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(done[i], i);
}

TEST(BackgroundWorkerTest, DestructorFinishesWhatWasSubmitted) {
  std::atomic<int> done{0};
  {
    BackgroundWorker worker;
    for (int i = 0; i < 10; ++i) worker.Submit([&] { ++done; });
  }
  EXPECT_EQ(done.load(), 10);
}

TEST(BackgroundWorkerTest, DrainWithNothingQueuedReturns) {
  BackgroundWorker worker;
  worker.Drain();
  SUCCEED();
}

}  // namespace
}  // namespace berth

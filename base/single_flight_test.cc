#include "base/single_flight.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(SingleFlightTest, CallersOfOneKeyShareOneRun) {
  SingleFlight<int> flight;
  std::atomic<int> runs{0};
  std::promise<void> leader_started, release;
  std::shared_future<void> released = release.get_future().share();
  auto work = [&] {
    if (++runs == 1) leader_started.set_value();
    released.wait();
    return 42;
  };
  std::vector<std::thread> callers;
  std::vector<int> results(4);
  callers.emplace_back([&] { results[0] = flight.Do("layer", work); });
  leader_started.get_future().wait();
  for (int i = 1; i < 4; ++i) callers.emplace_back([&, i] { results[i] = flight.Do("layer", work); });
  // Released once the three others wait on the leader's run.
  while (flight.WaitersForTest("layer") < 3) std::this_thread::yield();
  release.set_value();
  for (auto& t : callers) t.join();
  EXPECT_EQ(runs.load(), 1);
  for (int r : results) EXPECT_EQ(r, 42);
}

TEST(SingleFlightTest, KeysRunApartAndALaterCallRunsAgain) {
  SingleFlight<std::string> flight;
  EXPECT_EQ(flight.Do("a", [] { return std::string("A"); }), "A");
  EXPECT_EQ(flight.Do("b", [] { return std::string("B"); }), "B");
  EXPECT_EQ(flight.Do("a", [] { return std::string("A again"); }), "A again");
}

}  // namespace
}  // namespace berth

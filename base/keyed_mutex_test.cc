#include "base/keyed_mutex.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(KeyedMutexTest, OneHolderPerKey) {
  KeyedMutex locks;
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        KeyedMutex::Lock lock = locks.Acquire("pod");
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
}

TEST(KeyedMutexTest, DifferentKeysDoNotWait) {
  KeyedMutex locks;
  KeyedMutex::Lock a = locks.Acquire("a");
  std::atomic<bool> got_b{false};
  std::thread other([&] {
    KeyedMutex::Lock b = locks.Acquire("b");
    got_b = true;
  });
  other.join();  // would hang if "b" waited for "a"
  EXPECT_TRUE(got_b);
}

TEST(KeyedMutexTest, AWaiterGetsTheKeyOnRelease) {
  KeyedMutex locks;
  std::atomic<bool> acquired{false};
  std::optional<KeyedMutex::Lock> held(locks.Acquire("c"));
  std::thread waiter([&] {
    KeyedMutex::Lock lock = locks.Acquire("c");
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(acquired);
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired);
}

}  // namespace
}  // namespace berth

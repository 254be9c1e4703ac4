#include "nri/sync_gate.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace berth::nri {
namespace {

TEST(SyncGateTest, AWaitingSynchronizeGoesBeforeLaterCreations) {
  SyncGate gate;
  SyncGateHold first(&gate);
  std::atomic<bool> synced{false}, second_in{false};
  std::thread sync([&] {
    gate.Lock();
    EXPECT_FALSE(second_in.load());
    synced = true;
    gate.Unlock();
  });
  while (!gate.WriterWaitingForTest()) std::this_thread::yield();
  // A creation that comes once the Synchronize waits is let in only after it,
  // though the gate is held shared already (a reader-preferring lock would let it in).
  std::thread creation([&] {
    SyncGateHold second(&gate);
    second_in = true;
    EXPECT_TRUE(synced.load());
  });
  first.Release();
  sync.join();
  creation.join();
  EXPECT_TRUE(second_in.load());
}

TEST(SyncGateTest, CreationsShareTheGate) {
  SyncGate gate;
  SyncGateHold a(&gate), b(&gate);
  SyncGateHold moved = std::move(a);
  b.Release();
  moved.Release();
  gate.Lock();
  gate.Unlock();
}

}  // namespace
}  // namespace berth::nri

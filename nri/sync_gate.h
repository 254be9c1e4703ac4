// The gate between a plugin's Synchronize and the creations going on meanwhile.
// A creation holds it shared from before its NRI event until its object is on
// record (visible to List, so to the next snapshot); a new plugin's snapshot,
// Synchronize and joining the plugins that get events happen under it alone. So
// each pod and container reaches a new plugin exactly once: in its snapshot, or as
// an event after it joined.
//
// Writer-preferring: once a Synchronize waits, new creations wait behind it, so a
// steady stream of creations cannot hold a plugin out forever (glibc's rwlock
// prefers readers).
#pragma once

#include <condition_variable>
#include <mutex>
#include <utility>

namespace berth::nri {

class SyncGate {
 public:
  void LockShared() {
    std::unique_lock<std::mutex> lock(mu_);
    opened_.wait(lock, [&] { return !writer_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void UnlockShared() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--readers_ == 0) opened_.notify_all();
  }
  void Lock() {
    std::unique_lock<std::mutex> lock(mu_);
    ++writers_waiting_;
    opened_.wait(lock, [&] { return !writer_ && readers_ == 0; });
    --writers_waiting_;
    writer_ = true;
  }
  void Unlock() {
    std::lock_guard<std::mutex> lock(mu_);
    writer_ = false;
    opened_.notify_all();
  }
  bool WriterWaitingForTest() {
    std::lock_guard<std::mutex> lock(mu_);
    return writers_waiting_ > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_ = false;
};

// A creation's hold on the gate, for as long as it lives (movable, for the
// lifecycle to keep it across steps). An empty one holds nothing.
class SyncGateHold {
 public:
  SyncGateHold() = default;
  explicit SyncGateHold(SyncGate* gate) : gate_(gate) {
    if (gate_) gate_->LockShared();
  }
  SyncGateHold(SyncGateHold&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
  SyncGateHold& operator=(SyncGateHold&& other) noexcept {
    if (this != &other) {
      Release();
      gate_ = std::exchange(other.gate_, nullptr);
    }
    return *this;
  }
  ~SyncGateHold() { Release(); }
  void Release() {
    if (gate_) std::exchange(gate_, nullptr)->UnlockShared();
  }

 private:
  SyncGate* gate_ = nullptr;
};

}  // namespace berth::nri

// One mutex per key, made on first use and dropped with its last user: work on one
// object (a pod, a container) runs one at a time, on different objects side by side.
//
//   KeyedMutex locks;
//   KeyedMutex::Lock pod = locks.Acquire(pod_id);   // held until `pod` goes
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace berth {

class KeyedMutex {
 public:
  class Lock {
   public:
    Lock(Lock&& other) noexcept : owner_(other.owner_), key_(std::move(other.key_)) { other.owner_ = nullptr; }
    Lock& operator=(Lock&&) = delete;
    Lock(const Lock&) = delete;
    ~Lock() {
      if (owner_ != nullptr) owner_->Release(key_);
    }

   private:
    friend class KeyedMutex;
    Lock(KeyedMutex* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    KeyedMutex* owner_;
    std::string key_;
  };

  // The lock for key if nobody holds it, nothing otherwise.
  std::optional<Lock> TryAcquire(const std::string& key) {
    std::lock_guard<std::mutex> guard(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.held) return std::nullopt;
    entries_[key].held = true;
    return Lock(this, key);
  }

  // Blocks while another Lock for key is held.
  Lock Acquire(const std::string& key) {
    std::unique_lock<std::mutex> guard(mu_);
    Entry& entry = entries_[key];
    ++entry.waiters;
    released_.wait(guard, [&] { return !entry.held; });
    --entry.waiters;
    entry.held = true;
    return Lock(this, key);
  }

 private:
  struct Entry {
    bool held = false;
    int waiters = 0;
  };

  void Release(const std::string& key) {
    std::lock_guard<std::mutex> guard(mu_);
    auto it = entries_.find(key);
    it->second.held = false;
    if (it->second.waiters == 0) entries_.erase(it);
    released_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable released_;
  std::map<std::string, Entry> entries_;  // std::map: references stay valid while others are added
};

}  // namespace berth

// One thread that runs submitted work in order, after the caller has moved on: for
// clean-up a call need not wait for (a removed container's mounts and files).
//
//   BackgroundWorker worker;
//   worker.Submit([=] { RemoveFiles(dir); });
//   worker.Drain();  // everything submitted so far is done
//
// The destructor drains the queue before it returns.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace berth {

class BackgroundWorker {
 public:
  BackgroundWorker() : thread_([this] { Run(); }) {}
  ~BackgroundWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  void Submit(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(work));
      ++submitted_;
    }
    changed_.notify_all();
  }

  // Returns once all work submitted before the call has run.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = submitted_;
    changed_.wait(lock, [&] { return finished_ >= target; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      std::function<void()> work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
      ++finished_;
      changed_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  uint64_t submitted_ = 0;
  uint64_t finished_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace berth

// Work done once per key at a time: a caller asking for a key whose work is already
// running waits for that run and shares its result instead of doing it again (two
// pulls of images that share a layer download and unpack it once).
//
//   SingleFlight<Status> unpacks;
//   Status s = unpacks.Do(chain_id, [&] { return Has(chain_id) ? OkStatus() : Unpack(chain_id); });
//
// The work should check whether it is still needed: a run that finished just before
// Do was called is not shared.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

namespace berth {

template <typename Result>
class SingleFlight {
 public:
  Result Do(const std::string& key, const std::function<Result()>& work) {
    std::promise<Result> promise;
    std::shared_future<Result> running;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = running_.find(key);
      if (it != running_.end()) {
        running = it->second.result;
        ++it->second.waiters;
      } else {
        running_.emplace(key, Run{promise.get_future().share(), 0});
      }
    }
    if (running.valid()) return running.get();
    Result result = work();
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.erase(key);
    }
    promise.set_value(result);
    return result;
  }

  // Callers waiting for the run of key now going on.
  int WaitersForTest(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(key);
    return it == running_.end() ? 0 : it->second.waiters;
  }

 private:
  struct Run {
    std::shared_future<Result> result;
    int waiters;
  };
  std::mutex mu_;
  std::map<std::string, Run> running_;
};

}  // namespace berth

// CPU rates of cgroups, sampled in the background: CRI's usage_nano_cores is a rate,
// which one read of a counter cannot give. Like cAdvisor's housekeeping, a thread
// reads the CPU time of every cgroup it is given once per interval and keeps the
// last two samples of each.
//
//   CpuSampler sampler(layout, std::chrono::seconds(1), [&] { return RunningCgroups(); });
//   std::optional<uint64_t> rate = sampler.NanoCores("/kubepods/pod1/ctr");
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cgroups/cgroups.h"

namespace berth::pods {

class CpuSampler {
 public:
  // cgroups() names the cgroups to sample now; it runs on the sampler's thread. An
  // interval of 0 starts no thread: the owner calls SampleOnce() (tests do).
  CpuSampler(const cgroups::Layout& layout, std::chrono::milliseconds interval,
             std::function<std::vector<std::string>()> cgroups);
  ~CpuSampler();
  CpuSampler(const CpuSampler&) = delete;
  CpuSampler& operator=(const CpuSampler&) = delete;

  // Nanoseconds of CPU per second (1e9 = one core busy) between the last two
  // samples; nullopt until a cgroup has two.
  std::optional<uint64_t> NanoCores(const std::string& cgroup) const;

  // Takes a sample of every cgroup now (the thread's work; tests call it directly).
  void SampleOnce();

  struct Sample {
    int64_t at_nanos = 0;  // monotonic
    uint64_t usage_nanos = 0;
  };
  // The rate between two samples; nullopt when time did not move or the counter
  // went back (a cgroup removed and made again under the same path).
  static std::optional<uint64_t> Rate(const Sample& earlier, const Sample& later);

 private:
  void Run();

  const cgroups::Layout& layout_;
  const std::chrono::milliseconds interval_;
  const std::function<std::vector<std::string>()> cgroups_;
  mutable std::mutex mu_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::map<std::string, std::pair<Sample, Sample>> samples_;  // cgroup -> (previous, last)
  std::thread thread_;
};

}  // namespace berth::pods

#include "pods/cpu_sampler.h"

#include <time.h>

#include <exception>

#include "base/log.h"
#include "cgroups/stats.h"

namespace berth::pods {
namespace {

int64_t MonotonicNanos() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

}  // namespace

CpuSampler::CpuSampler(const cgroups::Layout& layout, std::chrono::milliseconds interval,
                       std::function<std::vector<std::string>()> cgroups)
    : layout_(layout), interval_(interval), cgroups_(std::move(cgroups)) {
  if (interval_.count() > 0) thread_ = std::thread([this] { Run(); });
}

CpuSampler::~CpuSampler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<uint64_t> CpuSampler::Rate(const Sample& earlier, const Sample& later) {
  if (later.at_nanos <= earlier.at_nanos || later.usage_nanos < earlier.usage_nanos) return std::nullopt;
  const double used = static_cast<double>(later.usage_nanos - earlier.usage_nanos);
  const double elapsed = static_cast<double>(later.at_nanos - earlier.at_nanos);
  return static_cast<uint64_t>(used / elapsed * 1e9);
}

std::optional<uint64_t> CpuSampler::NanoCores(const std::string& cgroup) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = samples_.find(cgroup);
  if (it == samples_.end() || it->second.first.at_nanos == 0) return std::nullopt;
  return Rate(it->second.first, it->second.second);
}

void CpuSampler::SampleOnce() {
  std::map<std::string, Sample> now;
  for (const auto& cgroup : cgroups_()) {
    auto usage = cgroups::ReadCpuUsage(layout_, cgroup);
    if (usage.ok()) now[cgroup] = Sample{MonotonicNanos(), *usage};
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::pair<Sample, Sample>> next;
  for (const auto& [cgroup, sample] : now) {
    auto it = samples_.find(cgroup);
    next[cgroup] = {it == samples_.end() ? Sample{} : it->second.second, sample};
  }
  // Cgroups no longer named are forgotten.
  samples_ = std::move(next);
}

void CpuSampler::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    // Nothing may end berthd from here: a failure costs one round of samples.
    try {
      SampleOnce();
    } catch (const std::exception& e) {
      BERTH_LOG(Warn) << "cpu sampling failed" << Kv("error", e.what());
    }
    lock.lock();
    stop_requested_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace berth::pods

#include "pods/layer_usage_cache.h"

namespace berth::pods {

DiskUsage LayerUsageCache::Get(const std::string& dir) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(dir);
    if (it != entries_.end()) {
      Entry& entry = it->second;
      if (now - entry.measured_at >= refresh_ && !entry.refreshing) {
        entry.refreshing = true;
        walker_.Submit([this, dir] { Store(dir, MeasureDiskUsage(dir).value_or(DiskUsage{})); });
      }
      return entry.usage;
    }
  }
  DiskUsage usage = MeasureDiskUsage(dir).value_or(DiskUsage{});
  Store(dir, usage);
  return usage;
}

void LayerUsageCache::Store(const std::string& dir, DiskUsage usage) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[dir] = Entry{usage, std::chrono::steady_clock::now(), false};
}

void LayerUsageCache::Retain(const std::set<std::string>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
  }
}

}  // namespace berth::pods

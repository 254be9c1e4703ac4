#include "pods/layer_usage_cache.h"

#include <exception>

namespace berth::pods {
namespace {

// A walk's result; nullopt when it failed (the directory unreadable, no memory for
// its state), which keeps the last figure.
std::optional<DiskUsage> Walk(const std::string& dir) {
  try {
    auto usage = MeasureDiskUsage(dir);
    if (usage.ok()) return *usage;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

DiskUsage LayerUsageCache::Get(const std::string& dir) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(dir);
    if (it != entries_.end()) {
      Entry& entry = it->second;
      if (now - entry.measured_at >= refresh_ && !entry.refreshing) {
        entry.refreshing = true;
        walker_.Submit([this, dir] { Store(dir, Walk(dir), /*only_if_kept=*/true); });
      }
      return entry.usage;
    }
  }
  std::optional<DiskUsage> usage = Walk(dir);
  Store(dir, usage, /*only_if_kept=*/false);
  return usage.value_or(DiskUsage{});
}

void LayerUsageCache::Store(const std::string& dir, std::optional<DiskUsage> usage, bool only_if_kept) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(dir);
  // A background walk that ends after its container was forgotten brings nothing back.
  if (it == entries_.end()) {
    if (only_if_kept) return;
    it = entries_.emplace(dir, Entry{}).first;
  }
  if (usage) it->second.usage = *usage;
  it->second.measured_at = std::chrono::steady_clock::now();
  it->second.refreshing = false;
}

void LayerUsageCache::Retain(const std::set<std::string>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
  }
}

}  // namespace berth::pods

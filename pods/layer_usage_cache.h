// The space containers' writable layers take, measured by walking them: a walk of a
// big layer costs real time, so each result is kept and measured again only once it
// is older than the refresh period, in the background, the old figure answered
// meanwhile (as cAdvisor does for its filesystem usage).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/background_worker.h"
#include "base/disk_usage.h"

namespace berth::pods {

class LayerUsageCache {
 public:
  explicit LayerUsageCache(std::chrono::milliseconds refresh) : refresh_(refresh) {}

  // The usage of dir: measured now the first time, else the last measure (one older
  // than the refresh period starts a new one in the background).
  DiskUsage Get(const std::string& dir);
  // Forgets every directory not in keep (removed containers).
  void Retain(const std::set<std::string>& keep);

 private:
  struct Entry {
    DiskUsage usage;
    std::chrono::steady_clock::time_point measured_at;
    bool refreshing = false;
  };
  // usage nullopt: the walk failed; the last figure stays.
  void Store(const std::string& dir, std::optional<DiskUsage> usage, bool only_if_kept);

  const std::chrono::milliseconds refresh_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  // Last: drained (at berthd's exit) while the map it writes still exists.
  BackgroundWorker walker_;
};

}  // namespace berth::pods

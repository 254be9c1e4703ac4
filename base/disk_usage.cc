#include "base/disk_usage.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <utility>

namespace berth {
namespace {

// nftw takes a plain function pointer, so the walk's running totals live here; the
// mutex keeps concurrent walks from sharing them.
std::mutex g_walk_mu;
DiskUsage* g_usage = nullptr;
std::set<std::pair<dev_t, ino_t>>* g_seen = nullptr;

int CountEntry(const char* /*path*/, const struct stat* st, int type, struct FTW* /*ftw*/) {
  if (type == FTW_NS) return 0;  // vanished while walking
  if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
    if (!g_seen->emplace(st->st_dev, st->st_ino).second) return 0;
  }
  g_usage->bytes += static_cast<uint64_t>(st->st_blocks) * 512;
  g_usage->inodes += 1;
  return 0;
}

}  // namespace

StatusOr<DiskUsage> MeasureDiskUsage(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return DiskUsage{};
    return ErrnoError(absl::StrCat("stat ", path));
  }
  std::lock_guard<std::mutex> lock(g_walk_mu);
  DiskUsage usage;
  std::set<std::pair<dev_t, ino_t>> seen;
  g_usage = &usage;
  g_seen = &seen;
  int rc = ::nftw(path.c_str(), CountEntry, 64, FTW_PHYS | FTW_MOUNT);
  g_usage = nullptr;
  g_seen = nullptr;
  if (rc != 0) return ErrnoError(absl::StrCat("walk ", path));
  return usage;
}

}  // namespace berth

#include "base/disk_usage.h"

#include <fts.h>
#include <sys/stat.h>

#include <cerrno>
#include <set>
#include <utility>

namespace berth {

StatusOr<DiskUsage> MeasureDiskUsage(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return DiskUsage{};
    return ErrnoError(absl::StrCat("stat ", path));
  }
  // fts keeps its state in its handle, so walks run side by side (nftw's callback
  // would need shared globals and a lock); no chdir, no symlink followed, no other
  // filesystem entered.
  char* roots[] = {const_cast<char*>(path.c_str()), nullptr};
  FTS* walk = ::fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, nullptr);
  if (walk == nullptr) return ErrnoError(absl::StrCat("walk ", path));
  DiskUsage usage;
  std::set<std::pair<dev_t, ino_t>> seen;
  Status failed;
  while (FTSENT* entry = ::fts_read(walk)) {
    switch (entry->fts_info) {
      case FTS_DP:  // a directory again, after its contents
      case FTS_NS:  // vanished while walking
      case FTS_DNR:
        continue;
      case FTS_ERR:
        if (entry->fts_level == 0) failed = ErrnoError(absl::StrCat("walk ", path));
        continue;
      default:
        break;
    }
    const struct stat* entry_stat = entry->fts_statp;
    if (entry->fts_level > 0 && entry_stat->st_dev != st.st_dev) continue;  // a mount point below
    if (entry_stat->st_nlink > 1 && !S_ISDIR(entry_stat->st_mode) &&
        !seen.emplace(entry_stat->st_dev, entry_stat->st_ino).second) {
      continue;  // another link to a file already counted
    }
    usage.bytes += static_cast<uint64_t>(entry_stat->st_blocks) * 512;
    usage.inodes += 1;
  }
  ::fts_close(walk);
  if (!failed.ok()) return failed;
  return usage;
}

}  // namespace berth

// Space and inodes used by a directory tree, as kubelet's image and container
// filesystem accounting wants them.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace berth {

struct DiskUsage {
  uint64_t bytes = 0;   // allocated blocks, not apparent sizes: what the disk loses
  uint64_t inodes = 0;  // files, directories and links, each inode once
};

// Walks path without following symlinks or crossing into other mounts; a file with
// several hard links counts once. A missing path uses nothing.
StatusOr<DiskUsage> MeasureDiskUsage(const std::string& path);

}  // namespace berth

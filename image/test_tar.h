// Builds layer tars in memory for the image module's tests.
#pragma once

#include <archive_entry.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace berth::image::testing {

struct Entry {
  std::string name{};
  mode_t type = AE_IFREG;
  std::string content{};
  mode_t perm = 0644;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string symlink{};
  std::string hardlink{};
  std::vector<std::pair<std::string, std::string>> xattrs{};
  dev_t dev = 0;
};

enum class Compress { kNone, kGzip, kZstd };

// A tar stream of entries (pax format, so xattrs survive), compressed as asked; the
// uncompressed stream's digest goes to diff_id when it is given.
std::string BuildTar(const std::vector<Entry>& entries, Compress compress, std::string* diff_id);

}  // namespace berth::image::testing

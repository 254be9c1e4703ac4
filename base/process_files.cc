#include "base/process_files.h"

#include <dirent.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth {

OpenFiles CountOpenFiles(const std::vector<int>& pids) {
  OpenFiles total;
  for (int pid : pids) {
    const std::string dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = ::opendir(dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* entry = ::readdir(fds)) {
      if (entry->d_name[0] == '.') continue;
      ++total.descriptors;
      char target[64];
      ssize_t n = ::readlinkat(::dirfd(fds), entry->d_name, target, sizeof target);
      if (n > 0 && absl::StartsWith(absl::string_view(target, static_cast<size_t>(n)), "socket:")) ++total.sockets;
    }
    ::closedir(fds);
  }
  return total;
}

std::optional<uint64_t> ParseOpenFilesSoftLimit(absl::string_view limits) {
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (!absl::StartsWith(line, "Max open files")) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line.substr(14), ' ', absl::SkipEmpty());
    uint64_t soft = 0;
    if (fields.empty() || !absl::SimpleAtoi(fields[0], &soft)) return std::nullopt;  // "unlimited"
    return soft;
  }
  return std::nullopt;
}

std::optional<uint64_t> OpenFilesSoftLimit(int pid) {
  auto limits = ReadFile(absl::StrCat("/proc/", pid, "/limits"));
  if (!limits.ok()) return std::nullopt;
  return ParseOpenFilesSoftLimit(*limits);
}

}  // namespace berth

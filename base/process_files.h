// What processes hold open, read from /proc: the file-descriptor and socket counts
// and the open-files limit that container metrics report.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"

namespace berth {

struct OpenFiles {
  uint64_t descriptors = 0;
  uint64_t sockets = 0;
};

// Summed over pids; a process that is gone (or whose fd table cannot be read)
// counts nothing.
OpenFiles CountOpenFiles(const std::vector<int>& pids);

// The soft "Max open files" limit of pid; nullopt when unlimited or unreadable.
std::optional<uint64_t> OpenFilesSoftLimit(int pid);

// The soft "Max open files" value of a /proc/PID/limits text. Public for its test.
std::optional<uint64_t> ParseOpenFilesSoftLimit(absl::string_view limits);

}  // namespace berth

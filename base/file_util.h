// Small filesystem helpers with Status errors.
#pragma once

#include <sys/types.h>

#include <string>
#include "absl/strings/string_view.h"

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth {

// Reads a whole file.
StatusOr<std::string> ReadFile(const std::string& path);

// Writes data to path so that readers see either the old or the new content, even
// across a crash: a temporary file beside it, fsync, rename, fsync of the directory.
Status WriteFileAtomically(const std::string& path, absl::string_view data, mode_t mode = 0644);

// mkdir -p with the given mode for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Removes path and everything below it; a missing path is not an error. Symlinks are
// removed, not followed. Callers unmount anything below path first.
Status RemoveAll(const std::string& path);

// A copy of the file at path (an open fd, say /proc/self/exe) in a memfd sealed
// against any change: what runs from it can never be rewritten, by a container
// reaching it through /proc/PID/exe or by anyone else.
StatusOr<UniqueFd> SealedCopy(int fd, const char* name);

}  // namespace berth

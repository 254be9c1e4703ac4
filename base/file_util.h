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

// What a write must survive. Both kinds are atomic: a temporary file beside the
// target, renamed over it, so a reader sees the old or the new content even when
// the writer is killed midway.
//   kPowerLoss  also fsyncs the file and its directory: for state that outlives a
//               reboot (records, network caches, configuration).
//   kCrash      no fsync: for files that only describe this boot (a runtime's state,
//               bundles, pid and exit files), which a power loss makes meaningless
//               anyway. Each fsync costs ~0.5 ms on a disk, several per container.
enum class Durability { kPowerLoss, kCrash };

Status WriteFileAtomically(const std::string& path, absl::string_view data, mode_t mode = 0644,
                           Durability durability = Durability::kPowerLoss);

// mkdir -p with the given mode for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// Removes path and everything below it; a missing path is not an error. Symlinks are
// removed, not followed. Callers unmount anything below path first: a mount found
// there is FAILED_PRECONDITION, nothing removed (it would delete what it shows).
Status RemoveAll(const std::string& path);

// A copy of the file at path (an open fd, say /proc/self/exe) in a memfd sealed
// against any change: what runs from it can never be rewritten, by a container
// reaching it through /proc/PID/exe or by anyone else.
StatusOr<UniqueFd> SealedCopy(int fd, const char* name);

// Holds an exclusive flock on path (created if missing) for as long as the returned
// fd is open: one process per state root or socket. ALREADY_EXISTS with
// in_use_message when another process holds it.
StatusOr<UniqueFd> LockFileExclusively(const std::string& path, absl::string_view in_use_message);

}  // namespace berth

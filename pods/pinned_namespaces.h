// Pod namespaces pinned without a process: each is created by a short-lived thread
// that unshares it and bind-mounts its nsfs file to a path under the pod's
// directory, where containers join it. Unpinning unmounts and removes the files.
#pragma once

#include <string>

#include "base/status.h"

namespace berth::pods {

struct PinnedNamespaces {
  std::string net;  // empty when not asked for
  std::string ipc;
  std::string uts;
};

// Creates the namespaces asked for under dir (dir/net, dir/ipc, dir/uts). A new UTS
// namespace gets hostname; a new network namespace gets its loopback up.
StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, bool net, bool ipc, bool uts,
                                         const std::string& hostname);

// Unmounts and removes a pinned namespace file; a path already gone is fine.
Status UnpinNamespace(const std::string& path);

}  // namespace berth::pods

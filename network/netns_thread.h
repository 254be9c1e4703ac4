// Work inside a pod's network namespace without moving any of berthd's threads:
// setns changes only the calling thread's namespace, so the work runs on a thread of
// its own that enters the namespace and ends with it.
#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "base/status.h"

namespace berth::network {

// Runs work on a new thread inside the network namespace open at netns_fd, and
// waits for it; an error (and work not run) when the namespace cannot be entered.
Status RunInNetworkNamespace(int netns_fd, absl::FunctionRef<void()> work);
// The same for a namespace pinned at netns_path.
Status RunInNetworkNamespace(const std::string& netns_path, absl::FunctionRef<void()> work);

}  // namespace berth::network

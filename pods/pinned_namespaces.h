// Pod namespaces pinned without a process: each is created by a short-lived thread
// that unshares it, or, when the pod has a user namespace of its own, by a parked
// child cloned into the new user namespace (which then owns the others, so that
// the pod's root may configure its network and mount its sysfs); either way their
// nsfs files are bind-mounted to paths under the pod's directory, where containers
// join them. Unpinning unmounts and removes the files.
#pragma once

#include <string>

#include "base/status.h"
#include "pods/types.h"

namespace berth::pods {

struct NamespaceRequest {
  bool net = false;
  bool ipc = false;
  bool uts = false;
  std::string hostname;     // for a new UTS namespace
  UserNamespaceSpec userns;  // kPod: a user namespace of the pod's, made first
};

struct PinnedNamespaces {
  std::string user;  // empty when not asked for
  std::string net;
  std::string ipc;
  std::string uts;
};

// Creates the namespaces asked for under dir (dir/user, dir/net, dir/ipc, dir/uts).
// A new UTS namespace gets the hostname; a new network namespace gets its loopback up.
StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, const NamespaceRequest& request);

// Unmounts and removes a pinned namespace file; a path already gone is fine.
Status UnpinNamespace(const std::string& path);

}  // namespace berth::pods

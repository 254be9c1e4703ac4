// kubeconfig files: one for each component and node, and the cluster's entry merged
// into the user's own ($KUBECONFIG or ~/.kube/config) as context berth-<name>, the
// way kind adds kind-<name>.
#pragma once

#include <string>

#include "base/status.h"
#include "cluster/pki.h"

namespace berth::cluster {

struct KubeconfigEntry {
  std::string name = {};     // cluster, user and context name
  std::string server = {};   // https://IP:6443
  std::string ca_certificate = {};  // PEM
  Pem client = {};           // the user's certificate and key
};

// A kubeconfig with one cluster, user and context, which is current.
std::string Kubeconfig(const KubeconfigEntry& entry);

// existing (possibly empty) with entry's cluster, user and context added or
// replaced, and its context made current. INVALID_ARGUMENT if existing is not a
// kubeconfig.
StatusOr<std::string> MergeKubeconfig(const std::string& existing, const KubeconfigEntry& entry);

// existing without the cluster, user and context named name; current-context is
// cleared if it was that one.
StatusOr<std::string> RemoveFromKubeconfig(const std::string& existing, const std::string& name);

}  // namespace berth::cluster

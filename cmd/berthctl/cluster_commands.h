// berthctl cluster's subcommands, and what they share.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace berth::ctl {

struct ClusterOptions {
  std::string endpoint;  // the host's berthd
  std::chrono::milliseconds timeout{10000};
  std::string name = "berth";
  std::string state_dir = "/var/lib/berth-cluster";
};

int RunClusterCreate(const ClusterOptions& options, const std::vector<std::string>& args);
int RunClusterLoad(const ClusterOptions& options, const std::vector<std::string>& args);

// Removes the cluster's node pods, then its directory and its kubeconfig entry
// (kept when a pod could not be removed, for another try); what is already gone is
// skipped.
Status DeleteCluster(const ClusterOptions& options);

// Where kubectl finds the user's kubeconfig: the first file of $KUBECONFIG, or
// ~/.kube/config.
std::string KubeconfigPath();

// Writes a file of the user's (the kubeconfig): through a symlink, keeping the
// owner and mode of the file that was there (0600 for a new one).
Status WriteUserFile(const std::string& path, const std::string& content);

}  // namespace berth::ctl

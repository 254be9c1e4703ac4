// What berthctl cluster remembers of a cluster between commands, in
// STATE/NAME/cluster.json: how it was made and which nodes it has. Each node's files
// are in STATE/NAME/nodes/NODE.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/node_files.h"

namespace berth::cluster {

struct NodeRecord {
  std::string name = {};
  bool control_plane = false;
};

struct ClusterRecord {
  ClusterSpec spec = {};
  std::string kubernetes_dir = {};  // the Kubernetes binaries, mounted into every node
  std::string berth_dir = {};       // berth's binaries, likewise
  std::string registry = {};        // 127.0.0.1:PORT
  std::string node_image = {};      // as the host's berthd pulled it
  std::vector<NodeRecord> nodes = {};
};

// A name a cluster may have: a DNS label of at most 32 characters (node names,
// kubeconfig contexts and certificate names are made from it).
Status ValidateClusterName(const std::string& name);

std::string ClusterDir(const std::string& state_dir, const std::string& name);
std::string NodeDir(const std::string& state_dir, const std::string& name, const std::string& node);
// The administrator's kubeconfig (context berth-NAME), kept beside the record.
std::string AdminKubeconfigPath(const std::string& state_dir, const std::string& name);

Status SaveRecord(const std::string& state_dir, const ClusterRecord& record);
// NOT_FOUND when there is no such cluster.
StatusOr<ClusterRecord> LoadRecord(const std::string& state_dir, const std::string& name);
// Names of the clusters under state_dir, sorted.
std::vector<std::string> ListClusters(const std::string& state_dir);

}  // namespace berth::cluster

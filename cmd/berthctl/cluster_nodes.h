// A berth cluster's nodes as the host's berthd runs them: one privileged pod per
// node, labelled with its cluster and node names, holding one container that runs
// berth-node with the host's /usr, berth's and Kubernetes' binaries and the node's
// own directories mounted in.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/record.h"
#include "cri/client.h"

namespace berth::ctl {

inline constexpr char kClusterLabel[] = "berth.io/cluster";
inline constexpr char kNodeLabel[] = "berth.io/cluster-node";
// Which --state made the cluster: a name is unique only within one state directory.
inline constexpr char kStateLabel[] = "berth.io/cluster-state";

struct NodePod {
  std::string node;
  std::string pod_id;
  std::string ip;
  bool ready = false;    // the pod sandbox is ready
  bool running = false;  // and its node container runs
  ::runtime::v1::PodSandboxConfig config;
};

class ClusterNodes {
 public:
  ClusterNodes(const std::string& endpoint, std::chrono::milliseconds timeout, std::string state_dir);

  // The node's pod sandbox, on the host's pod network; its address is known once
  // this returns.
  StatusOr<NodePod> RunPod(const cluster::ClusterRecord& record, const cluster::NodeRecord& node);
  // The node container in it, created and started.
  Status StartNode(const cluster::ClusterRecord& record, const cluster::NodeRecord& node, const NodePod& pod);
  // Every node pod of the cluster (of this state directory) the host's berthd has.
  StatusOr<std::vector<NodePod>> List(const std::string& cluster);
  // Stops the node container (berth-node stops kube-proxy, kubelet and berthd, up
  // to 10 s each), then removes the pod.
  Status Remove(const NodePod& pod);
  // Pulls image into the host's berthd.
  Status Pull(const std::string& image);

 private:
  std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds extra = {}) const {
    return cri::CriClient::Context(timeout_ + extra);
  }

  cri::CriClient client_;
  std::chrono::milliseconds timeout_;
  std::string state_dir_;
  std::string state_label_;  // kStateLabel's value: a digest of state_dir_
};

// A gRPC failure as a Status with the call's name.
Status RpcError(const std::string& rpc, const grpc::Status& status);

}  // namespace berth::ctl

#include "cri/handlers.h"

namespace berth::cri {

Status HandleCheckpointPod(pods::Node& node, const ::runtime::v1::CheckpointPodRequest& request,
                           ::runtime::v1::CheckpointPodResponse* /*response*/) {
  if (request.pod_sandbox_id().empty()) return absl::InvalidArgumentError("CheckpointPod: pod_sandbox_id is empty");
  if (request.output_path().empty()) return absl::InvalidArgumentError("CheckpointPod: output_path is empty");
  std::vector<std::string> containers(request.container_ids().begin(), request.container_ids().end());
  std::map<std::string, std::string> options(request.options().begin(), request.options().end());
  return node.CheckpointPod(request.pod_sandbox_id(), request.output_path(), containers, options);
}

}  // namespace berth::cri

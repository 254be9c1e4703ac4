#include "cri/handlers.h"

namespace berth::cri {

Status HandleCheckpointPod(pods::Node& node, const ::runtime::v1::CheckpointPodRequest& request,
                           ::runtime::v1::CheckpointPodResponse* /*response*/) {
  if (request.pod_sandbox_id().empty()) return absl::InvalidArgumentError("CheckpointPod: pod_sandbox_id is empty");
  if (request.output_path().empty()) return absl::InvalidArgumentError("CheckpointPod: output_path is empty");
  return node.CheckpointPod(request.pod_sandbox_id(), request.output_path());
}

}  // namespace berth::cri

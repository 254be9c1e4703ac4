#include "cri/handlers.h"

namespace berth::cri {

Status HandleCheckpointContainer(pods::Node& node, const ::runtime::v1::CheckpointContainerRequest& request,
                                 ::runtime::v1::CheckpointContainerResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("CheckpointContainer: container_id is empty");
  if (request.location().empty()) return absl::InvalidArgumentError("CheckpointContainer: location is empty");
  if (request.timeout() < 0) return absl::InvalidArgumentError("CheckpointContainer: timeout is negative");
  return node.CheckpointContainer(request.container_id(), request.location(), std::chrono::seconds(request.timeout()));
}

}  // namespace berth::cri

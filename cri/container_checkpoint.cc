#include "cri/handlers.h"

namespace berth::cri {

Status HandleCheckpointContainer(pods::Node& node, const ::runtime::v1::CheckpointContainerRequest& request,
                                 ::runtime::v1::CheckpointContainerResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("CheckpointContainer: container_id is empty");
  if (request.location().empty()) return absl::InvalidArgumentError("CheckpointContainer: location is empty");
  return node.CheckpointContainer(request.container_id(), request.location());
}

}  // namespace berth::cri

#include "cri/handlers.h"

namespace berth::cri {

Status HandleStopContainer(pods::Node& node, const ::runtime::v1::StopContainerRequest& request,
                           ::runtime::v1::StopContainerResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("StopContainer: container_id is empty");
  if (request.timeout() < 0) return absl::InvalidArgumentError("StopContainer: timeout is negative");
  return node.lifecycle().StopContainer(request.container_id(), std::chrono::seconds(request.timeout()));
}

}  // namespace berth::cri

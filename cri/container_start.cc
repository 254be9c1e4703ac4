#include "cri/handlers.h"

namespace berth::cri {

Status HandleStartContainer(pods::Node& node, const ::runtime::v1::StartContainerRequest& request,
                            ::runtime::v1::StartContainerResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("StartContainer: container_id is empty");
  return node.lifecycle().StartContainer(request.container_id());
}

}  // namespace berth::cri

#include "cri/handlers.h"

namespace berth::cri {

Status HandleRemoveContainer(pods::Node& node, const ::runtime::v1::RemoveContainerRequest& request,
                             ::runtime::v1::RemoveContainerResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("RemoveContainer: container_id is empty");
  return node.lifecycle().RemoveContainer(request.container_id());
}

}  // namespace berth::cri

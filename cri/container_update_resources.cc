#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleUpdateContainerResources(pods::Node& node, const ::runtime::v1::UpdateContainerResourcesRequest& request,
                                      ::runtime::v1::UpdateContainerResourcesResponse* /*response*/) {
  if (request.container_id().empty()) {
    return absl::InvalidArgumentError("UpdateContainerResources: container_id is empty");
  }
  return node.lifecycle().UpdateResources(request.container_id(), ToResources(request.linux()));
}

}  // namespace berth::cri

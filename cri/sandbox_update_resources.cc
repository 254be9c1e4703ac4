#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleUpdatePodSandboxResources(pods::Node& node, const ::runtime::v1::UpdatePodSandboxResourcesRequest& request,
                                       ::runtime::v1::UpdatePodSandboxResourcesResponse* /*response*/) {
  if (request.pod_sandbox_id().empty()) {
    return absl::InvalidArgumentError("UpdatePodSandboxResources: pod_sandbox_id is empty");
  }
  return node.lifecycle().UpdatePodResources(request.pod_sandbox_id(), ToResources(request.overhead()),
                                             ToResources(request.resources()));
}

}  // namespace berth::cri

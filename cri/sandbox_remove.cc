#include "cri/handlers.h"

namespace berth::cri {

Status HandleRemovePodSandbox(pods::Node& node, const ::runtime::v1::RemovePodSandboxRequest& request,
                              ::runtime::v1::RemovePodSandboxResponse* /*response*/) {
  if (request.pod_sandbox_id().empty()) {
    return absl::InvalidArgumentError("RemovePodSandbox: pod_sandbox_id is empty");
  }
  return node.lifecycle().RemovePod(request.pod_sandbox_id());
}

}  // namespace berth::cri

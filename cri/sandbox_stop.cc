#include "cri/handlers.h"

namespace berth::cri {

Status HandleStopPodSandbox(pods::Node& node, const ::runtime::v1::StopPodSandboxRequest& request,
                            ::runtime::v1::StopPodSandboxResponse* /*response*/) {
  if (request.pod_sandbox_id().empty()) return absl::InvalidArgumentError("StopPodSandbox: pod_sandbox_id is empty");
  return node.lifecycle().StopPod(request.pod_sandbox_id());
}

}  // namespace berth::cri

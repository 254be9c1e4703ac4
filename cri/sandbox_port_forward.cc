#include "cri/handlers.h"

namespace berth::cri {

Status HandlePortForward(pods::Node& node, streaming::Server& streaming,
                         const ::runtime::v1::PortForwardRequest& request,
                         ::runtime::v1::PortForwardResponse* response) {
  if (request.pod_sandbox_id().empty()) return absl::InvalidArgumentError("PortForward: pod_sandbox_id is empty");
  for (int32_t port : request.port()) {
    if (port < 1 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("PortForward: port ", port, " is not in 1..65535"));
    }
  }
  ASSIGN_OR_RETURN(pods::SandboxRecord pod, node.lifecycle().GetPod(request.pod_sandbox_id()));
  if (pod.state != pods::SandboxState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("PortForward: pod sandbox ", pod.id, " is not ready"));
  }
  streaming::PortForwardRequest forward;
  forward.pod_id = pod.id;
  forward.ports.assign(request.port().begin(), request.port().end());
  ASSIGN_OR_RETURN(std::string url, streaming.Url(std::move(forward)));
  response->set_url(std::move(url));
  return absl::OkStatus();
}

}  // namespace berth::cri

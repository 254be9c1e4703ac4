#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleRunPodSandbox(pods::Node& node, const ::runtime::v1::RunPodSandboxRequest& request,
                           ::runtime::v1::RunPodSandboxResponse* response) {
  ASSIGN_OR_RETURN(pods::PodSpec spec, ToPodSpec(request.config(), request.runtime_handler()));
  ASSIGN_OR_RETURN(std::string id, node.lifecycle().RunPod(spec));
  response->set_pod_sandbox_id(id);
  return absl::OkStatus();
}

}  // namespace berth::cri

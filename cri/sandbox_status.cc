#include <nlohmann/json.hpp>

#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandlePodSandboxStatus(pods::Node& node, const ::runtime::v1::PodSandboxStatusRequest& request,
                              ::runtime::v1::PodSandboxStatusResponse* response) {
  if (request.pod_sandbox_id().empty()) {
    return absl::InvalidArgumentError("PodSandboxStatus: pod_sandbox_id is empty");
  }
  ASSIGN_OR_RETURN(pods::SandboxRecord pod, node.lifecycle().GetPod(request.pod_sandbox_id()));
  FillPodSandboxStatus(pod, response->mutable_status());
  if (request.verbose()) {
    nlohmann::json info = {{"id", pod.id}, {"dir", pod.dir}, {"netns", pod.netns_path}, {"ipcns", pod.ipcns_path},
                           {"utsns", pod.utsns_path}, {"shm", pod.shm_path}, {"spec", pod.spec}};
    if (std::string report = node.lifecycle().NetworkReport(pod.id); !report.empty()) info["networkReport"] = report;
    (*response->mutable_info())["info"] = info.dump();
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

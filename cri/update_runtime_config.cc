#include "cri/handlers.h"
#include "base/log.h"

namespace berth::cri {

Status HandleUpdateRuntimeConfig(pods::Node& node,
                                 const ::runtime::v1::UpdateRuntimeConfigRequest& request,
                                 ::runtime::v1::UpdateRuntimeConfigResponse* /*response*/) {
  const std::string& cidr = request.runtime_config().network_config().pod_cidr();
  // kubelet sends an empty config before the node has a CIDR; that changes nothing.
  if (cidr.empty()) return absl::OkStatus();
  std::string before = node.pod_cidr();
  RETURN_IF_ERROR(node.SetPodCidr(cidr));
  if (before != cidr) BERTH_LOG(Info) << "pod CIDR set" << Kv("pod_cidr", cidr) << Kv("was", before);
  return absl::OkStatus();
}

}  // namespace berth::cri

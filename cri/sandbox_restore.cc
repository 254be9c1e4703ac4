#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleRestorePod(pods::Node& node, const ::runtime::v1::RestorePodRequest& request,
                        ::runtime::v1::RestorePodResponse* response) {
  if (request.checkpoint_path().empty()) return absl::InvalidArgumentError("RestorePod: checkpoint_path is empty");
  if (!request.has_config()) return absl::InvalidArgumentError("RestorePod: config is missing");
  if (request.container_configs().empty()) return absl::InvalidArgumentError("RestorePod: container_configs is empty");
  ASSIGN_OR_RETURN(pods::PodSpec pod, ToPodSpec(request.config(), request.runtime_handler()));
  std::vector<pods::ContainerSpec> containers;
  for (const auto& config : request.container_configs()) {
    ASSIGN_OR_RETURN(pods::ContainerSpec container, ToContainerSpec(config));
    containers.push_back(std::move(container));
  }
  std::map<std::string, std::string> options(request.options().begin(), request.options().end());
  ASSIGN_OR_RETURN(pods::Lifecycle::RestoredPod restored,
                   node.RestorePod(request.checkpoint_path(), pod, containers, options));
  response->set_pod_sandbox_id(restored.pod_id);
  for (const auto& [name, id] : restored.containers) {
    auto* container = response->add_restored_containers();
    container->set_name(name);
    container->set_container_id(id);
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

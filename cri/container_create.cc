#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleCreateContainer(pods::Node& node, const ::runtime::v1::CreateContainerRequest& request,
                             ::runtime::v1::CreateContainerResponse* response) {
  if (request.pod_sandbox_id().empty()) {
    return absl::InvalidArgumentError("CreateContainer: pod_sandbox_id is empty");
  }
  ASSIGN_OR_RETURN(pods::ContainerSpec spec, ToContainerSpec(request.config()));
  ASSIGN_OR_RETURN(std::string id, node.lifecycle().CreateContainer(request.pod_sandbox_id(), spec));
  response->set_container_id(id);
  return absl::OkStatus();
}

}  // namespace berth::cri

#include <nlohmann/json.hpp>

#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleContainerStatus(pods::Node& node, const ::runtime::v1::ContainerStatusRequest& request,
                             ::runtime::v1::ContainerStatusResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ContainerStatus: container_id is empty");
  ASSIGN_OR_RETURN(pods::ContainerRecord record, node.lifecycle().GetContainer(request.container_id()));
  FillContainerStatus(record, response->mutable_status());
  if (request.verbose()) {
    nlohmann::json info = {{"id", record.id}, {"pid", record.pid}, {"shimPid", record.shim_pid},
                           {"handler", record.handler}, {"bundle", record.bundle()},
                           {"cgroupPath", record.cgroup_path}, {"spec", record.spec}};
    (*response->mutable_info())["info"] = info.dump();
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

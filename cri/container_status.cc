#include <algorithm>

#include <nlohmann/json.hpp>

#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {

Status HandleContainerStatus(pods::Node& node, const ::runtime::v1::ContainerStatusRequest& request,
                             ::runtime::v1::ContainerStatusResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ContainerStatus: container_id is empty");
  ASSIGN_OR_RETURN(pods::ContainerRecord record, node.lifecycle().GetContainer(request.container_id()));
  FillContainerStatus(record, response->mutable_status());
  // kubelet creates containers by image id and shows this field as the pod's image:
  // a name of the image, as containerd gives it (the one the container was created by
  // if that is a name, else its first), or the id if it has none left.
  auto image = node.images().Find(record.image_id);
  if (image.ok() && !image->repo_tags.empty() &&
      std::find(image->repo_tags.begin(), image->repo_tags.end(), record.spec.image) == image->repo_tags.end()) {
    response->mutable_status()->mutable_image()->set_image(image->repo_tags.front());
  }
  if (request.verbose()) {
    nlohmann::json info = {{"id", record.id}, {"pid", record.pid}, {"shimPid", record.shim_pid},
                           {"handler", record.handler}, {"bundle", record.bundle()},
                           {"cgroupPath", record.cgroup_path}, {"spec", record.spec}};
    (*response->mutable_info())["info"] = info.dump();
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

// Who a container's process runs as: the user and groups its security context
// names, looked up in the image's /etc/passwd and /etc/group as Kubernetes has it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "pods/types.h"

namespace berth::pods {

struct ContainerUser {
  int64_t uid = 0;
  int64_t gid = 0;
  std::string name;  // from /etc/passwd; empty when the image has no entry
  // The primary group, the image's groups of the user (unless strict), the pod's
  // and the container's supplemental groups; sorted, without repeats.
  std::vector<int64_t> additional_gids;
};

// rootfs: the container's mounted root on the host, read without leaving it (a
// symlinked /etc cannot point berthd at the host's files). image_user: the image
// config's User ("name", "uid", "uid:gid", "name:group").
StatusOr<ContainerUser> ResolveContainerUser(const std::string& rootfs, const std::string& image_user,
                                             const SecuritySpec& security, const PodSpec& pod);

}  // namespace berth::pods

#include "pods/user_namespace.h"

namespace berth::pods {
namespace {

const char* ModeName(NamespaceMode mode) {
  switch (mode) {
    case NamespaceMode::kPod: return "POD";
    case NamespaceMode::kContainer: return "CONTAINER";
    case NamespaceMode::kNode: return "NODE";
    case NamespaceMode::kTarget: return "TARGET";
  }
  return "unknown";
}

Status CheckOneMapping(const std::vector<runtime::IdMapping>& mappings, const char* what) {
  if (mappings.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("a pod's user namespace needs exactly one ", what,
                                                   " mapping; got ", mappings.size()));
  }
  const runtime::IdMapping& m = mappings[0];
  RETURN_IF_ERROR(runtime::CheckIdMappings(mappings, what));
  if (m.container_id != 0) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " mapping must map container id 0; it starts at ",
                                                   m.container_id));
  }
  if (m.host_id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " mapping maps container id 0 to host id 0: the pod's root would be the host's"));
  }
  return absl::OkStatus();
}

}  // namespace

Status CheckPodUserNamespace(const PodSpec& pod) {
  const UserNamespaceSpec& userns = pod.userns;
  switch (userns.mode) {
    case NamespaceMode::kNode:
      if (!userns.uids.empty() || !userns.gids.empty()) {
        return absl::InvalidArgumentError("user namespace mode NODE takes no id mappings");
      }
      return absl::OkStatus();
    case NamespaceMode::kPod:
      RETURN_IF_ERROR(CheckOneMapping(userns.uids, "uid"));
      RETURN_IF_ERROR(CheckOneMapping(userns.gids, "gid"));
      if (pod.network == NamespaceMode::kNode) {
        return absl::InvalidArgumentError("a pod with its own user namespace cannot use the host's network");
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat("user namespace mode ", ModeName(userns.mode),
                                                     " is not supported: a pod's is NODE or POD"));
  }
}

Status CheckContainerUserNamespace(const PodSpec& pod, const ContainerSpec& container) {
  if (container.security.userns && !(*container.security.userns == pod.userns)) {
    return absl::InvalidArgumentError(absl::StrCat("container \"", container.name,
                                                   "\" asks for a user namespace other than its pod's"));
  }
  for (const MountSpec& m : container.mounts) {
    if (m.uid_mappings.empty() && m.gid_mappings.empty()) continue;
    if (!HasOwnUserNamespace(pod)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount on ", m.container_path, " has id mappings, but the pod has no user namespace"));
    }
    if (m.uid_mappings != pod.userns.uids || m.gid_mappings != pod.userns.gids) {
      return absl::InvalidArgumentError(absl::StrCat("mount on ", m.container_path,
                                                     ": id mappings other than the pod's are not supported"));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::pods

// The rules for a pod's user namespace (KEP-127) and its containers': what kubelet
// may ask for, checked before anything is made.
#pragma once

#include "base/status.h"
#include "pods/types.h"

namespace berth::pods {

// NODE with no mappings, or POD with exactly one uid and one gid mapping that
// maps container id 0 (to a host id other than 0); INVALID_ARGUMENT otherwise,
// CONTAINER and TARGET modes included. A pod of its own user namespace cannot
// have the host's network (its root would be root over the host's interfaces).
Status CheckPodUserNamespace(const PodSpec& pod);

// A container's user namespace is its pod's: a config naming another, or a
// mount idmapped with other mappings, is INVALID_ARGUMENT.
Status CheckContainerUserNamespace(const PodSpec& pod, const ContainerSpec& container);

// Whether the pod has a user namespace of its own.
inline bool HasOwnUserNamespace(const PodSpec& pod) { return pod.userns.mode == NamespaceMode::kPod; }

}  // namespace berth::pods

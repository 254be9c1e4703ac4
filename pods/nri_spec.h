// berth's records as NRI plugins see them, and the adjustments plugins answer,
// applied to a container's OCI spec.
#pragma once

#include "base/status.h"
#include "nri/api.h"
#include "pods/records.h"
#include "pods/runtime_handler.h"
#include "runtime/spec.h"

namespace berth::pods {

// The pod: its CRI metadata (name, namespace, uid as kubelet gave them), labels,
// annotations, handler, cgroup parent, namespaces and IPs.
nri::api::PodSandbox NriPod(const SandboxRecord& pod, const std::string& cgroup_parent);
// The container: its CRI name and state, and from its OCI spec (when given; the
// record's spec otherwise) args, env, mounts, resources, rlimits and the rest.
nri::api::Container NriContainer(const ContainerRecord& container, const runtime::Spec* spec);

// Applies plugins' merged adjustment to spec: annotations, environment, args,
// mounts, devices (node and cgroup rule), rlimits, resources, cgroups path, OOM
// score, sysctls, a seccomp policy (which replaces the container's), namespaces, OCI
// hooks, I/O priority, scheduler and memory policy. What the container's handler cannot honour
// (says its features), and what berth cannot apply yet (RDT, network devices, a
// seccomp notify listener), is FAILED_PRECONDITION naming it: a plugin's wish is
// never dropped in silence. CDI devices and the block I/O class are left to the
// caller, which has the node's CDI registry and block I/O classes.
Status ApplyNriAdjustment(const nri::api::ContainerAdjustment& adjust, const RuntimeHandler::Features& handler,
                          runtime::Spec* spec);

// Resources as NRI carries them, and back.
nri::api::LinuxResources NriResources(const cgroups::Resources& resources);
cgroups::Resources CgroupResources(const nri::api::LinuxResources& resources);

}  // namespace berth::pods

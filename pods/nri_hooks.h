// The lifecycle's side of NRI (nri/host.h): each hook sends its event to the
// plugins with the pod and container as berth has them. With NRI off (no host)
// every hook does nothing and costs nothing.
//
// StopContainer reaches plugins exactly once per container, whether a CRI call
// stopped it or it exited on its own, and before its RemoveContainer. The caller
// sends StopPodSandbox once per pod: when a ready pod stops (or is removed).
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "base/status.h"
#include "cdi/registry.h"
#include "nri/host.h"
#include "pods/blockio_classes.h"
#include "pods/records.h"
#include "pods/runtime_handler.h"
#include "runtime/spec.h"

namespace berth::pods {

class NriHooks {
 public:
  // host may be null (NRI off). cgroup_parent names a pod's cgroup parent.
  // cdi resolves the CDI devices plugins add, blockio the block I/O classes.
  NriHooks(nri::Host* host, std::function<std::string(const SandboxRecord&)> cgroup_parent, const cdi::Registry* cdi,
           const BlockIoClasses* blockio)
      : host_(host), cgroup_parent_(std::move(cgroup_parent)), cdi_(cdi), blockio_(blockio) {}

  bool enabled() const { return host_ != nullptr; }
  // Held by a creation from before its event until its record is added.
  nri::SyncGateHold HoldForCreation() { return host_ ? host_->HoldForCreation() : nri::SyncGateHold(); }

  // A plugin's refusal fails RunPodSandbox; the caller undoes the pod and calls
  // PodUndone so plugins that saw it forget it.
  Status RunPod(const SandboxRecord& pod);
  void PodUndone(const SandboxRecord& pod);
  // A ready pod stopped; a pod removed (stopped first, to plugins, if still ready).
  void PodStopped(const SandboxRecord& pod);
  void PodRemoved(const SandboxRecord& pod);
  Status UpdatePod(const SandboxRecord& pod, const cgroups::Resources& overhead, const cgroups::Resources& resources);

  // Plugins' adjustments, applied to spec; a refusal or a conflict fails the create.
  Status CreateContainer(const SandboxRecord& pod, const ContainerRecord& container,
                         const RuntimeHandler::Features& handler, runtime::Spec* spec);
  // A create that failed after CreateContainer's event: plugins forget it.
  void ContainerUndone(const SandboxRecord& pod, const ContainerRecord& container);
  void ContainerCreated(const SandboxRecord& pod, const ContainerRecord& container);
  Status StartContainer(const SandboxRecord& pod, const ContainerRecord& container);
  void ContainerStarted(const SandboxRecord& pod, const ContainerRecord& container);
  // The resources to apply: those asked for, as plugins changed them.
  StatusOr<cgroups::Resources> UpdateContainer(const SandboxRecord& pod, const ContainerRecord& container,
                                               const cgroups::Resources& resources);
  void ContainerUpdated(const SandboxRecord& pod, const ContainerRecord& container);
  void ContainerStopped(const SandboxRecord& pod, const ContainerRecord& container);
  void ContainerRemoved(const SandboxRecord& pod, const ContainerRecord& container);

 private:
  nri::api::PodSandbox Pod(const SandboxRecord& pod) const;
  // Whether this is the container's first stop; marks it stopped.
  bool FirstStop(const std::string& container_id);

  nri::Host* host_;
  std::function<std::string(const SandboxRecord&)> cgroup_parent_;
  const cdi::Registry* cdi_;
  const BlockIoClasses* blockio_;
  std::mutex mu_;
  std::set<std::string> stopped_containers_;
};

}  // namespace berth::pods

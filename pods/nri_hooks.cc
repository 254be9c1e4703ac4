#include "pods/nri_hooks.h"

#include "pods/nri_spec.h"

namespace berth::pods {

nri::api::PodSandbox NriHooks::Pod(const SandboxRecord& pod) const { return NriPod(pod, cgroup_parent_(pod)); }

bool NriHooks::FirstStop(const std::string& container_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_containers_.insert(container_id).second;
}

Status NriHooks::RunPod(const SandboxRecord& pod) {
  if (!host_) return absl::OkStatus();
  return host_->RunPodSandbox(Pod(pod));
}

void NriHooks::PodUndone(const SandboxRecord& pod) {
  if (!host_) return;
  nri::api::PodSandbox nri_pod = Pod(pod);
  host_->StopPodSandbox(nri_pod);
  host_->RemovePodSandbox(nri_pod);
}

void NriHooks::PodStopped(const SandboxRecord& pod) {
  if (host_) host_->StopPodSandbox(Pod(pod));
}

void NriHooks::PodRemoved(const SandboxRecord& pod) {
  if (!host_) return;
  // A pod removed without a stop first is stopped on the way.
  if (pod.state == SandboxState::kReady) PodStopped(pod);
  host_->RemovePodSandbox(Pod(pod));
}

Status NriHooks::UpdatePod(const SandboxRecord& pod, const cgroups::Resources& overhead,
                           const cgroups::Resources& resources) {
  if (!host_) return absl::OkStatus();
  nri::api::PodSandbox nri_pod = Pod(pod);
  RETURN_IF_ERROR(host_->UpdatePodSandbox(nri_pod, NriResources(overhead), NriResources(resources)));
  host_->PostUpdatePodSandbox(nri_pod);
  return absl::OkStatus();
}

Status NriHooks::CreateContainer(const SandboxRecord& pod, const ContainerRecord& container,
                                 const RuntimeHandler::Features& handler, runtime::Spec* spec) {
  if (!host_) return absl::OkStatus();
  ASSIGN_OR_RETURN(nri::api::ContainerAdjustment adjust,
                   host_->CreateContainer(Pod(pod), NriContainer(container, spec)));
  RETURN_IF_ERROR(ApplyNriAdjustment(adjust, handler, spec));
  if (adjust.linux().resources().has_blockio_class()) {
    if (!spec->resources) spec->resources.emplace();
    RETURN_IF_ERROR(Annotate(blockio_->Apply(adjust.linux().resources().blockio_class().value(), &*spec->resources),
                             "an NRI plugin's block I/O class"));
  }
  std::vector<std::string> devices;
  for (const auto& device : adjust.cdi_devices()) devices.push_back(device.name());
  return Annotate(cdi_->InjectDevices(devices, spec), "an NRI plugin's CDI devices");
}

void NriHooks::ContainerUndone(const SandboxRecord& pod, const ContainerRecord& container) {
  if (!host_) return;
  nri::api::PodSandbox nri_pod = Pod(pod);
  nri::api::Container nri_container = NriContainer(container, nullptr);
  host_->StopContainer(nri_pod, nri_container);
  host_->RemoveContainer(nri_pod, nri_container);
}

void NriHooks::ContainerCreated(const SandboxRecord& pod, const ContainerRecord& container) {
  if (host_) host_->PostCreateContainer(Pod(pod), NriContainer(container, nullptr));
}

Status NriHooks::StartContainer(const SandboxRecord& pod, const ContainerRecord& container) {
  if (!host_) return absl::OkStatus();
  return host_->StartContainer(Pod(pod), NriContainer(container, nullptr));
}

void NriHooks::ContainerStarted(const SandboxRecord& pod, const ContainerRecord& container) {
  if (host_) host_->PostStartContainer(Pod(pod), NriContainer(container, nullptr));
}

StatusOr<cgroups::Resources> NriHooks::UpdateContainer(const SandboxRecord& pod, const ContainerRecord& container,
                                                       const cgroups::Resources& resources) {
  if (!host_) return resources;
  ASSIGN_OR_RETURN(nri::api::LinuxResources adjusted,
                   host_->UpdateContainer(Pod(pod), NriContainer(container, nullptr), NriResources(resources)));
  // A class stands for a container's whole block I/O or RDT setup, which an update
  // through the handler cannot carry (runc's update takes no throttles): create only.
  if (adjusted.has_rdt_class() || adjusted.has_blockio_class()) {
    return absl::FailedPreconditionError(
        "an NRI plugin's update sets a block I/O or RDT class, which berth applies only at create");
  }
  return CgroupResources(adjusted);
}

void NriHooks::ContainerUpdated(const SandboxRecord& pod, const ContainerRecord& container) {
  if (host_) host_->PostUpdateContainer(Pod(pod), NriContainer(container, nullptr));
}

void NriHooks::ContainerStopped(const SandboxRecord& pod, const ContainerRecord& container) {
  if (!host_ || !FirstStop(container.id)) return;
  host_->StopContainer(Pod(pod), NriContainer(container, nullptr));
}

void NriHooks::ContainerRemoved(const SandboxRecord& pod, const ContainerRecord& container) {
  if (!host_) return;
  if (!container.nri_stop_announced) ContainerStopped(pod, container);
  host_->RemoveContainer(Pod(pod), NriContainer(container, nullptr));
  std::lock_guard<std::mutex> lock(mu_);
  stopped_containers_.erase(container.id);
}

}  // namespace berth::pods

// RunPodSandbox, StopPodSandbox and RemovePodSandbox: a pod's namespaces pinned
// (no pause process), its network attached, its /dev/shm, files and shared-PID init
// made, each undone if a later step fails, and all of it torn down at removal.
#include "absl/cleanup/cleanup.h"
#include "base/clock.h"
#include "base/fault_point.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/random_id.h"
#include "network/pod_dial.h"
#include "pods/lifecycle.h"
#include "pods/image_volumes.h"
#include "pods/pod_files.h"
#include "pods/user_namespace.h"
#include "runtime/sysctl.h"

namespace berth::pods {

Status Lifecycle::ForEachContainerLocked(const std::string& pod_id,
                                         const std::function<Status(const ContainerRecord&)>& step) {
  for (const auto& listed : records_.Containers()) {
    if (listed.pod_id != pod_id) continue;
    KeyedMutex::Lock container_lock = locks_.Acquire(listed.id);
    auto container = records_.GetContainer(listed.id);  // as it is now that it is ours
    if (container) RETURN_IF_ERROR(step(*container));
  }
  return absl::OkStatus();
}

void Lifecycle::StopPodInit(const SandboxRecord& pod) {
  if (pod.init_pid > 0) host_->StopPodInit({pod.init_pid, pod.init_start_time});
}

Status Lifecycle::TearDownPod(const SandboxRecord& pod) {
  StopPodInit(pod);
  for (const std::string* path : {&pod.netns_path, &pod.ipcns_path, &pod.utsns_path, &pod.userns_path}) {
    RETURN_IF_ERROR(host_->UnpinNamespace(*path));
  }
  RETURN_IF_ERROR(host_->UnmountShm(pod.shm_path));
  RETURN_IF_ERROR(RemoveImageVolumes(*rootfs_, pod));
  RETURN_IF_ERROR(RemoveAll(pod.dir));
  if (pod.spec.cgroup_parent.empty()) {
    cgroups::RemoveIfEmpty(cgroups_, "/berth/" + pod.id);
    cgroups::RemoveIfEmpty(cgroups_, "/berth");
  }
  return absl::OkStatus();
}

StatusOr<std::string> Lifecycle::RunPod(const PodSpec& spec) {
  if (spec.name.empty() || spec.uid.empty() || spec.namespace_name.empty()) {
    return absl::InvalidArgumentError("pod metadata needs a name, a uid and a namespace");
  }
  RETURN_IF_ERROR(handlers_->Get(spec.runtime_handler).status());
  RETURN_IF_ERROR(CheckPodUserNamespace(spec));
  if (HasOwnUserNamespace(spec) && !HandlerFeatures(spec.runtime_handler).user_namespaces) {
    return absl::FailedPreconditionError(absl::StrCat(
        "runtime handler \"", spec.runtime_handler,
        "\" cannot run pods in user namespaces on this node (it joins none, or this kernel or filesystem has no "
        "idmapped mounts)"));
  }
  bool own_net = spec.network != NamespaceMode::kNode;
  bool own_ipc = spec.ipc != NamespaceMode::kNode;
  // The pod's UTS namespace is its own exactly when its network is (as kubelet has it).
  runtime::PrivateNamespaces owned{.ipc = own_ipc, .network = own_net, .uts = own_net};
  for (const auto& [key, value] : spec.sysctls) RETURN_IF_ERROR(runtime::CheckSysctl(key, owned));
  // No lock: nothing else can reach the pod before its record is added, last; a
  // second pod of the same name fails there and undoes its own work.
  SandboxRecord pod;
  pod.id = RandomId();
  pod.spec = spec;
  pod.created_at = NowNanos();
  pod.dir = layout_.PodDir(pod.id);
  bool committed = false, announced = false;
  absl::Cleanup undo = [&] {
    if (committed) return;
    if (announced) nri_.PodUndone(pod);
    (void)network_.Detach(pod);
    Status undone = TearDownPod(pod);
    if (!undone.ok()) BERTH_LOG(Error) << "undo a failed RunPodSandbox" << Kv("pod", pod.id) << undone;
  };
  NamespaceRequest request;
  request.net = request.uts = own_net;
  request.ipc = own_ipc;
  request.hostname = spec.hostname;
  request.userns = spec.userns;
  ASSIGN_OR_RETURN(PinnedNamespaces ns, host_->PinNamespaces(pod.dir, request));
  pod.userns_path = ns.user;
  pod.netns_path = ns.net;
  pod.ipcns_path = ns.ipc;
  pod.utsns_path = ns.uts;
  FaultPoint("run-pod/namespaces-pinned");
  // The pod's network comes up before anything runs in it.
  if (own_net) RETURN_IF_ERROR(network_.Attach(pod, CgroupParent(pod)));
  FaultPoint("run-pod/network-attached");
  if (own_ipc) {
    RETURN_IF_ERROR(host_->MountShm(pod.dir + "/shm"));
    pod.shm_path = pod.dir + "/shm";
  }
  FaultPoint("run-pod/shm-mounted");
  if (spec.pid == NamespaceMode::kPod) {
    // A PID namespace shared by the pod lives as long as its pid 1 does.
    ASSIGN_OR_RETURN(PodInit init, host_->StartPodInit(pod.dir, pod.userns_path));
    pod.init_pid = init.pid;
    pod.init_start_time = init.start_time;
  }
  FaultPoint("run-pod/init-started");
  if (!spec.log_directory.empty()) RETURN_IF_ERROR(MakeDirs(spec.log_directory, 0755));
  RETURN_IF_ERROR(WritePodFiles(pod));
  FaultPoint("run-pod/files-written");
  {
    // NRI plugins hear of the pod before anything can list it; a plugin's refusal
    // undoes it whole, leaving its name free for kubelet's retry.
    nri::SyncGateHold creating = nri_.HoldForCreation();
    announced = nri_.enabled();
    RETURN_IF_ERROR(nri_.RunPod(pod));
    RETURN_IF_ERROR(records_.AddSandbox(pod));
  }
  committed = true;
  FaultPoint("run-pod/recorded");
  BERTH_LOG(Info) << "pod ready" << Kv("pod", pod.id) << Kv("name", spec.ReservationKey());
  return pod.id;
}

Status Lifecycle::StopPod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveSandboxId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock pod_lock = locks_.Acquire(*id);
  RETURN_IF_ERROR(ForEachContainerLocked(*id, [&](const ContainerRecord& container) {
    return StopContainerLocked(container, std::chrono::seconds(0));
  }));
  FaultPoint("stop-pod/containers-stopped");
  auto pod = records_.GetSandbox(*id);
  if (!pod) return absl::OkStatus();
  // Plugins hear of a pod's stop once, with its containers all exited and both
  // still listed.
  if (pod->state == SandboxState::kReady) nri_.PodStopped(*pod);
  StopPodInit(*pod);
  bool was_attached = pod->network_attached;
  // A failed DEL does not fail the stop: the pod's processes are gone, and the DEL
  // is owed until remove, which fails rather than leak the IP.
  Status detached = network_.Detach(*pod);
  if (!detached.ok()) BERTH_LOG(Warn) << "CNI DEL failed; retried when the pod is removed" << Kv("pod", *id) << detached;
  FaultPoint("stop-pod/network-detached");
  if (pod->state != SandboxState::kNotReady || was_attached != pod->network_attached) {
    pod->state = SandboxState::kNotReady;
    RETURN_IF_ERROR(records_.UpdateSandbox(*pod));
    BERTH_LOG(Info) << "pod stopped" << Kv("pod", *id);
  }
  return absl::OkStatus();
}

Status Lifecycle::RemovePod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveSandboxId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock pod_lock = locks_.Acquire(*id);
  RETURN_IF_ERROR(ForEachContainerLocked(
      *id, [&](const ContainerRecord& container) { return RemoveContainerLocked(container, Removal::kNow); }));
  // Containers removed earlier may still be cleaning up under the pod's cgroup.
  cleaner_.Drain();
  FaultPoint("remove-pod/containers-removed");
  auto pod = records_.GetSandbox(*id);
  if (!pod) return absl::OkStatus();
  nri_.PodRemoved(*pod);
  StopPodInit(*pod);
  if (pod->network_attached) {
    RETURN_IF_ERROR(Annotate(network_.Detach(*pod), "release the pod's network"));
    FaultPoint("remove-pod/network-detached");
    RETURN_IF_ERROR(records_.UpdateSandbox(*pod));
  }
  RETURN_IF_ERROR(TearDownPod(*pod));
  FaultPoint("remove-pod/torn-down");
  RETURN_IF_ERROR(records_.RemoveSandbox(*id));
  network_.Forget(*id);
  BERTH_LOG(Info) << "pod removed" << Kv("pod", *id);
  return absl::OkStatus();
}

StatusOr<UniqueFd> Lifecycle::DialPod(const std::string& pod_id, int32_t port) {
  ASSIGN_OR_RETURN(SandboxRecord pod, GetPod(pod_id));
  if (pod.state != SandboxState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", pod.id, " is not ready"));
  }
  // A host-network pod has no namespace of its own: its ports are the host's.
  return network::DialPodPort(pod.netns_path, port);
}

StatusOr<SandboxRecord> Lifecycle::GetPod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveSandboxId(id_prefix));
  auto pod = records_.GetSandbox(id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", id_prefix, "\" not found"));
  return *pod;
}

std::vector<SandboxRecord> Lifecycle::ListPods(const SandboxFilter& filter) {
  std::vector<SandboxRecord> out;
  for (auto& pod : records_.Sandboxes()) {
    if (Matches(filter, pod)) out.push_back(std::move(pod));
  }
  return out;
}

}  // namespace berth::pods

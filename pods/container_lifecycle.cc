// CreateContainer to RemoveContainer: a container's rootfs mounted from its image's
// layers, its OCI spec written, its shim started through the pod's runtime handler,
// each step undone if a later one fails; stop with the stop signal, then SIGKILL;
// removal finished in the background.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "base/clock.h"
#include "base/fault_point.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/random_id.h"
#include "base/mount_points.h"
#include "pods/checkpoint_archive.h"
#include "pods/idmapped_volumes.h"
#include "pods/image_volumes.h"
#include "pods/lifecycle.h"
#include "pods/oci_spec.h"
#include "pods/user_namespace.h"
#include "runtime/signals.h"

namespace berth::pods {
Status Lifecycle::RemoveContainerFiles(const ContainerRecord& container) {
  // Idmapped volumes (idmapped_volumes.h) are detached first: the writable layer's
  // removal below must not reach into what they show.
  RETURN_IF_ERROR(DetachMountsUnder(container.dir));
  RETURN_IF_ERROR(rootfs_->Remove(container.id, container.rootfs()));
  RETURN_IF_ERROR(RemoveAll(container.dir));
  return RemoveAll(container.run_dir);
}

StatusOr<std::string> Lifecycle::CreateContainer(const std::string& pod_id_prefix, const ContainerSpec& spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("container metadata needs a name");
  if (spec.image.empty()) return absl::InvalidArgumentError("container config names no image");
  ASSIGN_OR_RETURN(std::string pod_id, records_.ResolveSandboxId(pod_id_prefix));
  // The pod stays as it is (not stopped, not removed) until the container is added.
  KeyedMutex::Lock pod_lock = locks_.Acquire(pod_id);
  auto pod = records_.GetSandbox(pod_id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", pod_id_prefix, "\" not found"));
  if (pod->state != SandboxState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", pod_id, " is not ready"));
  }
  // An image that names a checkpoint archive: the container is restored from it
  // (container_checkpoint.cc), on the image the archive says, found further down.
  const bool from_checkpoint = NamesCheckpointArchive(spec.image);
  StatusOr<image::ImageRecord> image = absl::NotFoundError("");
  if (!from_checkpoint) {
    image = rootfs_->FindImage(spec.image);
    if (!image.ok() && image.status().code() == StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("image \"", spec.image, "\" is not present on this node"));
    }
    if (!image.ok()) return image.status();
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(pod->spec.runtime_handler));
  RETURN_IF_ERROR(CheckContainerUserNamespace(pod->spec, spec));
  if (from_checkpoint && !runtime->features().checkpoint) {
    return absl::FailedPreconditionError(absl::StrCat("image ", spec.image, " is a checkpoint, and runtime handler ",
                                                      runtime->name(), " cannot restore one"));
  }
  if (from_checkpoint && HasOwnUserNamespace(pod->spec)) {
    return absl::FailedPreconditionError("berth does not restore checkpoints into a pod with a user namespace");
  }
  cgroups::PrimeMigration(cgroups_);  // the init's move into its cgroup, ~10 ms from now

  ContainerRecord record;
  record.id = RandomId();
  record.pod_id = pod_id;
  record.spec = spec;
  record.created_at = NowNanos();
  record.handler = runtime->name();
  record.dir = layout_.ContainerDir(record.id);
  record.run_dir = layout_.ContainerRunDir(record.id);
  record.cgroup_path = CgroupPath(*pod, record.id);
  if (!pod->spec.log_directory.empty() && !spec.log_path.empty()) {
    record.log_path = pod->spec.log_directory + "/" + spec.log_path;
  }
  // Every step below is undone if a later one fails.
  bool committed = false, created = false, announced = false;
  absl::Cleanup undo = [&] {
    if (committed) return;
    if (announced) nri_.ContainerUndone(*pod, record);
    if (created) (void)runtime->Delete(record.id, /*force=*/true);
    Status undone = RemoveContainerFiles(record);
    if (!undone.ok()) BERTH_LOG(Error) << "undo a failed CreateContainer" << Kv("container", record.id) << undone;
  };
  RETURN_IF_ERROR(MakeDirs(record.rootfs(), 0755));
  if (from_checkpoint) {
    image = UnpackCheckpoint(spec.image, record);
    if (!image.ok()) return image.status();
  }
  record.image_id = image->id;
  RETURN_IF_ERROR(rootfs_->Mount(record.id, *image, record.rootfs(), pod->spec.userns, pod->userns_path));
  FaultPoint("create-container/rootfs-mounted");
  // Mount sources kubelet expects to exist are created as directories.
  for (const auto& m : spec.mounts) {
    if (!m.image.empty()) continue;  // an image volume (image_volumes.h)
    if (m.recursive_readonly && !runtime->features().recursive_read_only) {
      return absl::InvalidArgumentError(absl::StrCat("mount on ", m.container_path, ": runtime handler ",
                                                     runtime->name(), " has no recursive read-only mounts"));
    }
    if (m.host_path.empty() || m.host_path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("mount source \"", m.host_path, "\" must be an absolute host path"));
    }
    struct stat st;
    if (::stat(m.host_path.c_str(), &st) != 0) RETURN_IF_ERROR(MakeDirs(m.host_path, 0755));
  }
  std::string target_pid_ns;
  if (spec.security.pid == NamespaceMode::kTarget) {
    auto target = records_.GetContainer(spec.security.target_container_id);
    if (!target || !ProcessAlive(target->pid, target->pid_start_time)) {
      return absl::FailedPreconditionError(absl::StrCat("target container \"", spec.security.target_container_id,
                                                        "\" is not running"));
    }
    target_pid_ns = absl::StrCat("/proc/", target->pid, "/ns/pid");
  }
  // What the runtime mounts: the pod's copies of images for image volumes (the
  // record keeps which image each is), idmapped copies of the volumes that ask.
  ContainerSpec runtime_view = spec;
  ASSIGN_OR_RETURN(runtime_view.mounts, PrepareImageVolumes(*rootfs_, *pod, record.spec.mounts));
  if (!pod->userns_path.empty()) {
    ASSIGN_OR_RETURN(runtime_view.mounts,
                     AttachIdmappedVolumes(runtime_view.mounts, record.dir + "/idmapped", pod->userns_path));
  }
  SpecInputs inputs;
  inputs.pod = &*pod;
  inputs.container = &runtime_view;
  inputs.image = &image->config;
  inputs.container_id = record.id;
  inputs.rootfs = record.rootfs();
  inputs.cgroup_path = record.cgroup_path;
  inputs.cgroup_controllers = cgroups_.controllers;
  inputs.cgroup_v2 = cgroups_.mode == cgroups::Mode::kUnified;
  inputs.target_pid_ns = target_pid_ns;
  ASSIGN_OR_RETURN(runtime::Spec oci, BuildOciSpec(inputs));
  // CDI devices, as CRI's field and the older annotations ask; NRI plugins see them.
  std::vector<std::string> cdi_devices = spec.cdi_devices;
  for (std::string& device : cdi::DevicesInAnnotations(spec.annotations)) cdi_devices.push_back(std::move(device));
  RETURN_IF_ERROR(cdi_.InjectDevices(cdi_devices, &oci));
  record.uid = oci.process.user.uid;
  record.gid = oci.process.user.gid;
  record.supplemental_groups.assign(oci.process.user.additional_gids.begin(), oci.process.user.additional_gids.end());
  // NRI plugins adjust the spec before anything runs, and hear of the container
  // before anything can list it (the gate is held until its record is added).
  nri::SyncGateHold creating = nri_.HoldForCreation();
  announced = nri_.enabled();
  RETURN_IF_ERROR(nri_.CreateContainer(*pod, record, runtime->features(), &oci));
  if (!oci.net_devices.empty() && !runtime->features().net_devices) {
    // runc 1.1 would drop the field and start the container without the links.
    return absl::FailedPreconditionError(
        absl::StrCat("the container is given network devices (linux.netDevices, by CDI or NRI), which runtime handler ",
                     runtime->name(), " does not support"));
  }
  record.cgroup_path = oci.cgroups_path;
  if (!record.log_path.empty()) {
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(record.log_path).parent_path().string(), 0755));
  }
  if (from_checkpoint) {
    // Its shim starts at StartContainer, with the restore.
    RETURN_IF_ERROR(runtime->PrepareRestore(record, oci));
  } else {
    RETURN_IF_ERROR(runtime->Create(record, oci, OomFile(record.cgroup_path)));
  }
  created = true;
  FaultPoint("create-container/runtime-created");
  RETURN_IF_ERROR(records_.AddContainer(record, ContainerReservationKey(pod->spec, spec)));
  committed = true;
  creating.Release();
  FaultPoint("create-container/recorded");
  nri_.ContainerCreated(*pod, record);
  if (!from_checkpoint) exits_.Watch(record.id, record.shim_pid, record.shim_start_time);
  BERTH_LOG(Info) << "container created" << Kv("container", record.id) << Kv("pod", pod_id)
                  << Kv("name", spec.name) << Kv("handler", runtime->name());
  return record.id;
}

Status Lifecycle::StartContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  auto stored = records_.GetContainer(id);
  if (!stored) return absl::NotFoundError(absl::StrCat("container \"", id_prefix, "\" not found"));
  ContainerRecord record = Refresh(*stored);
  if (record.state != ContainerState::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " is not in the created state"));
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(record.handler));
  // Taken before the start: a process that exits at once must not seem to have
  // finished before it started.
  int64_t started_at = NowNanos();
  auto pod = records_.GetSandbox(record.pod_id);
  // NRI plugins may refuse the start; that fails it as a start error would.
  Status started = pod ? nri_.StartContainer(*pod, record) : absl::OkStatus();
  bool refused = !started.ok();
  if (!refused) started = record.AwaitsRestore() ? RestoreContainer(record, runtime) : runtime->Start(id);
  if (!started.ok() && !refused && !record.AwaitsRestore()) {
    // An earlier StartContainer may have started it and died before recording so
    // (berthd killed between the two): then this start is that one's retry.
    auto state = runtime->State(id);
    if (state.ok() && *state != "created") {
      BERTH_LOG(Info) << "container was started by a start berthd did not live to record" << Kv("container", id);
      started = absl::OkStatus();
    }
  }
  if (!started.ok()) {
    record.state = ContainerState::kExited;
    record.finished_at = NowNanos();
    record.exit_code = 128;
    record.reason = "StartError";
    record.message = std::string(started.message());
    (void)records_.UpdateContainer(record);
    AnnounceStopped(record);
    return started;
  }
  FaultPoint("start-container/started");
  record.state = ContainerState::kRunning;
  record.started_at = started_at;
  RETURN_IF_ERROR(records_.UpdateContainer(record));
  FaultPoint("start-container/recorded");
  // An exit while the start held the lock went unrecorded by the exit watcher
  // (it takes no lock it must wait for): recorded now, and announced.
  record = Refresh(record);
  if (pod) nri_.ContainerStarted(*pod, record);
  BERTH_LOG(Info) << "container started" << Kv("container", id);
  return absl::OkStatus();
}

Status Lifecycle::StopContainerLocked(ContainerRecord record, std::chrono::seconds timeout) {
  record = Refresh(record);
  if (record.state == ContainerState::kExited) return absl::OkStatus();
  if (record.AwaitsRestore()) {
    // Nothing of it ever ran: stopped as it is.
    record.state = ContainerState::kExited;
    record.finished_at = NowNanos();
    record.reason = "Completed";
    RETURN_IF_ERROR(records_.UpdateContainer(record));
    AnnounceStopped(record);
    return absl::OkStatus();
  }
  if (record.state == ContainerState::kUnknown) {
    // Nothing of it runs any more (that is how it became unknown): stopped, as is.
    record.state = ContainerState::kExited;
    RETURN_IF_ERROR(records_.UpdateContainer(record));
    AnnounceStopped(record);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(record.handler));
  auto image = rootfs_->FindImage(record.image_id);
  std::string signal_name = record.spec.stop_signal;
  if (signal_name.empty() && image.ok()) signal_name = image->config.stop_signal;
  int signal = signal_name.empty() ? SIGTERM : runtime::ParseSignal(signal_name).value_or(SIGTERM);
  if (timeout.count() > 0 && record.state == ContainerState::kRunning) {
    Status sent = runtime->Kill(record.id, signal);
    FaultPoint("stop-container/signalled");
    if (sent.ok() && WaitForProcessExit(record.shim_pid, record.shim_start_time, timeout)) {
      Refresh(record);
      return absl::OkStatus();
    }
  }
  // Out of patience (or none asked for): SIGKILL cannot be ignored.
  (void)runtime->Kill(record.id, SIGKILL);
  FaultPoint("stop-container/killed");
  if (!WaitForProcessExit(record.shim_pid, record.shim_start_time, std::chrono::seconds(30))) {
    return absl::DeadlineExceededError(absl::StrCat("container ", record.id, " did not exit after SIGKILL"));
  }
  Refresh(record);
  return absl::OkStatus();
}

Status Lifecycle::StopContainer(const std::string& id_prefix, std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveContainerId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock lock = locks_.Acquire(*id);
  auto record = records_.GetContainer(*id);
  if (!record) return absl::OkStatus();
  return StopContainerLocked(*record, timeout);
}

Status Lifecycle::DeleteContainer(const ContainerRecord& record) {
  auto runtime = handlers_->Get(record.handler);
  if (runtime.ok()) {
    Status deleted = (*runtime)->Delete(record.id, /*force=*/true);
    // Already gone from the runtime (a crash between its delete and ours): fine.
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  }
  FaultPoint("remove-container/runtime-deleted");
  return RemoveContainerFiles(record);
}

Status Lifecycle::RemoveContainerLocked(ContainerRecord record, Removal removal) {
  RETURN_IF_ERROR(StopContainerLocked(record, std::chrono::seconds(0)));
  FaultPoint("remove-container/stopped");
  if (nri_.enabled()) {
    auto pod = records_.GetSandbox(record.pod_id);
    auto stopped = records_.GetContainer(record.id);
    if (pod) nri_.ContainerRemoved(*pod, stopped ? *stopped : record);
  }
  if (removal == Removal::kNow) {
    RETURN_IF_ERROR(DeleteContainer(record));
    RETURN_IF_ERROR(records_.RemoveContainer(record.id));
  } else {
    // The container is gone for CRI once its record is; the runtime's state, the
    // rootfs mount and the writable layer go right after, off the caller's time (as
    // containerd leaves them to its garbage collector). What a crash interrupts, the
    // start-up sweep of container directories without a record finishes.
    RETURN_IF_ERROR(records_.RemoveContainer(record.id));
    FaultPoint("remove-container/unrecorded");
    cleaner_.Submit([this, record] {
      Status deleted = DeleteContainer(record);
      if (!deleted.ok()) BERTH_LOG(Error) << "clean up a removed container" << Kv("container", record.id) << deleted;
    });
  }
  BERTH_LOG(Info) << "container removed" << Kv("container", record.id);
  return absl::OkStatus();
}

Status Lifecycle::RemoveContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveContainerId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock lock = locks_.Acquire(*id);
  auto record = records_.GetContainer(*id);
  if (!record) return absl::OkStatus();
  return RemoveContainerLocked(*record, Removal::kInBackground);
}

StatusOr<ContainerRecord> Lifecycle::GetContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  auto record = records_.GetContainer(id);
  if (!record) return absl::NotFoundError(absl::StrCat("container \"", id_prefix, "\" not found"));
  return RefreshForRead(*record);
}

std::vector<ContainerRecord> Lifecycle::ListContainers(const ContainerFilter& filter) {
  std::vector<ContainerRecord> out;
  for (auto& stored : records_.Containers()) {
    if (!MatchesIgnoringState(filter, stored)) continue;
    ContainerRecord record = RefreshForRead(stored);
    if (filter.state && record.state != *filter.state) continue;
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace berth::pods

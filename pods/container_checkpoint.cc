// Checkpoint and restore of containers (KEP-2008) through CRIU, by the container's
// runtime handler. A checkpoint is an archive (checkpoint_archive.h) written while
// the container keeps running; a container is restored by a CreateContainer whose
// image names such an archive, in this pod or another: its rootfs is the image the
// checkpoint was taken on plus the archived writable layer, and StartContainer
// brings its processes back from CRIU's images instead of starting them afresh.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "base/clock.h"
#include "base/file_util.h"
#include "base/log.h"
#include "image/layer_unpacker.h"
#include "pods/checkpoint_archive.h"
#include "pods/lifecycle.h"
#include "pods/user_namespace.h"

namespace berth::pods {
namespace {

// What CRIU cannot take through the runtimes berth drives, refused before it runs.
Status CheckCheckpointable(const ContainerRecord& container, const SandboxRecord& pod, RuntimeHandler* runtime) {
  if (!runtime->features().checkpoint) {
    return absl::FailedPreconditionError(absl::StrCat("container ", container.id, " runs on runtime handler ",
                                                      runtime->name(),
                                                      ", which cannot checkpoint"));
  }
  if (container.spec.tty) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", container.id, " has a terminal, which CRIU cannot checkpoint"));
  }
  if (HasOwnUserNamespace(pod.spec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", container.id, " is in a user namespace, which berth does not checkpoint"));
  }
  if (container.spec.security.pid != NamespaceMode::kContainer) {
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", container.id, " shares a PID namespace, which berth does not checkpoint (only a container "
        "with a PID namespace of its own can be restored whole)"));
  }
  return absl::OkStatus();
}

// The OCI spec as spec.dump, with the annotations checkpoint readers look for
// (checkpointctl shows a container by containerd's keys).
StatusOr<std::string> SpecDump(const ContainerRecord& container, const SandboxRecord& pod) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(container.bundle() + "/config.json"));
  auto spec = nlohmann::json::parse(text, nullptr, false);
  if (!spec.is_object()) return absl::DataLossError(absl::StrCat("container ", container.id, " has a broken spec"));
  auto& annotations = spec["annotations"];
  if (!annotations.is_object()) annotations = nlohmann::json::object();
  annotations["io.kubernetes.cri.container-type"] = "container";
  annotations["io.kubernetes.cri.container-name"] = container.spec.name;
  annotations["io.kubernetes.cri.sandbox-id"] = pod.id;
  annotations["io.kubernetes.cri.sandbox-name"] = pod.spec.name;
  annotations["io.kubernetes.cri.sandbox-namespace"] = pod.spec.namespace_name;
  annotations["io.kubernetes.cri.sandbox-uid"] = pod.spec.uid;
  annotations["io.kubernetes.cri.image-name"] = container.spec.image;
  return spec.dump(2);
}

Status CopyIfPresent(const std::string& from, const std::string& to) {
  auto data = ReadFile(from);
  if (!data.ok()) return absl::OkStatus();  // CRIU writes its statistics only when asked to
  return WriteFileAtomically(to, *data, 0600, Durability::kCrash);
}

}  // namespace

StatusOr<Lifecycle::Checkpointable> Lifecycle::CheckCheckpointableLocked(const std::string& id) {
  auto stored = records_.GetContainer(id);
  if (!stored) return absl::NotFoundError(absl::StrCat("container \"", id, "\" not found"));
  ContainerRecord container = Refresh(*stored);
  if (container.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", container.id, " is not running"));
  }
  auto pod = records_.GetSandbox(container.pod_id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox ", container.pod_id, " not found"));
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(container.handler));
  RETURN_IF_ERROR(CheckCheckpointable(container, *pod, runtime));
  return Checkpointable{std::move(container), *std::move(pod), runtime};
}

Status Lifecycle::ExportCheckpoint(const Checkpointable& target, const std::string& location,
                                   const CheckpointOptions& options) {
  const ContainerRecord& container = target.container;
  // The archive's contents are gathered here, then packed into location.
  const std::string staging = container.dir + "/checkpoint-export";
  RETURN_IF_ERROR(RemoveAll(staging));
  absl::Cleanup remove_staging = [&] { (void)RemoveAll(staging); };
  RuntimeHandler::CriuRequest criu;
  criu.criu = checkpoint_.binary();
  criu.images_dir = staging + "/" + kCheckpointImagesDir;
  criu.work_dir = container.run_dir + "/criu-dump";
  criu.tcp_established = options.tcp_established;
  RETURN_IF_ERROR(RemoveAll(criu.work_dir));
  const int64_t checkpointed_at = NowNanos();
  RETURN_IF_ERROR(target.runtime->Checkpoint(container.id, criu, options.timeout));

  CheckpointedContainer config;
  config.id = container.id;
  config.name = container.spec.name;
  config.image = container.spec.image;
  config.image_ref = container.image_id;
  config.image_name = container.spec.image;
  config.runtime = container.handler;
  config.created_at = container.created_at;
  config.checkpointed_at = checkpointed_at;
  RETURN_IF_ERROR(WriteFileAtomically(staging + "/" + kCheckpointConfigFile, CheckpointedContainerJson(config), 0600,
                                      Durability::kCrash));
  ASSIGN_OR_RETURN(std::string spec_dump, SpecDump(container, target.pod));
  RETURN_IF_ERROR(WriteFileAtomically(staging + "/" + kCheckpointSpecFile, spec_dump, 0600, Durability::kCrash));
  // Still paused: the files are of the moment the processes were dumped.
  ASSIGN_OR_RETURN(std::vector<std::string> deleted,
                   WriteRootfsDiff(container.dir + "/upper", staging + "/" + kCheckpointRootfsDiff));
  RETURN_IF_ERROR(WriteFileAtomically(staging + "/" + kCheckpointDeletedFiles, nlohmann::json(deleted).dump(), 0600,
                                      Durability::kCrash));
  RETURN_IF_ERROR(CopyIfPresent(criu.images_dir + "/" + kCheckpointStatsFile, staging + "/" + kCheckpointStatsFile));
  RETURN_IF_ERROR(CopyIfPresent(criu.work_dir + "/" + kCheckpointDumpLog, staging + "/" + kCheckpointDumpLog));
  RETURN_IF_ERROR(WriteArchive(staging, location));
  BERTH_LOG(Info) << "container checkpointed" << Kv("container", container.id) << Kv("archive", location);
  return absl::OkStatus();
}

Status Lifecycle::CheckpointContainer(const std::string& id_prefix, const std::string& location,
                                      const CheckpointOptions& options) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  ASSIGN_OR_RETURN(Checkpointable target, CheckCheckpointableLocked(id));
  RETURN_IF_ERROR(checkpoint_.Available());
  const std::string parent = std::filesystem::path(location).parent_path().string();
  if (::access(parent.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint location ", location, ": directory ", parent,
                                                   " is not there or not writable"));
  }
  ASSIGN_OR_RETURN(PausedContainers paused, PauseForCheckpoint({target}));
  Status exported = ExportCheckpoint(target, location, options);
  Status resumed = paused.ResumeAll();
  return exported.ok() ? resumed : exported;
}

StatusOr<Lifecycle::PausedContainers> Lifecycle::PauseForCheckpoint(const std::vector<Checkpointable>& targets) {
  PausedContainers paused;
  for (const Checkpointable& target : targets) {
    Status status = target.runtime->Pause(target.container.id);
    if (!status.ok()) {
      (void)paused.ResumeAll();
      return Annotate(status, absl::StrCat("pause container ", target.container.id, " for its checkpoint"));
    }
    paused.containers.emplace_back(target.container.id, target.runtime);
  }
  return paused;
}

Status Lifecycle::PausedContainers::ResumeAll() {
  Status first = absl::OkStatus();
  for (const auto& [id, runtime] : containers) {
    Status resumed = runtime->Resume(id);
    if (!resumed.ok()) {
      BERTH_LOG(Error) << "resume a container after its checkpoint" << Kv("container", id) << resumed;
      if (first.ok()) first = resumed;
    }
  }
  containers.clear();
  return first;
}

Lifecycle::PausedContainers::~PausedContainers() { (void)ResumeAll(); }

StatusOr<image::ImageRecord> Lifecycle::UnpackCheckpoint(const std::string& archive, ContainerRecord& record) {
  RETURN_IF_ERROR(checkpoint_.Available());
  const std::string dir = record.dir + "/checkpoint";
  RETURN_IF_ERROR(ExtractArchive(archive, dir));
  ASSIGN_OR_RETURN(std::string config_text, ReadFile(dir + "/" + kCheckpointConfigFile));
  auto config = ParseCheckpointedContainer(config_text);
  if (!config.ok()) return Annotate(config.status(), absl::StrCat("checkpoint archive ", archive));
  const std::string& wanted = config->image_ref.empty() ? config->image : config->image_ref;
  auto image = rootfs_->FindImage(wanted);
  if (!image.ok() && !config->image_name.empty()) image = rootfs_->FindImage(config->image_name);
  if (!image.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint archive ", archive, " was taken on image ",
                                                      config->image_name, " (", config->image_ref,
                                                      "), which is not on this node: pull it first"));
  }
  // The writable layer as the checkpoint left it; the layer is still empty and
  // unmounted, so it takes the diff as the image store takes a layer.
  const std::string diff = dir + "/" + kCheckpointRootfsDiff;
  if (::access(diff.c_str(), R_OK) == 0) {
    RETURN_IF_ERROR(MakeDirs(record.dir + "/upper", 0755));
    auto unpacked = image::UnpackLayer(diff, record.dir + "/upper");
    if (!unpacked.ok()) {
      return Annotate(unpacked.status(), absl::StrCat("checkpoint archive ", archive, " rootfs diff"));
    }
  }
  record.checkpoint_dir = dir;
  // The container's image is the one it was checkpointed on, not the archive.
  record.spec.image = config->image_name.empty() ? config->image : config->image_name;
  return *std::move(image);
}

Status Lifecycle::RestoreContainer(ContainerRecord& record, RuntimeHandler* runtime) {
  RETURN_IF_ERROR(checkpoint_.Available());
  RuntimeHandler::CriuRequest criu;
  criu.criu = checkpoint_.binary();
  criu.images_dir = record.checkpoint_dir + "/" + kCheckpointImagesDir;
  criu.work_dir = record.run_dir + "/criu-restore";
  // Connections the checkpoint kept are restored; CRIU refuses them where the
  // address they had is gone.
  criu.tcp_established = true;
  Status restored = runtime->Restore(record, OomFile(record.cgroup_path), criu);
  if (!restored.ok() && runtime->State(record.id).ok()) {
    // The handler has the container already: an earlier StartContainer restored it
    // and berthd died before recording its processes, which it cannot watch now.
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", record.id, " was restored by a StartContainer that berthd did not live to record; "
        "remove it and restore the checkpoint again"));
  }
  RETURN_IF_ERROR(restored);
  exits_.Watch(record.id, record.shim_pid, record.shim_start_time);
  BERTH_LOG(Info) << "container restored" << Kv("container", record.id) << Kv("pid", record.pid);
  return absl::OkStatus();
}

}  // namespace berth::pods

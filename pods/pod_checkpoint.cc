// CheckpointPod and RestorePod: a pod's checkpoint is a directory the caller owns,
// holding one container archive (checkpoint_archive.h) per container, named after
// it, and two files about the pod, laid out as CRI-O's pod checkpoints are:
//   pod.options   the format version and which archive holds which container
//   pod.dump      the pod's spec when it was checkpointed
// Every container is paused before the first is dumped and resumed only after the
// last, so the archives are one moment of the whole pod.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "base/file_util.h"
#include "base/log.h"
#include "pods/checkpoint_archive.h"
#include "pods/lifecycle.h"

namespace berth::pods {
namespace {

constexpr char kPodDumpFile[] = "pod.dump";

// The archive of a container in the pod's directory: its name where that is a plain
// file name (kubelet's are DNS labels), its id otherwise, so no name can lead
// outside the directory.
std::string ArchiveName(const ContainerRecord& container) {
  const std::string& name = container.spec.name;
  bool plain = !name.empty() && name.size() <= 200 && name[0] != '.' &&
               name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                   std::string::npos;
  return (plain ? name : container.id) + ".tar";
}

// The names in dir, or an error when it is not a directory that can be read.
StatusOr<std::vector<std::string>> DirectoryEntries(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), ::closedir);
  if (!handle) return ErrnoError("open directory " + dir);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(handle.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  return names;
}

// pod.options: which archive holds which container.
StatusOr<std::map<std::string, std::string>> ReadPodOptions(const std::string& dir) {
  auto text = ReadFile(dir + "/" + kPodOptionsFile);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " is not a pod checkpoint: it has no ", kPodOptionsFile));
  }
  auto archives = ParsePodOptions(*text);
  if (!archives.ok()) return Annotate(archives.status(), dir);
  return archives;
}

}  // namespace

Status Lifecycle::CheckpointPod(const std::string& pod_id_prefix, const std::string& output_dir,
                                const std::vector<std::string>& container_ids, const CheckpointOptions& options) {
  if (container_ids.empty()) return absl::InvalidArgumentError("CheckpointPod names no containers");
  ASSIGN_OR_RETURN(std::string pod_id, records_.ResolveSandboxId(pod_id_prefix));
  KeyedMutex::Lock pod_lock = locks_.Acquire(pod_id);
  auto pod = records_.GetSandbox(pod_id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", pod_id_prefix, "\" not found"));
  if (pod->state != SandboxState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", pod_id, " is not ready"));
  }
  // Each container's lock, in id order (a pod's lock is already held: no other
  // caller takes two of them in another order).
  std::vector<std::string> ids;
  for (const std::string& prefix : container_ids) {
    ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(prefix));
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CheckpointPod names container ", *std::adjacent_find(ids.begin(), ids.end()), " twice"));
  }
  std::vector<KeyedMutex::Lock> locks;
  locks.reserve(ids.size());
  std::vector<Checkpointable> targets;
  std::set<std::string> names;
  for (const std::string& id : ids) {
    locks.push_back(locks_.Acquire(id));
    ASSIGN_OR_RETURN(Checkpointable target, CheckCheckpointableLocked(id));
    if (target.container.pod_id != pod_id) {
      return absl::InvalidArgumentError(absl::StrCat("container ", id, " is not in pod sandbox ", pod_id));
    }
    names.insert(target.container.spec.name);
    targets.push_back(std::move(target));
  }
  if (names.size() != targets.size()) {
    return absl::InvalidArgumentError("CheckpointPod names two containers with one name");
  }
  RETURN_IF_ERROR(checkpoint_.Available());
  struct stat st;
  if (::stat(output_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint output path ", output_dir, " is not a directory"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> present, DirectoryEntries(output_dir));
  if (!present.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint output path ", output_dir, " is not empty"));
  }

  // What this call writes goes again if it fails: the directory is the caller's.
  bool done = false;
  absl::Cleanup remove_partial = [&] {
    if (done) return;
    auto written = DirectoryEntries(output_dir);
    if (!written.ok()) return;
    for (const std::string& name : *written) (void)RemoveAll(output_dir + "/" + name);
  };
  std::map<std::string, std::string> archives;
  {
    ASSIGN_OR_RETURN(PausedContainers paused, PauseForCheckpoint(targets));
    for (const Checkpointable& target : targets) {
      const std::string archive = ArchiveName(target.container);
      RETURN_IF_ERROR(ExportCheckpoint(target, output_dir + "/" + archive, options));
      archives[target.container.spec.name] = archive;
    }
    RETURN_IF_ERROR(paused.ResumeAll());
  }
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/" + kPodOptionsFile, PodOptionsJson(archives), 0600));
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/" + kPodDumpFile, nlohmann::json(pod->spec).dump(2), 0600));
  done = true;
  BERTH_LOG(Info) << "pod checkpointed" << Kv("pod", pod_id) << Kv("containers", targets.size())
                  << Kv("dir", output_dir);
  return absl::OkStatus();
}

StatusOr<Lifecycle::RestoredPod> Lifecycle::RestorePod(const std::string& checkpoint_dir, const PodSpec& pod,
                                                       const std::vector<ContainerSpec>& containers) {
  if (containers.empty()) return absl::InvalidArgumentError("RestorePod has no container configs");
  RETURN_IF_ERROR(checkpoint_.Available());
  ASSIGN_OR_RETURN(auto archives, ReadPodOptions(checkpoint_dir));
  std::set<std::string> requested;
  for (const ContainerSpec& container : containers) {
    if (container.name.empty()) return absl::InvalidArgumentError("RestorePod: a container config has no name");
    if (!requested.insert(container.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("RestorePod: container ", container.name, " is named twice"));
    }
    if (!archives.count(container.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("RestorePod: the checkpoint has no container named ", container.name));
    }
  }
  for (const auto& [name, archive] : archives) {
    if (!requested.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("RestorePod: the checkpoint's container ", name, " has no container config"));
    }
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(pod.runtime_handler));
  if (!runtime->features().checkpoint) {
    return absl::FailedPreconditionError(
        absl::StrCat("runtime handler ", runtime->name(), " cannot restore checkpoints"));
  }

  RestoredPod restored;
  ASSIGN_OR_RETURN(restored.pod_id, RunPod(pod));
  absl::Cleanup remove_pod = [&] {
    Status removed = RemovePod(restored.pod_id);
    if (!removed.ok()) BERTH_LOG(Error) << "undo a failed RestorePod" << Kv("pod", restored.pod_id) << removed;
  };
  for (ContainerSpec container : containers) {
    // The container's image is its archive: CreateContainer restores from it.
    const std::string expected_image = container.image;
    container.image = checkpoint_dir + "/" + archives[container.name];
    ASSIGN_OR_RETURN(std::string id, CreateContainer(restored.pod_id, container));
    restored.containers.emplace_back(container.name, id);
    // The config describes the checkpointed process: an image other than the one
    // the checkpoint was taken on is a mismatch the restore must refuse.
    auto made = records_.GetContainer(id);
    auto expected = rootfs_->FindImage(expected_image);
    if (!expected_image.empty() && made && (!expected.ok() || expected->id != made->image_id)) {
      return absl::InvalidArgumentError(absl::StrCat("RestorePod: container ", container.name, " names image ",
                                                     expected_image, ", but its checkpoint was taken on ",
                                                     made->spec.image, " (", made->image_id, ")"));
    }
  }
  std::move(remove_pod).Cancel();
  BERTH_LOG(Info) << "pod restored" << Kv("pod", restored.pod_id) << Kv("checkpoint", checkpoint_dir);
  return restored;
}

}  // namespace berth::pods

// What a start of berthd does with what it finds. It assumes:
// - the database holds every pod and container that CRI was told exists: a record is
//   added as the last step of a create; a pod's goes as the last step of its
//   removal, a container's before its files are cleaned up in the background;
// - a pod or container directory without a record was left by a create or removal
//   that berthd did not finish (it died, or was killed, midway): it is removed, with
//   whatever processes, mounts and pinned namespaces it got to;
// - containers and their shims outlive berthd: an exit while berthd was away is in
//   the shim's exit file, read here and on every later read;
// - a pod's network attachment is cached before its first plugin runs, so one
//   without a record is released, and one with a record is looked at (see
//   SandboxNetwork::Recover): a healthy pod is never disturbed.
// It runs before the CRI socket exists, so nothing races with it.
#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "base/fault_point.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/process.h"
#include "pods/lifecycle.h"
#include "pods/shim/protocol.h"

namespace berth::pods {
namespace {

// The pid of the pod's shared-PID init, from the file it writes before it answers;
// 0 when there is none, or when that pid now belongs to another process.
pid_t PodInitPid(const std::string& pod_dir) {
  auto text = ReadFile(shim::PodInitPidFile(pod_dir));
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 0) return 0;
  auto name = ReadFile(absl::StrCat("/proc/", pid, "/comm"));
  if (!name.ok() || absl::StripAsciiWhitespace(*name) != shim::kPodInitName) return 0;
  return pid;
}

}  // namespace

Status Lifecycle::Recover() {
  RETURN_IF_ERROR(records_.Load());
  FaultPoint("recover/records-loaded");
  // Containers that exited while berthd was away have exit files now; the others'
  // exits are watched from here on.
  for (const auto& stored : records_.Containers()) {
    // A handler the config no longer names (runtimes.handlers changed) strands its
    // containers: stop and removal need it.
    if (!handlers_->Get(stored.handler).ok()) {
      BERTH_LOG(Warn) << "a container's runtime handler is not offered any more: it cannot be stopped or "
                         "removed until the config names it again"
                      << Kv("container", stored.id) << Kv("handler", stored.handler);
    }
    ContainerRecord record = Refresh(stored);
    if ((record.state == ContainerState::kCreated || record.state == ContainerState::kRunning) &&
        !record.AwaitsRestore()) {
      exits_.Watch(record.id, record.shim_pid, record.shim_start_time);
    }
  }
  // Networks first: a DEL needs the orphan pod's namespace still pinned.
  network_.Recover(records_);
  FaultPoint("recover/networks-recovered");
  RemoveOrphans();
  BERTH_LOG(Info) << "recovered" << Kv("pods", records_.Sandboxes().size())
                  << Kv("containers", records_.Containers().size());
  return absl::OkStatus();
}

void Lifecycle::RemoveOrphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout_.ContainersDir(), ec)) {
    ContainerRecord orphan;
    orphan.id = entry.path().filename().string();
    if (records_.GetContainer(orphan.id)) continue;
    BERTH_LOG(Warn) << "removing a container left without a record (by an unfinished create or removal)"
                    << Kv("container", orphan.id);
    orphan.dir = entry.path().string();
    orphan.run_dir = layout_.ContainerRunDir(orphan.id);
    // Its shim, if it got that far, is the init's parent and exits once the init is killed.
    int init = 0;
    auto init_text = ReadFile(orphan.bundle() + "/init.pid");
    pid_t shim = 0;
    if (init_text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*init_text), &init) && init > 0) {
      shim = ParentPid(init);
    }
    uint64_t shim_start = ProcessStartTime(shim);
    for (RuntimeHandler* handler : handlers_->All()) (void)handler->Delete(orphan.id, /*force=*/true);
    if (shim > 1) (void)WaitForProcessExit(shim, shim_start, std::chrono::seconds(5));
    FaultPoint("recover/orphan-container-stopped");
    Status removed = RemoveContainerFiles(orphan);
    if (!removed.ok()) BERTH_LOG(Error) << "remove an unfinished container" << Kv("container", orphan.id) << removed;
  }
  for (const auto& entry : std::filesystem::directory_iterator(layout_.PodsDir(), ec)) {
    std::string id = entry.path().filename().string();
    if (records_.GetSandbox(id)) continue;
    BERTH_LOG(Warn) << "removing a pod an unfinished RunPodSandbox left" << Kv("pod", id);
    SandboxRecord orphan;
    orphan.id = id;
    orphan.dir = entry.path().string();
    orphan.init_pid = PodInitPid(orphan.dir);
    orphan.init_start_time = ProcessStartTime(orphan.init_pid);
    // What RunPod would have recorded, where it got that far.
    struct stat st;
    for (auto [kind, path] : {std::pair{"net", &orphan.netns_path}, std::pair{"ipc", &orphan.ipcns_path},
                              std::pair{"uts", &orphan.utsns_path}, std::pair{"user", &orphan.userns_path},
                              std::pair{"shm", &orphan.shm_path}}) {
      std::string candidate = absl::StrCat(orphan.dir, "/", kind);
      if (::stat(candidate.c_str(), &st) == 0) *path = candidate;
    }
    FaultPoint("recover/orphan-pod-found");
    Status removed = TearDownPod(orphan);
    if (!removed.ok()) BERTH_LOG(Error) << "remove an unfinished pod" << Kv("pod", id) << removed;
  }
}

}  // namespace berth::pods

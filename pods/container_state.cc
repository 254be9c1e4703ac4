// A container's state as it is now: its shim writes an exit file when the
// container's process ends, so the state read after a berthd restart is as right as
// one read before; a shim and process both gone without one is an exit nobody
// recorded.
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/process.h"
#include "pods/lifecycle.h"
#include "pods/shim/protocol.h"

namespace berth::pods {

ContainerRecord Lifecycle::Refresh(ContainerRecord record) {
  ContainerRecord seen = Observe(record);
  if (seen.state == record.state) return seen;
  if (record.state == ContainerState::kRunning && !seen.cgroup_path.empty()) {
    // The init is gone. In a pod sharing one PID namespace the kernel ends nothing
    // else with it: processes exec'd into the container would live on. None may.
    const int killed = cgroups::KillAll(cgroups_, seen.cgroup_path);
    if (killed > 0) {
      BERTH_LOG(Info) << "ended what outlived the container" << Kv("container", seen.id) << Kv("processes", killed);
    }
  }
  Status saved = records_.UpdateContainer(seen);
  if (!saved.ok()) BERTH_LOG(Error) << "record container exit" << Kv("container", seen.id) << saved;
  AnnounceStopped(seen);
  return seen;
}

void Lifecycle::AnnounceStopped(ContainerRecord& record) {
  if (!nri_.enabled() || record.nri_stop_announced) return;
  if (record.state != ContainerState::kExited && record.state != ContainerState::kUnknown) return;
  auto pod = records_.GetSandbox(record.pod_id);
  if (!pod) return;
  nri_.ContainerStopped(*pod, record);
  // Kept, so that a RemoveContainer after a restart does not announce the stop again.
  record.nri_stop_announced = true;
  Status saved = records_.UpdateContainer(record);
  if (!saved.ok()) BERTH_LOG(Warn) << "record NRI's stop event" << Kv("container", record.id) << saved;
}

ContainerRecord Lifecycle::RefreshForRead(const ContainerRecord& stored) {
  ContainerRecord seen = Observe(stored);
  if (seen.state == stored.state) return seen;
  // Whoever holds the container's lock (a stop waiting for the exit, say) records it.
  auto lock = locks_.TryAcquire(stored.id);
  if (!lock) return seen;
  auto current = records_.GetContainer(stored.id);
  return current ? Refresh(*current) : seen;
}

void Lifecycle::OnShimExit(const std::string& id) {
  auto stored = records_.GetContainer(id);
  if (stored) RefreshForRead(*stored);
}

ContainerRecord Lifecycle::Observe(ContainerRecord record) const {
  if (record.state != ContainerState::kCreated && record.state != ContainerState::kRunning) return record;
  if (record.AwaitsRestore()) return record;  // no shim until StartContainer restores it
  auto exit_data = ReadFile(record.exit_file());
  if (exit_data.ok()) {
    auto exited = shim::ParseExitRecord(*exit_data);
    if (exited.ok()) {
      record.exit_code = exited->exit_code;
      record.finished_at = exited->finished_at;
      record.reason = exited->oom_killed ? "OOMKilled" : record.exit_code == 0 ? "Completed" : "Error";
    } else {
      record.exit_code = 255;
      record.finished_at = NowNanos();
      record.reason = "Unknown";
      record.message = absl::StrCat("the container's exit record is unreadable: ", exited.status().message());
    }
  } else if (!ProcessAlive(record.shim_pid, record.shim_start_time) &&
             !ProcessAlive(record.pid, record.pid_start_time)) {
    // Shim and container gone with no exit record: nobody knows how it ended, and
    // CRI says so (UNKNOWN); a stop then settles it as exited.
    record.exit_code = 255;
    record.finished_at = NowNanos();
    record.reason = "Unknown";
    record.message = "the container's monitor exited without recording the exit status";
    record.state = ContainerState::kUnknown;
    return record;
  } else {
    return record;
  }
  record.state = ContainerState::kExited;
  return record;
}

}  // namespace berth::pods

// A container's state as it is now: its shim writes an exit file when the
// container's process ends, so the state read after a berthd restart is as right as
// one read before; a shim and process both gone without one is an exit nobody
// recorded.
#include "pods/container_state.h"

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
  ExitObservation seen = ObserveExit(
      [&record] { return ReadFile(record.exit_file()); },
      [&record] {
        return ProcessAlive(record.shim_pid, record.shim_start_time) ||
               ProcessAlive(record.pid, record.pid_start_time);
      });
  switch (seen.state) {
    case ExitObservation::kRunning:
      return record;
    case ExitObservation::kExited:
      record.exit_code = seen.exit.exit_code;
      record.finished_at = seen.exit.finished_at;
      record.reason = seen.exit.oom_killed ? "OOMKilled" : record.exit_code == 0 ? "Completed" : "Error";
      record.state = ContainerState::kExited;
      return record;
    case ExitObservation::kUnreadable:
    case ExitObservation::kUnrecorded:
      // How it ended is not known. A record that does not parse still says it ended
      // (EXITED); shim and container gone with no record is UNKNOWN to CRI, which a
      // stop then settles as exited.
      record.exit_code = 255;
      record.finished_at = NowNanos();
      record.reason = "Unknown";
      if (seen.state == ExitObservation::kUnreadable) {
        record.message = absl::StrCat("the container's exit record is unreadable: ", seen.why);
        record.state = ContainerState::kExited;
      } else {
        record.message = "the container's monitor exited without recording the exit status";
        record.state = ContainerState::kUnknown;
      }
      return record;
  }
  return record;
}

ExitObservation ObserveExit(const std::function<StatusOr<std::string>()>& read_exit_record,
                            const std::function<bool()>& shim_or_container_alive) {
  StatusOr<std::string> text = read_exit_record();
  if (!text.ok()) {
    if (shim_or_container_alive()) return {ExitObservation::kRunning, {}, ""};
    // The shim writes the record (atomically) before it exits: one it wrote between
    // the read above and the check is there now. Without this second read a
    // container that ended at that moment was reported UNKNOWN, as kubelet saw in
    // the node e2e suite (a short-lived init container, polled just then).
    text = read_exit_record();
    if (!text.ok()) return {ExitObservation::kUnrecorded, {}, ""};
  }
  StatusOr<shim::ExitRecord> exit = shim::ParseExitRecord(*text);
  if (!exit.ok()) return {ExitObservation::kUnreadable, {}, std::string(exit.status().message())};
  return {ExitObservation::kExited, *exit, ""};
}

}  // namespace berth::pods

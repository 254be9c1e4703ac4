// What is done to a running container besides its lifecycle: ExecSync through the
// runtime's exec, log reopening through the shim's control FIFO, live resource
// updates through the runtime's update.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/unix_socket.h"
#include "base/unique_fd.h"
#include "cgroups/manager.h"
#include "cgroups/stats.h"
#include "pods/container_resources.h"
#include "pods/lifecycle.h"
#include "pods/oci_spec.h"
#include "pods/shim/protocol.h"

namespace berth::pods {

StatusOr<ExecResult> Lifecycle::ExecSync(const std::string& id_prefix, const std::vector<std::string>& cmd,
                                         std::chrono::milliseconds timeout) {
  if (cmd.empty()) return absl::InvalidArgumentError("ExecSync: no command given");
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(record.handler));
  cgroups::PrimeMigration(cgroups_);  // the exec'd process joins the container's cgroup
  ASSIGN_OR_RETURN(runtime::Spec spec, runtime->ReadSpec(record));
  if (timeout.count() <= 0) timeout = std::chrono::hours(24);
  ASSIGN_OR_RETURN(RunResult run, runtime->Exec(record.id, ProcessForExec(spec, cmd), record.run_dir, timeout));
  if (run.timed_out) {
    return absl::DeadlineExceededError(absl::StrCat("command timed out after ",
                                                    std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                                                    "s in container ", record.id));
  }
  return ExecResult{run.exit_code, std::move(run.out), std::move(run.err)};
}

StatusOr<std::unique_ptr<ExecProcess>> Lifecycle::StartExec(const std::string& id_prefix,
                                                             const std::vector<std::string>& cmd, bool tty,
                                                             bool stdin) {
  if (cmd.empty()) return absl::InvalidArgumentError("Exec: no command given");
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(record.handler));
  cgroups::PrimeMigration(cgroups_);
  ASSIGN_OR_RETURN(runtime::Spec spec, runtime->ReadSpec(record));
  ASSIGN_OR_RETURN(RuntimeHandler::ExecChild child,
                   runtime->StartExec(record.id, ProcessForExec(spec, cmd, tty), record.run_dir, stdin));
  return std::make_unique<pods::ExecProcess>(std::move(child));
}

StatusOr<UniqueFd> Lifecycle::Attach(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  if (::access(record.attach_socket().c_str(), F_OK) != 0) {
    // A shim started by a berthd from before attach has no socket.
    return absl::FailedPreconditionError(
        absl::StrCat("container ", record.id, " was started without attach support; recreate it to attach"));
  }
  return ConnectUnix(record.attach_socket());
}

Status Lifecycle::ReopenLog(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  UniqueFd fifo(::open(record.control_fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return ErrnoError(absl::StrCat("reach the monitor of container ", record.id));
  const std::string command = shim::ControlLine(shim::ControlCommand::kReopenLog);
  if (::write(fifo.get(), command.data(), command.size()) != static_cast<ssize_t>(command.size())) {
    return ErrnoError("ask the monitor to reopen the log");
  }
  // kubelet renames the log and then expects the new file to be there when this call
  // returns, so wait for the shim to have made it.
  if (record.log_path.empty()) return absl::OkStatus();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  struct stat st;
  while (::stat(record.log_path.c_str(), &st) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the monitor of container ", record.id, " did not reopen ", record.log_path, " within 5s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

Status Lifecycle::UpdateResources(const std::string& id, const ResourcesSpec& resources) {
  return UpdateResourcesWith(id, resources, /*announce=*/true);
}

Status Lifecycle::UpdateResourcesForNri(const std::string& id, const ResourcesSpec& resources) {
  return UpdateResourcesWith(id, resources, /*announce=*/false);
}

Status Lifecycle::UpdateResourcesWith(const std::string& id_prefix, const ResourcesSpec& r, bool announce) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id));
  if (record.state == ContainerState::kExited || record.state == ContainerState::kUnknown) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " has exited"));
  }
  ASSIGN_OR_RETURN(RuntimeHandler * runtime, handlers_->Get(record.handler));
  // A limit below what the container uses now would not be applied but enforced:
  // the kernel reclaims what it can (page cache) and then OOM-kills (v2) or refuses
  // (v1). What it cannot reclaim, the working set, is the floor.
  if (r.memory_limit > 0 && r.memory_limit < record.spec.resources.memory_limit) {
    auto used = cgroups::ReadStats(cgroups_, record.cgroup_path);
    if (used.ok() && static_cast<uint64_t>(r.memory_limit) < used->memory.working_set_bytes) {
      return absl::FailedPreconditionError(absl::StrCat(
          "memory limit ", r.memory_limit, " is below what container ", record.id, " uses now (",
          used->memory.working_set_bytes, " bytes of working set); it would be OOM-killed, so the limit is unchanged"));
    }
  }
  cgroups::Resources resources =
      ContainerResources(r, cgroups_.controllers, cgroups_.mode == cgroups::Mode::kUnified);
  auto pod = records_.GetSandbox(record.pod_id);
  if (pod && announce && nri_.enabled()) {
    // NRI plugins may change what is applied, or refuse it.
    std::vector<cgroups::DeviceRule> devices = std::move(resources.devices);
    ASSIGN_OR_RETURN(resources, nri_.UpdateContainer(*pod, record, resources));
    resources.devices = std::move(devices);
  }
  Status updated = runtime->Update(record.id, resources, record.run_dir);
  if (!updated.ok() && absl::StrContains(updated.message(), "Device or resource busy")) {
    // cgroup v1 could not reclaim down to the new limit.
    return absl::FailedPreconditionError(absl::StrCat("memory limit ", r.memory_limit, " is below what container ",
                                                      record.id, " uses now: ", updated.message()));
  }
  RETURN_IF_ERROR(updated);
  record.spec.resources = r;
  RETURN_IF_ERROR(records_.UpdateContainer(record));
  if (pod && announce) nri_.ContainerUpdated(*pod, record);
  return absl::OkStatus();
}

Status Lifecycle::UpdatePodResources(const std::string& pod_id_prefix, const ResourcesSpec& overhead,
                                     const ResourcesSpec& resources) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveSandboxId(pod_id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  auto pod = records_.GetSandbox(id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", pod_id_prefix, "\" not found"));
  const bool unified = cgroups_.mode == cgroups::Mode::kUnified;
  RETURN_IF_ERROR(nri_.UpdatePod(*pod, ContainerResources(overhead, cgroups_.controllers, unified),
                                 ContainerResources(resources, cgroups_.controllers, unified)));
  // kubelet has resized the pod's cgroup itself when it gave one (it owns it); a
  // pod in berth's own cgroup gets the pod-level limits here: its resources plus
  // its overhead.
  if (pod->spec.cgroup_parent.empty()) {
    ResourcesSpec total = resources;
    total.cpu_shares += overhead.cpu_shares;
    if (total.cpu_quota > 0 && overhead.cpu_quota > 0) total.cpu_quota += overhead.cpu_quota;
    if (total.memory_limit > 0 && overhead.memory_limit > 0) total.memory_limit += overhead.memory_limit;
    cgroups::Resources limits =
        ContainerResources(total, cgroups_.controllers, cgroups_.mode == cgroups::Mode::kUnified);
    limits.devices.clear();
    RETURN_IF_ERROR(cgroups::Manager::Open(cgroups_, CgroupParent(*pod)).Apply(limits));
  }
  pod->resources = resources;
  pod->overhead = overhead;
  return records_.UpdateSandbox(*pod);
}

}  // namespace berth::pods

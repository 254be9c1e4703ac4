#include "pods/sandbox_host.h"

#include <signal.h>
#include <sys/mount.h>

#include "base/file_util.h"
#include "base/process.h"
#include "pods/shim/protocol.h"

namespace berth::pods {

StatusOr<PinnedNamespaces> LinuxSandboxHost::PinNamespaces(const std::string& dir, const NamespaceRequest& request) {
  return pods::PinNamespaces(dir, request);
}

Status LinuxSandboxHost::UnpinNamespace(const std::string& path) { return pods::UnpinNamespace(path); }

Status LinuxSandboxHost::MountShm(const std::string& path) {
  RETURN_IF_ERROR(MakeDirs(path, 01777));
  if (::mount("shm", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") != 0) {
    return ErrnoError(absl::StrCat("mount /dev/shm for the pod at ", path));
  }
  return absl::OkStatus();
}

Status LinuxSandboxHost::UnmountShm(const std::string& path) {
  if (!path.empty() && ::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount ", path));
  }
  return absl::OkStatus();
}

StatusOr<PodInit> LinuxSandboxHost::StartPodInit(const std::string& pod_dir, const std::string& userns_path) {
  ASSIGN_OR_RETURN(std::string answer, SpawnDetached(shim::PodInitArgv(shim_binary_, pod_dir, userns_path)));
  auto pid = shim::ParseReadyReply(answer);
  if (!pid.ok()) return Annotate(pid.status(), "start the pod's init");
  return PodInit{*pid, ProcessStartTime(*pid)};
}

void LinuxSandboxHost::StopPodInit(const PodInit& init) {
  if (!ProcessAlive(init.pid, init.start_time)) return;
  ::kill(init.pid, SIGTERM);
  if (!WaitForProcessExit(init.pid, init.start_time, std::chrono::seconds(5))) {
    ::kill(init.pid, SIGKILL);
    WaitForProcessExit(init.pid, init.start_time, std::chrono::seconds(5));
  }
}

}  // namespace berth::pods

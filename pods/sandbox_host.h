// What a pod is made of on the host apart from its network: its namespaces pinned
// without a process, its /dev/shm, and the init of a PID namespace it shares. An
// interface, so that the lifecycle's rollback can be tested (without root) by a
// fake that fails any step; LinuxSandboxHost is the real one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "pods/pinned_namespaces.h"

namespace berth::pods {

struct PodInit {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

class SandboxHost {
 public:
  virtual ~SandboxHost() = default;
  // Creates the namespaces asked for under dir (see pinned_namespaces.h).
  virtual StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, const NamespaceRequest& request) = 0;
  // A path already gone, or empty, is fine.
  virtual Status UnpinNamespace(const std::string& path) = 0;
  // A tmpfs for the pod's /dev/shm at path (made if missing).
  virtual Status MountShm(const std::string& path) = 0;
  // Nothing mounted there, or no path, is fine.
  virtual Status UnmountShm(const std::string& path) = 0;
  // Starts the process whose PID namespace the pod's containers share; in the
  // pod's user namespace (which then owns the PID namespace) when userns_path is set.
  virtual StatusOr<PodInit> StartPodInit(const std::string& pod_dir, const std::string& userns_path) = 0;
  // SIGTERM, then SIGKILL after 5 s; a process already gone is fine.
  virtual void StopPodInit(const PodInit& init) = 0;
};

class LinuxSandboxHost : public SandboxHost {
 public:
  explicit LinuxSandboxHost(std::string shim_binary) : shim_binary_(std::move(shim_binary)) {}

  StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, const NamespaceRequest& request) override;
  Status UnpinNamespace(const std::string& path) override;
  Status MountShm(const std::string& path) override;
  Status UnmountShm(const std::string& path) override;
  StatusOr<PodInit> StartPodInit(const std::string& pod_dir, const std::string& userns_path) override;
  void StopPodInit(const PodInit& init) override;

 private:
  const std::string shim_binary_;  // berth-shim doubles as the pod init
};

}  // namespace berth::pods

// What berth-runtime remembers about a container between invocations:
// STATE_DIR/ID/state.json, written atomically, and STATE_DIR/ID/exec.sock, the socket
// the created init waits on until `start`.
//
// A pid alone is never trusted: the init's start time (field 22 of /proc/PID/stat) is
// stored with it and compared before the pid is used, so a recycled pid is "stopped".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"

namespace berth::runtime {

struct ContainerState {
  std::string oci_version;
  std::string id;
  pid_t pid = 0;
  uint64_t start_time = 0;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC
  std::string cgroup_path;
  std::map<std::string, std::string> annotations;
  // Whether start and delete have hooks to run: so that they read config.json only
  // then, not on every start.
  bool poststart_hooks = false;
  bool poststop_hooks = false;
};

enum class ContainerStatus { kCreated, kRunning, kStopped };
absl::string_view ContainerStatusName(ContainerStatus status);

// Refuses ids that could escape STATE_DIR.
Status ValidateId(absl::string_view id);

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}

  std::string Dir(absl::string_view id) const { return absl::StrCat(root_, "/", id); }
  std::string ExecSocket(absl::string_view id) const { return Dir(id) + "/exec.sock"; }

  // Creates STATE_DIR/ID; ALREADY_EXISTS if a container has the id.
  Status Reserve(absl::string_view id) const;
  Status Save(const ContainerState& state) const;
  // NOT_FOUND if there is no such container.
  StatusOr<ContainerState> Load(absl::string_view id) const;
  Status Remove(absl::string_view id) const;

  // created while the init waits on exec.sock, running once it has exec'd, stopped
  // when the pid is gone, a zombie, or belongs to another process.
  ContainerStatus Probe(const ContainerState& state) const;

 private:
  std::string root_;
};

// Start time of pid in clock ticks since boot; NOT_FOUND if it does not exist.
StatusOr<uint64_t> ProcessStartTime(pid_t pid);
// True if pid exists, is not a zombie and started at start_time.
bool ProcessAlive(pid_t pid, uint64_t start_time);

// JSON as `runc state` prints it.
std::string StateJson(const ContainerState& state, ContainerStatus status);
// The state an OCI hook reads on stdin: the same document, with the status of the
// hook's moment ("creating" for createRuntime, which no probe can see) and pid as
// the hook's namespace sees it.
std::string HookStateJson(const ContainerState& state, absl::string_view status, pid_t pid);

}  // namespace berth::runtime

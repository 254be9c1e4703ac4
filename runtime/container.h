// berth's built-in low-level runtime: the lifecycle of one OCI container, with the
// verbs and semantics of the runc commands berth's shim uses.
//
//   create:  STATE_DIR/ID reserved, cgroup made and limited, init forked (pid 1 of
//            its pid namespace), placed in the cgroup, namespaces + rootfs + creds set
//            up; it then blocks on STATE_DIR/ID/exec.sock. Any failure undoes it all.
//   start:   connect to exec.sock: the init execs process.args; exec errors come back
//            on the same connection. exec.sock is removed: the container is running.
//   delete:  kill what is left in the cgroup, remove the cgroup and STATE_DIR/ID. The
//            container's mounts live only in its mount namespace and go with it.
//   The spec's hooks run at their moments of create, start and delete (hooks.h).
//
//   created --start--> running --(init exits)--> stopped --delete--> (gone)
//      \------------------------kill/delete --force----------------------/
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cgroups/resources.h"
#include "runtime/checkpoint.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace berth::runtime {

struct CreateOptions {
  std::string id;
  std::string bundle;
  std::string pid_file;  // empty: none
  int preserve_fds = 0;  // fds 3..3+N-1 are passed to the container
  // A unix socket the terminal's master end is sent to, when process.terminal is set.
  std::string console_socket;
};

struct ExecOptions {
  std::string id;
  Process process;
  std::string pid_file;
  std::string console_socket;  // where the terminal's master goes, for process.terminal
  bool detach = false;
  int preserve_fds = 0;
};

class Runtime {
 public:
  // warn: where what goes wrong without failing the verb goes (a poststart or
  // poststop hook's failure).
  explicit Runtime(std::string state_root, std::function<void(const Status&)> warn = nullptr)
      : store_(std::move(state_root)), warn_(std::move(warn)) {}

  Status Create(const CreateOptions& options);
  Status Start(absl::string_view id);
  // `runc state` JSON.
  StatusOr<std::string> State(absl::string_view id);
  Status Kill(absl::string_view id, int signal, bool all);
  Status Delete(absl::string_view id, bool force);
  // Runs a process in the container; returns its exit code (128+signal), or 0 once it
  // has exec'd when detached.
  StatusOr<int> Exec(const ExecOptions& options);
  Status Update(absl::string_view id, const cgroups::Resources& resources);
  // Freezes and thaws the container's processes (its cgroup's freezer).
  Status Pause(absl::string_view id);
  Status Resume(absl::string_view id);
  // Dumps the container's processes through CRIU, and restores them into a new
  // container (checkpoint.h); container_checkpoint.cc.
  Status Checkpoint(const CheckpointOptions& options);
  Status Restore(const RestoreOptions& options);
  // The container's process from its config.json: the base for `exec ID CMD...`.
  StatusOr<Process> ContainerProcess(absl::string_view id);

 private:
  StatusOr<Spec> LoadSpec(const ContainerState& state);
  // Saves the state of a container whose init (created or restored) is pid, and
  // writes pid_file (when given) for the caller.
  Status Record(absl::string_view id, pid_t pid, const Spec& spec, const std::string& bundle,
                const std::string& cgroup_path, const std::string& pid_file);
  void Warn(const Status& status) const;

  StateStore store_;
  std::function<void(const Status&)> warn_;
};


// Re-executes the running binary from a sealed memfd unless it already runs from one,
// so a container process can never reach the runtime's file on disk through
// /proc/PID/exe (CVE-2019-5736). Returns only when already running from the copy.
Status EnsureSealedBinary(char** argv);

}  // namespace berth::runtime

// A runtime handler as the lifecycle uses it: something that runs a container from
// its OCI spec, each container under a shim of its own. OciRuntime is the real one
// (berth-runtime, runc or crun); tests give fakes, to fail any step.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "base/process.h"
#include "base/status.h"
#include "cgroups/resources.h"
#include "pods/records.h"
#include "runtime/spec.h"

namespace berth::pods {

// ExecSync's output kept per stream: both fit one reply within the 16 MiB message
// limit of berthd and kubelet, with room to spare (kubelet keeps 10 KiB of a probe's).
inline constexpr size_t kExecOutputLimit = 4 << 20;

class RuntimeHandler {
 public:
  virtual ~RuntimeHandler() = default;

  // What a handler supports, from its OCI features document.
  struct Features {
    bool recursive_read_only = false;  // the "rro" mount option
    bool user_namespace = false;       // joins a user namespace (linux.namespaces lists "user")
    // The handler's user namespaces work on this node: it joins one, and berth can
    // idmap the rootfs and volumes for it (set by the lifecycle, which knows).
    bool user_namespaces = false;
    bool checkpoint = false;  // dumps and restores containers through CRIU
    std::vector<std::string> hooks;  // the kinds of OCI hook it runs ("createRuntime", ...)
    bool io_priority = false;        // process.ioPriority
    bool scheduler = false;          // process.scheduler
    bool memory_policy = false;      // linux.memoryPolicy
    bool net_devices = false;        // linux.netDevices
    bool seccomp_notify = false;     // SCMP_ACT_NOTIFY, its fd sent to linux.seccomp.listenerPath

    bool RunsHook(absl::string_view kind) const;
  };

  // From an OCI features document (`runc features`): what it lists, and for the
  // runtime-spec 1.2 process fields that the document has no field for, either a
  // spec version of 1.2 or later or berth-runtime's annotations saying so.
  static Features ParseFeatures(absl::string_view document);

  virtual const std::string& name() const = 0;
  virtual const Features& features() = 0;

  // Writes the spec into the record's bundle and starts the container's shim, which
  // creates the container (stopped before its process runs). Fills in the record's
  // pid and shim pid.
  virtual Status Create(ContainerRecord& record, const runtime::Spec& spec, const std::string& oom_file) = 0;
  // The spec Create wrote, for what is run later in the container (exec).
  virtual StatusOr<runtime::Spec> ReadSpec(const ContainerRecord& record) = 0;
  virtual Status Start(const std::string& id) = 0;
  // The status of the container's OCI state: "created", "running", "paused" or
  // "stopped".
  virtual StatusOr<std::string> State(const std::string& id) = 0;
  virtual Status Kill(const std::string& id, int signal) = 0;
  // Forgets the container; with force, kills what still runs first. NOT_FOUND when
  // the handler has no such container.
  virtual Status Delete(const std::string& id, bool force) = 0;
  // Runs process in the container and waits for it (killing it at timeout);
  // scratch_dir is the container's own, for the files the handler needs. Output
  // past kExecOutputLimit per stream is read and dropped (CVE-2022-31030: a
  // process that writes without end must not exhaust berthd's memory).
  virtual StatusOr<RunResult> Exec(const std::string& id, const runtime::Process& process,
                                   const std::string& scratch_dir, std::chrono::milliseconds timeout) = 0;
  virtual Status Update(const std::string& id, const cgroups::Resources& resources, const std::string& scratch_dir) = 0;

  // A process started in the container for an interactive session: the runtime's
  // exec, in the foreground, with the process's stdio as pipes berthd holds.
  struct ExecChild {
    Child runtime;         // the runtime's exec: it exits with the process's code
    UniqueFd terminal;     // the process's terminal (its master end), when it has one
    std::string pid_file;  // where the runtime wrote the process's pid
    std::string dir;       // the scratch files of this exec, removed with it
  };
  // A process with process.terminal set gets a terminal, whose master comes back.
  virtual StatusOr<ExecChild> StartExec(const std::string& id, const runtime::Process& process,
                                        const std::string& scratch_dir, bool with_stdin) = 0;

  // Checkpoint and restore through CRIU (features().checkpoint).
  struct CriuRequest {
    std::string criu;        // the CRIU binary
    std::string images_dir;  // CRIU's images: written by a checkpoint, read by a restore
    std::string work_dir;    // CRIU's log (dump.log, restore.log) and scratch files
    bool tcp_established = false;  // keep the container's established TCP connections
  };
  // Freezes and thaws the container's processes (a checkpoint is taken frozen, so
  // its processes and files are of one moment).
  virtual Status Pause(const std::string& id) = 0;
  virtual Status Resume(const std::string& id) = 0;
  // Dumps the running (or paused) container's processes into request.images_dir
  // and leaves them as they were.
  virtual Status Checkpoint(const std::string& id, const CriuRequest& request, std::chrono::seconds timeout) = 0;
  // A container made from a checkpoint: PrepareRestore writes its bundle at
  // CreateContainer, and Restore (at StartContainer) starts its shim, whose
  // runtime brings the processes back from request.images_dir, already running.
  // Fills in the record's pid and shim pid, as Create does.
  virtual Status PrepareRestore(const ContainerRecord& record, const runtime::Spec& spec) = 0;
  virtual Status Restore(ContainerRecord& record, const std::string& oom_file, const CriuRequest& request) = 0;
};

}  // namespace berth::pods

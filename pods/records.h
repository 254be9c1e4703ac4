// What berth keeps about each pod and container, in memory and in the state
// database.
//
//   pod:        READY --StopPodSandbox--> NOTREADY --RemovePodSandbox--> (gone)
//   container:  CREATED --Start--> RUNNING --exit/Stop--> EXITED --Remove--> (gone)
//               CREATED --Remove--> (gone)
//               CREATED|RUNNING --shim and process gone, no exit record--> UNKNOWN --Stop--> EXITED
// A container's exit is learnt from the exit file its shim writes, so a state read
// after a berthd restart is as right as one read before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pods/types.h"

namespace berth::pods {

// Numbered as CRI numbers them.
enum class SandboxState { kReady = 0, kNotReady = 1 };
enum class ContainerState { kCreated = 0, kRunning = 1, kExited = 2, kUnknown = 3 };

struct SandboxRecord {
  std::string id;
  PodSpec spec;
  SandboxState state = SandboxState::kReady;
  int64_t created_at = 0;  // unix nanoseconds
  std::string dir;         // STATE_DIR/pods/<id>: pinned namespaces, shm, resolv.conf, hosts
  std::string netns_path;  // empty when the pod uses the host's
  std::string ipcns_path;
  std::string utsns_path;
  std::string userns_path;  // empty unless the pod has a user namespace of its own
  std::string shm_path;
  std::vector<std::string> ips;
  // True from a successful CNI ADD until a successful DEL: a DEL that failed at stop
  // is owed, and retried on remove.
  bool network_attached = false;
  // pid 1 of the pod's shared PID namespace, when the pod asked for one.
  int init_pid = 0;
  uint64_t init_start_time = 0;
  // The pod-level resources and overhead UpdatePodSandboxResources last gave.
  ResourcesSpec resources;
  ResourcesSpec overhead;
};

struct ContainerRecord {
  std::string id;
  std::string pod_id;
  ContainerSpec spec;
  std::string image_id;
  ContainerState state = ContainerState::kCreated;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  std::string handler;
  std::string dir;       // ROOT/containers/<id>: bundle, upper and work dirs
  std::string run_dir;   // STATE_DIR/containers/<id>: exit file, control FIFO
  std::string log_path;  // absolute, empty when kubelet gave none
  int pid = 0;
  uint64_t pid_start_time = 0;
  int shim_pid = 0;
  uint64_t shim_start_time = 0;
  std::string cgroup_path;
  // Who the container's process runs as, as resolved at create (ContainerStatus.user).
  int64_t uid = 0;
  int64_t gid = 0;
  std::vector<int64_t> supplemental_groups;
  // A container made from a checkpoint archive: where the archive is unpacked.
  // StartContainer restores its processes from there instead of starting them.
  std::string checkpoint_dir;
  // NRI plugins have heard of its stop: StopContainer goes out once, across restarts.
  bool nri_stop_announced = false;

  // Made from a checkpoint and not yet restored: nothing of it runs, no shim yet.
  bool AwaitsRestore() const { return !checkpoint_dir.empty() && shim_pid == 0; }
  std::string bundle() const { return dir + "/bundle"; }
  std::string rootfs() const { return dir + "/bundle/rootfs"; }
  std::string exit_file() const { return run_dir + "/exit.json"; }
  std::string control_fifo() const { return run_dir + "/control"; }
  // Where the container's shim takes attach connections.
  std::string attach_socket() const { return run_dir + "/attach.sock"; }
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SandboxRecord, id, spec, state, created_at, dir, netns_path,
                                                ipcns_path, utsns_path, userns_path, shm_path, ips, network_attached,
                                                init_pid, init_start_time, resources, overhead)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerRecord, id, pod_id, spec, image_id, state, created_at,
                                                started_at, finished_at, exit_code, reason, message, handler, dir,
                                                run_dir, log_path, pid, pid_start_time, shim_pid, shim_start_time,
                                                cgroup_path, uid, gid, supplemental_groups, checkpoint_dir,
                                                nri_stop_announced)

}  // namespace berth::pods

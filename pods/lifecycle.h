// The lifecycle of pod sandboxes and their containers: what RunPodSandbox,
// CreateContainer and the rest do, with every step undone when a later one fails.
// One class, its work split by concern:
//   lifecycle.cc            construction, cgroup paths
//   sandbox_lifecycle.cc    RunPod, StopPod, RemovePod and their teardown
//   container_lifecycle.cc  CreateContainer .. RemoveContainer
//   container_state.cc      a container's state as its shim's exit file says it is now,
//                           recorded when the exit watcher sees the shim go
//   container_control.cc    ExecSync, ReopenLog, UpdateResources
//   container_checkpoint.cc CheckpointContainer, and containers restored from one
//   pod_checkpoint.cc       CheckpointPod, RestorePod
//   recovery.cc             what a start of berthd does with what it finds
// Pieces with a job of their own are apart: the pod's network (sandbox_network.h),
// its files (pod_files.h), the runtime handlers (handler_registry.h), the state
// directory layout (state_layout.h), the records (record_store.h).
// What touches the host goes through LifecycleParts (the pod network, the sandbox
// host, container rootfs, runtime handlers): real ones in berthd, fakes in the
// rollback tests, which run without root.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/background_worker.h"
#include "base/keyed_mutex.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"
#include "image/image_store.h"
#include "network/pod_network.h"
#include "pods/config.h"
#include "pods/events.h"
#include "pods/exec_process.h"
#include "pods/exit_watcher.h"
#include "pods/filters.h"
#include "pods/checkpoint_support.h"
#include "pods/handler_registry.h"
#include "pods/nri_hooks.h"
#include "pods/container_rootfs.h"
#include "pods/record_store.h"
#include "pods/runtime_handler.h"
#include "pods/sandbox_host.h"
#include "pods/sandbox_network.h"
#include "pods/state_layout.h"

namespace berth::pods {

struct ExecResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// What the lifecycle works through to reach the host.
struct LifecycleParts {
  std::unique_ptr<network::PodNetwork> network;
  std::unique_ptr<SandboxHost> host;
  std::unique_ptr<ContainerRootfs> rootfs;
  std::unique_ptr<HandlerRegistry> handlers;

  // The real ones: CNI, Linux, overlayfs over images, the handlers the node has
  // (berth_binary_dir holds berth-runtime and berth-shim).
  static LifecycleParts Real(const Config& config, image::ImageStore* images, const std::string& berth_binary_dir);
};

class Lifecycle {
 public:
  Lifecycle(const Config& config, const cgroups::Layout& cgroups, StateDb* db, LifecycleParts parts);
  ~Lifecycle();
  // Loads records and reconciles them with what is running.
  Status Recover();
  // With nri.enable, starts hosting NRI plugins (after Recover: a plugin's first
  // Synchronize carries what is on record). Does nothing otherwise.
  Status StartNri();
  // The NRI plugins that get events now ("NN-name"), for Status.
  std::vector<std::string> NriPlugins() const;

  StatusOr<std::string> RunPod(const PodSpec& spec);
  Status StopPod(const std::string& id);
  Status RemovePod(const std::string& id);
  StatusOr<SandboxRecord> GetPod(const std::string& id);
  std::vector<SandboxRecord> ListPods(const SandboxFilter& filter);

  StatusOr<std::string> CreateContainer(const std::string& pod_id, const ContainerSpec& spec);
  Status StartContainer(const std::string& id);
  Status StopContainer(const std::string& id, std::chrono::seconds timeout);
  Status RemoveContainer(const std::string& id);
  StatusOr<ContainerRecord> GetContainer(const std::string& id);
  std::vector<ContainerRecord> ListContainers(const ContainerFilter& filter);
  StatusOr<ExecResult> ExecSync(const std::string& id, const std::vector<std::string>& cmd,
                                std::chrono::milliseconds timeout);
  // Starts cmd in a running container for a streaming session, its stdio as pipes
  // (stdin only when asked for).
  StatusOr<std::unique_ptr<ExecProcess>> StartExec(const std::string& id, const std::vector<std::string>& cmd,
                                                   bool tty, bool stdin);
  // A connection to the shim of a running container for attach (see
  // shim::AttachFrame for what it carries).
  StatusOr<UniqueFd> Attach(const std::string& id);
  // A connection to port on a ready pod's loopback (port-forward).
  StatusOr<UniqueFd> DialPod(const std::string& pod_id, int32_t port);
  Status ReopenLog(const std::string& id);
  // In place: CPU and memory of a running container; a memory limit below its
  // working set is FAILED_PRECONDITION (it would be OOM-killed), nothing changed.
  Status UpdateResources(const std::string& id, const ResourcesSpec& resources);
  // The same for an update an NRI plugin asked for: no NRI event of its own.
  Status UpdateResourcesForNri(const std::string& id, const ResourcesSpec& resources);
  // UpdatePodSandboxResources: recorded, and applied to the pod's cgroup when it is
  // berth's own (kubelet resizes the cgroups it gave itself, before it calls).
  Status UpdatePodResources(const std::string& pod_id, const ResourcesSpec& overhead, const ResourcesSpec& resources);
  // Writes a checkpoint archive of a running container at location (a file; see
  // checkpoint_archive.h), the container left running. FAILED_PRECONDITION when
  // CRIU or the container's handler cannot. A CreateContainer whose image is such
  // an archive makes a container that StartContainer restores from it.
  struct CheckpointOptions {
    bool tcp_established = false;  // dump established TCP connections (they are kept on restore)
    std::chrono::seconds timeout{300};
  };
  Status CheckpointContainer(const std::string& id, const std::string& location, const CheckpointOptions& options);
  // CheckpointPod: the containers named (each running, of this pod, named once) are
  // all paused, then each written as a container archive "<name>.tar" in output_dir
  // (an existing, empty directory), with pod.options and pod.dump beside them, and
  // all resumed before it returns. On failure output_dir is left empty.
  Status CheckpointPod(const std::string& pod_id, const std::string& output_dir,
                       const std::vector<std::string>& container_ids, const CheckpointOptions& options);
  // RestorePod: a new pod from pod (RunPod), and in it a container restored from
  // each of the checkpoint's archives, matched to containers by name (which must be
  // exactly the checkpoint's, each naming the image its checkpoint was taken on),
  // all CREATED. On failure nothing of it is left.
  struct RestoredPod {
    std::string pod_id;
    std::vector<std::pair<std::string, std::string>> containers;  // name, id
  };
  StatusOr<RestoredPod> RestorePod(const std::string& checkpoint_dir, const PodSpec& pod,
                                   const std::vector<ContainerSpec>& containers);
  // Whether CRIU works on this node (Status's ContainerCheckpointReady).
  CheckpointSupport& checkpoint_support() { return checkpoint_; }
  // The cgroup of a pod: kubelet's cgroup_parent, or one of berth's.
  std::string CgroupParent(const SandboxRecord& pod) const;

  // Every lifecycle change of a pod or container, as it is recorded.
  EventBus& events() { return events_; }

  // What recovery found wrong with a pod's network ("" when nothing): a failed CNI
  // CHECK, or the network gone. For verbose PodSandboxStatus.
  std::string NetworkReport(const std::string& pod_id) const { return network_.Report(pod_id); }

  // The handler names berth offers (for Status).
  std::vector<std::string> HandlerNames() const { return handlers_->Names(); }
  // What a handler ("" for the default) supports; all false for an unknown name.
  RuntimeHandler::Features HandlerFeatures(const std::string& name);

 private:
  // The record as its shim's exit file (or the absence of shim and init) says it is now.
  ContainerRecord Observe(ContainerRecord record) const;
  // Observe, and record what changed; the caller holds the container's lock.
  ContainerRecord Refresh(ContainerRecord record);
  // For read paths, which hold no lock: records the change only if the container's
  // lock is free (its holder records it otherwise), so a read never writes over a
  // change made under the lock, nor brings back a removed container.
  ContainerRecord RefreshForRead(const ContainerRecord& stored);
  Status StopContainerLocked(ContainerRecord record, std::chrono::seconds timeout);
  // A running container that can be checkpointed, with what that needs.
  struct Checkpointable {
    ContainerRecord container;
    SandboxRecord pod;
    RuntimeHandler* runtime = nullptr;
  };
  // FAILED_PRECONDITION saying why when the container cannot be; the caller holds
  // its lock.
  StatusOr<Checkpointable> CheckCheckpointableLocked(const std::string& id);
  // Containers frozen for a checkpoint; thawed by ResumeAll, or at the latest when
  // this goes (a checkpoint never leaves a container frozen).
  struct PausedContainers {
    PausedContainers() = default;
    PausedContainers(PausedContainers&&) = default;
    ~PausedContainers();
    Status ResumeAll();
    std::vector<std::pair<std::string, RuntimeHandler*>> containers;
  };
  StatusOr<PausedContainers> PauseForCheckpoint(const std::vector<Checkpointable>& targets);
  // Dumps a paused container and writes its archive at location.
  Status ExportCheckpoint(const Checkpointable& target, const std::string& location, const CheckpointOptions& options);
  // CreateContainer from a checkpoint archive (spec.image names it): unpacks it in
  // the container's directory, its rootfs diff into the empty writable layer, and
  // returns the image the checkpoint was taken on.
  StatusOr<image::ImageRecord> UnpackCheckpoint(const std::string& archive, ContainerRecord& record);
  // StartContainer of a container made from a checkpoint: its processes restored.
  Status RestoreContainer(ContainerRecord& record, RuntimeHandler* runtime);
  // kNow: everything before the call returns (a pod's removal, which then removes
  // the pod's cgroup); kInBackground: the record now, the rest on cleaner_.
  enum class Removal { kNow, kInBackground };
  Status RemoveContainerLocked(ContainerRecord record, Removal removal);
  // The runtime's state of the container, its rootfs mount and its directories.
  Status DeleteContainer(const ContainerRecord& record);
  // Runs step on each container of the pod, under the container's lock; the caller
  // holds the pod's (a pod's lock before its containers').
  Status ForEachContainerLocked(const std::string& pod_id, const std::function<Status(const ContainerRecord&)>& step);
  // Ends the pod's shared-PID-namespace init, if it has one.
  void StopPodInit(const SandboxRecord& pod);
  // Undoes on the host what RunPod set up, as far as the record says it got: init,
  // pinned namespaces, /dev/shm, the pod's directory and berth's default cgroup
  // parent. The network is the caller's (its DEL needs the namespace pinned).
  Status TearDownPod(const SandboxRecord& pod);
  // Unmounts and removes a container's rootfs, writable layer and run dir.
  Status RemoveContainerFiles(const ContainerRecord& container);
  std::string CgroupPath(const SandboxRecord& pod, const std::string& container_id) const;
  // Removes containers and pods that a create killed midway left without a record:
  // their processes, mounts, pinned namespaces and directories.
  void RemoveOrphans();
  std::string OomFile(const std::string& cgroup_path) const;
  // The exit watcher's report: the container's shim is gone, so its exit is on record.
  void OnShimExit(const std::string& id);
  // Tells NRI plugins a container has stopped, once it has (exited or unknown), and
  // records that they heard (in record too).
  void AnnounceStopped(ContainerRecord& record);
  Status UpdateResourcesWith(const std::string& id, const ResourcesSpec& resources, bool announce);
  // What a new NRI plugin's Synchronize carries, and what plugins ask of other containers.
  nri::HostCallbacks NriCallbacks();

  const Config& config_;
  const StateLayout layout_;
  const cgroups::Layout& cgroups_;
  EventBus events_;
  RecordStore records_;
  std::unique_ptr<network::PodNetwork> pod_network_;
  SandboxNetwork network_;
  std::unique_ptr<SandboxHost> host_;
  std::unique_ptr<ContainerRootfs> rootfs_;
  std::unique_ptr<HandlerRegistry> handlers_;
  CheckpointSupport checkpoint_;
  // Serialises the lifecycle changes of one pod or container (keyed by id); those of
  // different objects run side by side, reads go to the store directly. A pod's lock
  // is taken before its containers'. A pod or container being made has no lock: it
  // is invisible until its record is added, its last step.
  KeyedMutex locks_;
  // The node's CDI devices (config.cdi.spec_dirs) and block I/O classes.
  cdi::Registry cdi_;
  BlockIoClasses blockio_;
  // NRI plugins, when nri.enable: null otherwise, and every hook a no-op.
  std::unique_ptr<nri::Host> nri_host_;
  NriHooks nri_;
  // Records each container's exit as it happens (and so publishes it).
  ExitWatcher exits_;
  // Finishes container removals after RemoveContainer returns. Last, so that it is
  // drained (at berthd's exit) while everything it uses still exists.
  BackgroundWorker cleaner_;
};

}  // namespace berth::pods

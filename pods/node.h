// The node as berth runs it: the one object cri/ calls into. It owns the state
// database, the detected cgroup layout and node-wide settings; the pod, container
// and image stores hang off it as their issues land.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "base/disk_usage.h"
#include "base/state_db.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"
#include "image/image_store.h"
#include "pods/config.h"
#include "pods/lifecycle.h"
#include "pods/stats.h"

namespace berth::pods {

// One of the runtime's readiness conditions, as CRI's Status reports them.
struct Condition {
  bool ready = false;
  std::string reason;   // CamelCase, empty when ready
  std::string message;  // for people, empty when ready
};

class Node {
 public:
  // Takes the state root (one berthd per root), opens the database and reads the host.
  static StatusOr<std::unique_ptr<Node>> Open(const Config& config);

  const Config& config() const { return config_; }
  // The node's images. cri/ reaches the image module through here.
  image::ImageStore& images() { return *images_; }
  // Pods and containers.
  Lifecycle& lifecycle() { return *lifecycle_; }
  // Checkpoint and restore (KEP-2008, lifecycle.h), which need CRIU working on this
  // host: when it cannot, they are FAILED_PRECONDITION saying why, after the request
  // is checked. options: the CRI requests' runtime-specific ones; berth knows
  // kTcpEstablishedOption ("true" or "false", runtimes.checkpoint_tcp_established
  // when absent) and refuses any other.
  static constexpr char kTcpEstablishedOption[] = "berth.io/tcp-established";
  // timeout: 0 for berth's own (5 minutes).
  Status CheckpointContainer(const std::string& container_id, const std::string& location,
                             std::chrono::seconds timeout);
  Status CheckpointPod(const std::string& pod_id, const std::string& output_path,
                       const std::vector<std::string>& container_ids,
                       const std::map<std::string, std::string>& options);
  StatusOr<Lifecycle::RestoredPod> RestorePod(const std::string& checkpoint_path, const PodSpec& pod,
                                              const std::vector<ContainerSpec>& containers,
                                              const std::map<std::string, std::string>& options);
  // Status's ContainerCheckpointReady: whether CRIU can work here.
  Condition CheckpointCondition();
  // RemoveImage: the image with all its names, unless a container mounts it as an
  // image volume (FAILED_PRECONDITION naming it); one already gone is fine.
  Status RemoveImage(const std::string& ref_or_id);
  // Resource usage of pods and containers.
  StatsCollector& stats() { return *stats_; }
  const cgroups::Layout& cgroup_layout() const { return cgroup_layout_; }

  // Evaluated on each call, so they follow the host (a CNI config added later, say).
  Condition RuntimeCondition() const;
  Condition NetworkCondition() const;
  // Details for a verbose Status: effective config, node facts, active pulls and the
  // NRI plugins, as JSON strings.
  std::map<std::string, std::string> StatusInfo() const;

  // Where images (blobs and unpacked layers) and containers' writable layers live.
  std::string images_dir() const { return StateLayout(config_.root, config_.state_dir).ImagesDir(); }
  std::string containers_dir() const { return StateLayout(config_.root, config_.state_dir).ContainersDir(); }

  struct FilesystemUsage {
    std::string mountpoint;
    DiskUsage usage;
  };
  // Space used by images and by containers, measured now.
  StatusOr<FilesystemUsage> ImageFilesystemUsage() const;
  StatusOr<FilesystemUsage> ContainerFilesystemUsage() const;

  // The pod CIDR(s) kubelet pushes through UpdateRuntimeConfig: "10.0.0.0/24" or a
  // comma-separated dual-stack pair. Kept across restarts.
  Status SetPodCidr(const std::string& cidr);
  std::string pod_cidr() const;

 private:
  Node(Config config, UniqueFd root_lock, std::unique_ptr<StateDb> db, cgroups::Layout layout,
       std::string pod_cidr, std::unique_ptr<image::ImageStore> images);
  StatusOr<Lifecycle::CheckpointOptions> CheckpointOptionsFrom(const std::map<std::string, std::string>& options,
                                                              absl::string_view rpc) const;
  // Writes conf_dir/10-berth.conflist from cni.conf_template, when one is configured.
  Status RenderNetworkConfig(const std::string& cidr) const;

  const Config config_;
  const UniqueFd root_lock_;
  const std::unique_ptr<StateDb> db_;
  const cgroups::Layout cgroup_layout_;
  const std::unique_ptr<image::ImageStore> images_;
  std::unique_ptr<Lifecycle> lifecycle_;
  // After the lifecycle, whose records it reads from its sampler thread.
  std::unique_ptr<StatsCollector> stats_;
  mutable absl::Mutex mu_;
  std::string pod_cidr_ ABSL_GUARDED_BY(mu_);
};

// Checks a pod CIDR list: one or two comma-separated IPv4/IPv6 prefixes.
Status ValidatePodCidr(const std::string& cidr);

}  // namespace berth::pods

#include "pods/node.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/log.h"
#include "image/schema.h"
#include "network/cni.h"
#include "network/cni_config.h"
#include "pods/schema.h"
#include "pods/state_layout.h"

namespace berth::pods {
namespace {

constexpr char kPodCidrSetting[] = "pod_cidr";

// Held for the daemon's life, so two berthds never share one state root.
StatusOr<UniqueFd> LockStateRoot(const StateLayout& layout) {
  return LockFileExclusively(layout.LockFile(), absl::StrCat("state root ", layout.root(),
                                                             " is in use by another berthd (", layout.LockFile(),
                                                             " is locked)"));
}

}  // namespace

Status ValidatePodCidr(const std::string& cidr) {
  std::vector<std::string> parts = absl::StrSplit(cidr, ',');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("pod CIDR \"", cidr, "\": at most one IPv4 and one IPv6 prefix"));
  }
  for (const auto& part : parts) {
    std::pair<std::string, std::string> addr_len = absl::StrSplit(part, absl::MaxSplits('/', 1));
    unsigned char buf[16];
    int family = addr_len.first.find(':') == std::string::npos ? AF_INET : AF_INET6;
    int max_len = family == AF_INET ? 32 : 128;
    int len = -1;
    if (::inet_pton(family, addr_len.first.c_str(), buf) != 1 ||
        !absl::SimpleAtoi(addr_len.second, &len) || len < 0 || len > max_len) {
      return absl::InvalidArgumentError(
          absl::StrCat("pod CIDR \"", part, "\" is not an IP prefix like 10.88.0.0/16"));
    }
  }
  return absl::OkStatus();
}

Node::Node(Config config, UniqueFd root_lock, std::unique_ptr<StateDb> db,
           cgroups::Layout layout, std::string pod_cidr, std::unique_ptr<image::ImageStore> images)
    : config_(std::move(config)),
      root_lock_(std::move(root_lock)),
      db_(std::move(db)),
      cgroup_layout_(std::move(layout)),
      images_(std::move(images)),
      pod_cidr_(std::move(pod_cidr)) {}

StatusOr<std::unique_ptr<Node>> Node::Open(const Config& config) {
  RETURN_IF_ERROR(MakeDirs(config.root, 0711));
  RETURN_IF_ERROR(MakeDirs(config.state_dir, 0711));
  StateLayout state(config.root, config.state_dir);
  ASSIGN_OR_RETURN(UniqueFd lock, LockStateRoot(state));
  RETURN_IF_ERROR(MakeDirs(state.ImagesDir(), 0711));
  RETURN_IF_ERROR(MakeDirs(state.ContainersDir(), 0711));
  ASSIGN_OR_RETURN(auto db, StateDb::Open(state.Database(), {&image::ImageSchema(), &RecordSchema()}));
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  ASSIGN_OR_RETURN(auto cidr, db->GetSetting(kPodCidrSetting));
  image::ImageStoreOptions image_options;
  image_options.dir = state.ImagesDir();
  image_options.containers_dir = state.ContainersDir();
  image_options.registry = config.registry;
  image_options.pinned = config.images.pinned;
  image_options.max_concurrent_downloads = config.images.max_concurrent_downloads;
  image_options.progress_timeout = std::chrono::seconds(config.images.pull_progress_timeout_seconds);
  image_options.max_layer_bytes = static_cast<uint64_t>(config.images.max_layer_bytes);
  ASSIGN_OR_RETURN(auto images, image::ImageStore::Open(db.get(), std::move(image_options)));
  std::unique_ptr<Node> node(new Node(config, std::move(lock), std::move(db), std::move(layout),
                                      cidr.value_or(""), std::move(images)));
  // berth-shim and berth-runtime are installed beside berthd.
  std::string self = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  node->lifecycle_ = std::make_unique<Lifecycle>(
      node->config_, node->cgroup_layout_, node->db_.get(),
      LifecycleParts::Real(node->config_, node->images_.get(), self));
  // A template edited while berthd was down takes effect at start.
  RETURN_IF_ERROR(node->RenderNetworkConfig(node->pod_cidr_));
  RETURN_IF_ERROR(node->lifecycle_->Recover());
  RETURN_IF_ERROR(node->lifecycle_->StartNri());
  node->stats_ = std::make_unique<StatsCollector>(*node->lifecycle_, node->cgroup_layout_);
  return node;
}

namespace {

Status CheckAbsolute(const std::string& path, absl::string_view what) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(what, " \"", path, "\" must be an absolute path"));
  }
  return absl::OkStatus();
}

}  // namespace

Status Node::CheckpointContainer(const std::string& container_id, const std::string& location,
                                 std::chrono::seconds timeout) {
  RETURN_IF_ERROR(CheckAbsolute(location, "checkpoint location"));
  Lifecycle::CheckpointOptions options;
  options.tcp_established = config_.runtimes.checkpoint_tcp_established;
  if (timeout.count() > 0) options.timeout = timeout;
  return lifecycle_->CheckpointContainer(container_id, location, options);
}

StatusOr<Lifecycle::CheckpointOptions> Node::CheckpointOptionsFrom(const std::map<std::string, std::string>& options,
                                                                   absl::string_view rpc) const {
  Lifecycle::CheckpointOptions parsed;
  parsed.tcp_established = config_.runtimes.checkpoint_tcp_established;
  for (const auto& [key, value] : options) {
    if (key != kTcpEstablishedOption) {
      return absl::InvalidArgumentError(absl::StrCat(rpc, ": option \"", key, "\" is not one berth knows (it knows ",
                                                     kTcpEstablishedOption, ")"));
    }
    if (value != "true" && value != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat(rpc, ": option ", key, " is \"", value, "\", not \"true\" or \"false\""));
    }
    parsed.tcp_established = value == "true";
  }
  return parsed;
}

Status Node::CheckpointPod(const std::string& pod_id, const std::string& output_path,
                           const std::vector<std::string>& container_ids,
                           const std::map<std::string, std::string>& options) {
  RETURN_IF_ERROR(CheckAbsolute(output_path, "checkpoint output path"));
  ASSIGN_OR_RETURN(Lifecycle::CheckpointOptions parsed, CheckpointOptionsFrom(options, "CheckpointPod"));
  return lifecycle_->CheckpointPod(pod_id, output_path, container_ids, parsed);
}

StatusOr<Lifecycle::RestoredPod> Node::RestorePod(const std::string& checkpoint_path, const PodSpec& pod,
                                                  const std::vector<ContainerSpec>& containers,
                                                  const std::map<std::string, std::string>& options) {
  RETURN_IF_ERROR(CheckAbsolute(checkpoint_path, "checkpoint path"));
  // Restore takes what the checkpoint holds; the option is checked, as the API asks.
  RETURN_IF_ERROR(CheckpointOptionsFrom(options, "RestorePod").status());
  if (::access(checkpoint_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("checkpoint \"", checkpoint_path, "\" cannot be read"));
  }
  return lifecycle_->RestorePod(checkpoint_path, pod, containers);
}

Condition Node::CheckpointCondition() {
  Status available = lifecycle_->checkpoint_support().Available();
  if (available.ok()) return {true, "", ""};
  return {false, "CRIUUnavailable", std::string(available.message())};
}

Status Node::RemoveImage(const std::string& ref_or_id) {
  auto image = images_->Find(ref_or_id);
  if (!image.ok()) return image.status().code() == StatusCode::kNotFound ? absl::OkStatus() : image.status();
  for (const ContainerRecord& container : lifecycle_->ListContainers({})) {
    for (const MountSpec& m : container.spec.mounts) {
      if (m.image_ref != image->id) continue;
      return absl::FailedPreconditionError(absl::StrCat("image ", image->id, " is in use: container ", container.id,
                                                        " mounts it as an image volume on ", m.container_path));
    }
  }
  return images_->Remove(image->id);
}

Condition Node::RuntimeCondition() const {
  // The runtime can work while its state directories are there and writable.
  for (const std::string* dir : {&config_.root, &config_.state_dir}) {
    if (::access(dir->c_str(), W_OK | X_OK) != 0) {
      return {false, "StateDirUnavailable",
              ErrnoError(absl::StrCat("state directory ", *dir)).message().data()};
    }
  }
  return {true, "", ""};
}

Condition Node::NetworkCondition() const {
  auto network = network::FindNetworkConfig(config_.cni.conf_dir, config_.cni.bin_dirs);
  if (!network.ok()) {
    return {false, "NetworkPluginNotReady",
            absl::StrCat("Network plugin returns error: cni config uninitialized: ",
                         network.status().message())};
  }
  return {true, "", ""};
}

std::map<std::string, std::string> Node::StatusInfo() const {
  nlohmann::json node = {
      {"cgroupMode", std::string(cgroups::ModeName(cgroup_layout_.mode))},
      {"cgroupControllers", cgroup_layout_.controllers},
      {"podCIDR", pod_cidr()},
      {"schemaVersions", db_->schema_versions()},
  };
  auto network = network::FindNetworkConfig(config_.cni.conf_dir, config_.cni.bin_dirs);
  if (network.ok()) {
    node["cniConfigFile"] = network->file;
    node["cniNetwork"] = network->name;
  }
  nlohmann::json pulls = nlohmann::json::array();
  for (const auto& pull : images_->ActivePulls()) {
    pulls.push_back({{"image", pull.reference}, {"totalBytes", pull.total_bytes}, {"doneBytes", pull.done_bytes},
                     {"layers", pull.layers}, {"layersDone", pull.layers_done}});
  }
  // NRI: whether berthd hosts plugins, and those that get events now.
  nlohmann::json nri = {{"enabled", config_.nri.enable}, {"plugins", lifecycle_->NriPlugins()}};
  return {{"config", config_.ToYaml()}, {"node", node.dump()}, {"pulls", pulls.dump()}, {"nri", nri.dump()}};
}

StatusOr<Node::FilesystemUsage> Node::ImageFilesystemUsage() const {
  ASSIGN_OR_RETURN(DiskUsage usage, MeasureDiskUsage(images_dir()));
  return FilesystemUsage{images_dir(), usage};
}

StatusOr<Node::FilesystemUsage> Node::ContainerFilesystemUsage() const {
  ASSIGN_OR_RETURN(DiskUsage usage, MeasureDiskUsage(containers_dir()));
  return FilesystemUsage{containers_dir(), usage};
}

Status Node::SetPodCidr(const std::string& cidr) {
  RETURN_IF_ERROR(ValidatePodCidr(cidr));
  absl::MutexLock lock(&mu_);
  if (cidr == pod_cidr_) return absl::OkStatus();
  RETURN_IF_ERROR(RenderNetworkConfig(cidr));
  RETURN_IF_ERROR(db_->PutSetting(kPodCidrSetting, cidr));
  pod_cidr_ = cidr;
  return absl::OkStatus();
}

Status Node::RenderNetworkConfig(const std::string& cidr) const {
  if (config_.cni.conf_template.empty() || cidr.empty()) return absl::OkStatus();
  std::string out = config_.cni.conf_dir + "/10-berth.conflist";
  RETURN_IF_ERROR(network::RenderConfigTemplate(config_.cni.conf_template, cidr, out));
  BERTH_LOG(Info) << "network config rendered" << Kv("file", out) << Kv("pod_cidr", cidr);
  return absl::OkStatus();
}

std::string Node::pod_cidr() const {
  absl::MutexLock lock(&mu_);
  return pod_cidr_;
}

}  // namespace berth::pods

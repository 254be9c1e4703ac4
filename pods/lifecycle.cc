#include "pods/lifecycle.h"

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "network/cni.h"
#include "pods/nri_spec.h"

namespace berth::pods {
namespace {

network::CniOptions NetworkOptions(const Config& config, const StateLayout& layout) {
  network::CniOptions options;
  options.conf_dir = config.cni.conf_dir;
  options.bin_dirs = config.cni.bin_dirs;
  options.cache_dir = layout.NetworkCacheDir();
  options.plugin_timeout = std::chrono::seconds(config.cni.plugin_timeout_seconds);
  return options;
}

}  // namespace

LifecycleParts LifecycleParts::Real(const Config& config, image::ImageStore* images,
                                    const std::string& berth_binary_dir) {
  const StateLayout layout(config.root, config.state_dir);
  LifecycleParts parts;
  parts.network = std::make_unique<network::CniNetwork>(NetworkOptions(config, layout));
  parts.host = std::make_unique<LinuxSandboxHost>(berth_binary_dir + "/berth-shim");
  parts.rootfs = std::make_unique<OverlayRootfs>(images);
  parts.handlers = std::make_unique<HandlerRegistry>(config, layout, berth_binary_dir);
  return parts;
}

Lifecycle::Lifecycle(const Config& config, const cgroups::Layout& cgroups, StateDb* db, LifecycleParts parts)
    : config_(config),
      layout_(config.root, config.state_dir),
      cgroups_(cgroups),
      records_(db, &events_),
      pod_network_(std::move(parts.network)),
      network_(pod_network_.get()),
      host_(std::move(parts.host)),
      rootfs_(std::move(parts.rootfs)),
      handlers_(std::move(parts.handlers)),
      checkpoint_(config.runtimes.criu_path),
      cdi_(config.cdi.spec_dirs),
      blockio_(config.blockio_config_file),
      nri_host_(config.nri.enable ? std::make_unique<nri::Host>(config.nri, "berth", BERTH_VERSION) : nullptr),
      nri_(nri_host_.get(), [this](const SandboxRecord& pod) { return CgroupParent(pod); }, &cdi_, &blockio_),
      exits_([this](const std::string& id) { OnShimExit(id); }) {}

Lifecycle::~Lifecycle() {
  // Plugins go first, while everything their requests reach (records, locks) is
  // still here; an event after this (an exit the watcher records) finds no plugin.
  if (nri_host_) nri_host_->Stop();
}

Status Lifecycle::StartNri() {
  if (!nri_host_) return absl::OkStatus();
  return nri_host_->Start(NriCallbacks());
}

std::vector<std::string> Lifecycle::NriPlugins() const {
  return nri_host_ ? nri_host_->PluginNames() : std::vector<std::string>{};
}

nri::HostCallbacks Lifecycle::NriCallbacks() {
  nri::HostCallbacks callbacks;
  callbacks.snapshot = [this] {
    nri::Snapshot snapshot;
    for (const SandboxRecord& pod : ListPods({})) snapshot.pods.push_back(NriPod(pod, CgroupParent(pod)));
    // As containerd: what has exited is not part of a plugin's world.
    for (const ContainerRecord& container : ListContainers({})) {
      if (container.state == ContainerState::kCreated || container.state == ContainerState::kRunning) {
        snapshot.containers.push_back(NriContainer(container, nullptr));
      }
    }
    return snapshot;
  };
  callbacks.update_containers = [this](const std::vector<nri::api::ContainerUpdate>& updates) {
    std::vector<nri::api::ContainerUpdate> failed;
    for (const nri::api::ContainerUpdate& update : updates) {
      // Classes need the container's whole block I/O or RDT setup, which an update of
      // its resources record does not carry: reported failed rather than dropped.
      const auto& asked = update.linux().resources();
      if (asked.has_blockio_class() || asked.has_rdt_class()) {
        BERTH_LOG(Warn) << "NRI: a plugin's update of a running container sets a block I/O or RDT class, "
                           "which berth applies only at create"
                        << Kv("container", update.container_id());
        if (!update.ignore_failure()) failed.push_back(update);
        continue;
      }
      const cgroups::Resources wanted = CgroupResources(update.linux().resources());
      auto current = records_.GetContainer(update.container_id());
      ResourcesSpec spec = current ? current->spec.resources : ResourcesSpec{};
      if (wanted.cpu_period) spec.cpu_period = static_cast<int64_t>(*wanted.cpu_period);
      if (wanted.cpu_quota) spec.cpu_quota = *wanted.cpu_quota;
      if (wanted.cpu_shares) spec.cpu_shares = static_cast<int64_t>(*wanted.cpu_shares);
      if (wanted.memory_limit) spec.memory_limit = *wanted.memory_limit;
      if (wanted.memory_swap) spec.memory_swap_limit = *wanted.memory_swap;
      if (wanted.pids_limit) spec.pids_limit = *wanted.pids_limit;
      if (wanted.cpuset_cpus) spec.cpuset_cpus = *wanted.cpuset_cpus;
      if (wanted.cpuset_mems) spec.cpuset_mems = *wanted.cpuset_mems;
      for (const auto& limit : wanted.hugepage_limits) spec.hugepage_limits[limit.page_size] = limit.limit;
      for (const auto& [key, value] : wanted.unified) spec.unified[key] = value;
      Status updated = current ? UpdateResourcesForNri(update.container_id(), spec)
                               : absl::NotFoundError(absl::StrCat("container ", update.container_id(), " not found"));
      if (!updated.ok() && !update.ignore_failure()) {
        BERTH_LOG(Warn) << "NRI: update a container" << Kv("container", update.container_id()) << updated;
        failed.push_back(update);
      }
    }
    return failed;
  };
  callbacks.evict_containers = [this](const std::vector<nri::api::ContainerEviction>& evictions) {
    for (const nri::api::ContainerEviction& eviction : evictions) {
      BERTH_LOG(Info) << "NRI: a plugin evicts a container" << Kv("container", eviction.container_id())
                      << Kv("reason", eviction.reason());
      Status stopped = StopContainer(eviction.container_id(), std::chrono::seconds(0));
      if (!stopped.ok()) BERTH_LOG(Warn) << "NRI: evict a container" << stopped;
    }
  };
  return callbacks;
}

RuntimeHandler::Features Lifecycle::HandlerFeatures(const std::string& name) {
  RuntimeHandler::Features features = handlers_->Features(name);
  features.user_namespaces = features.user_namespace && rootfs_->SupportsIdmappedMounts();
  return features;
}

std::string Lifecycle::CgroupParent(const SandboxRecord& pod) const {
  // Without a parent from kubelet the pod gets one of berth's, removed with the pod.
  std::string parent = pod.spec.cgroup_parent.empty() ? "/berth/" + pod.id : pod.spec.cgroup_parent;
  if (parent[0] != '/') parent = "/" + parent;
  return parent;
}

std::string Lifecycle::CgroupPath(const SandboxRecord& pod, const std::string& container_id) const {
  return absl::StrCat(CgroupParent(pod), "/", container_id);
}

std::string Lifecycle::OomFile(const std::string& cgroup_path) const {
  if (cgroups_.mode == cgroups::Mode::kUnified) return absl::StrCat(cgroups_.root, cgroup_path, "/memory.events");
  return absl::StrCat(cgroups_.root, "/memory", cgroup_path, "/memory.oom_control");
}

}  // namespace berth::pods

#include "pods/lifecycle.h"

#include "absl/strings/str_cat.h"
#include "network/cni.h"

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
      exits_([this](const std::string& id) { OnShimExit(id); }) {}

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

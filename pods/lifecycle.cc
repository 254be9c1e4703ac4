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

Lifecycle::Lifecycle(const Config& config, const cgroups::Layout& cgroups, StateDb* db, image::ImageStore* images,
                     std::string berth_binary_dir)
    : config_(config),
      layout_(config.root, config.state_dir),
      cgroups_(cgroups),
      images_(images),
      records_(db, &events_),
      pod_network_(std::make_unique<network::CniNetwork>(NetworkOptions(config, layout_))),
      network_(pod_network_.get()),
      handlers_(config, layout_, berth_binary_dir),
      exits_([this](const std::string& id) { OnShimExit(id); }) {}

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

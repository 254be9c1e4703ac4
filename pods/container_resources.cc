#include "pods/container_resources.h"

namespace berth::pods {

cgroups::Resources ContainerResources(const ResourcesSpec& r, const std::set<std::string>& controllers,
                                      bool cgroup_v2) {
  cgroups::Resources out;
  if (controllers.count("memory")) {
    if (r.memory_limit > 0) out.memory_limit = r.memory_limit;
    if (r.memory_swap_limit > 0) out.memory_swap = r.memory_swap_limit;
  }
  if (r.cpu_shares > 0) out.cpu_shares = r.cpu_shares;
  if (r.cpu_quota > 0) out.cpu_quota = r.cpu_quota;
  if (r.cpu_period > 0) out.cpu_period = r.cpu_period;
  if (!r.cpuset_cpus.empty()) out.cpuset_cpus = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) out.cpuset_mems = r.cpuset_mems;
  if (r.pids_limit > 0 && controllers.count("pids")) out.pids_limit = r.pids_limit;
  if (controllers.count("hugetlb")) {
    for (const auto& [size, limit] : r.hugepage_limits) out.hugepage_limits.push_back({size, limit});
  }
  if (cgroup_v2) out.unified = r.unified;
  return out;
}

}  // namespace berth::pods

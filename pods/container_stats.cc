// A container's resource use: its cgroup's counters while it runs, and the space its
// writable layer takes.
#include "base/clock.h"
#include "pods/lifecycle.h"

namespace berth::pods {

StatusOr<ContainerUsage> Lifecycle::Usage(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  ContainerUsage usage;
  usage.timestamp = NowNanos();
  if (record.state == ContainerState::kRunning) {
    auto cgroup = cgroups::ReadUsage(cgroups_, record.cgroup_path);
    if (cgroup.ok()) usage.cgroup = *cgroup;
  }
  usage.writable_layer = record.dir + "/upper";
  auto disk = MeasureDiskUsage(usage.writable_layer);
  if (disk.ok()) usage.writable_layer_usage = *disk;
  usage.container = std::move(record);
  return usage;
}

std::vector<ContainerUsage> Lifecycle::ListUsage(const ContainerFilter& filter) {
  std::vector<ContainerUsage> out;
  for (const auto& record : ListContainers(filter)) {
    auto usage = Usage(record.id);
    if (usage.ok()) out.push_back(std::move(*usage));
  }
  return out;
}

}  // namespace berth::pods

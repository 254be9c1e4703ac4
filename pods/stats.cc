#include "pods/stats.h"

#include <map>
#include <set>

#include "base/clock.h"
#include "pods/lifecycle.h"

namespace berth::pods {

StatsCollector::StatsCollector(Lifecycle& lifecycle, const cgroups::Layout& layout, StatsOptions options)
    : lifecycle_(lifecycle),
      layout_(layout),
      layers_(options.layer_usage_refresh),
      sampler_(layout, options.cpu_sample_interval, [this] { return SampledCgroups(); }) {}

std::vector<std::string> StatsCollector::SampledCgroups() {
  std::vector<std::string> cgroups;
  SandboxFilter ready;
  ready.state = SandboxState::kReady;
  for (const auto& pod : lifecycle_.ListPods(ready)) {
    cgroups.push_back(lifecycle_.CgroupParent(pod));
  }
  std::set<std::string> layers;
  for (const auto& container : lifecycle_.ListContainers(ContainerFilter{})) {
    layers.insert(container.dir + "/upper");
    if (container.state == ContainerState::kRunning) cgroups.push_back(container.cgroup_path);
  }
  layers_.Retain(layers);
  return cgroups;
}

ContainerStats StatsCollector::Measure(ContainerRecord record, bool with_open_files) {
  ContainerStats stats;
  stats.timestamp = NowNanos();
  if (record.state == ContainerState::kRunning) {
    auto cgroup = cgroups::ReadStats(layout_, record.cgroup_path);
    if (cgroup.ok()) stats.cgroup = std::move(*cgroup);
    stats.nano_cores = sampler_.NanoCores(record.cgroup_path);
    stats.pids = cgroups::ReadProcs(layout_, record.cgroup_path);
    if (with_open_files) {
      stats.open_files = CountOpenFiles(stats.pids);
      if (!stats.pids.empty()) stats.open_files_limit = OpenFilesSoftLimit(stats.pids.front());
    }
  }
  stats.writable_layer_dir = record.dir + "/upper";
  stats.writable_layer = layers_.Get(stats.writable_layer_dir);
  stats.container = std::move(record);
  return stats;
}

StatusOr<ContainerStats> StatsCollector::Container(const std::string& id) {
  ASSIGN_OR_RETURN(ContainerRecord record, lifecycle_.GetContainer(id));
  return Measure(std::move(record), false);
}

std::vector<ContainerStats> StatsCollector::Containers(const ContainerFilter& filter) {
  std::vector<ContainerStats> out;
  for (auto& record : lifecycle_.ListContainers(filter)) out.push_back(Measure(std::move(record), false));
  return out;
}

std::map<std::string, std::vector<ContainerRecord>> StatsCollector::RunningByPod(const std::string& pod_id_prefix) {
  ContainerFilter running;
  running.pod_id_prefix = pod_id_prefix;
  running.state = ContainerState::kRunning;
  std::map<std::string, std::vector<ContainerRecord>> by_pod;
  for (auto& record : lifecycle_.ListContainers(running)) by_pod[record.pod_id].push_back(std::move(record));
  return by_pod;
}

PodStats StatsCollector::MeasurePod(SandboxRecord pod, std::vector<ContainerRecord> containers,
                                    bool with_open_files) {
  PodStats stats;
  stats.timestamp = NowNanos();
  stats.cgroup_path = lifecycle_.CgroupParent(pod);
  if (pod.state == SandboxState::kReady) {
    auto cgroup = cgroups::ReadStats(layout_, stats.cgroup_path);
    if (cgroup.ok()) stats.cgroup = std::move(*cgroup);
    stats.nano_cores = sampler_.NanoCores(stats.cgroup_path);
    if (!pod.netns_path.empty()) {
      auto interfaces = network::ReadInterfaceCounters(pod.netns_path);
      if (interfaces.ok()) stats.interfaces = std::move(*interfaces);
    }
  }
  for (auto& record : containers) {
    stats.containers.push_back(Measure(std::move(record), with_open_files));
    stats.process_count += stats.containers.back().pids.size();
  }
  stats.pod = std::move(pod);
  return stats;
}

StatusOr<PodStats> StatsCollector::Pod(const std::string& id) {
  ASSIGN_OR_RETURN(SandboxRecord pod, lifecycle_.GetPod(id));
  auto running = RunningByPod(pod.id);
  return MeasurePod(pod, std::move(running[pod.id]), false);
}

std::vector<PodStats> StatsCollector::Pods(const SandboxFilter& filter, bool with_open_files) {
  SandboxFilter ready = filter;
  ready.state = SandboxState::kReady;
  // The containers are listed once for all pods (a list per pod would walk every
  // container once per pod).
  auto running = RunningByPod("");
  std::vector<PodStats> out;
  for (auto& pod : lifecycle_.ListPods(ready)) {
    std::vector<ContainerRecord> containers = std::move(running[pod.id]);
    out.push_back(MeasurePod(std::move(pod), std::move(containers), with_open_files));
  }
  return out;
}

}  // namespace berth::pods

// Resource usage of pods and containers, as CRI's stats and metrics RPCs report it:
// cgroup counters, CPU rates from a background sampler, the writable layers' space
// from a cache, and the pod's network counters read from its namespace.
//
//   StatsCollector stats(lifecycle, layout, options);
//   ASSIGN_OR_RETURN(PodStats pod, stats.Pod(id));
//   pod.cgroup.memory.working_set_bytes, pod.interfaces, pod.containers[0].nano_cores ...
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/disk_usage.h"
#include "base/process_files.h"
#include "base/status.h"
#include "cgroups/stats.h"
#include "network/interface_counters.h"
#include "pods/cpu_sampler.h"
#include "pods/filters.h"
#include "pods/layer_usage_cache.h"
#include "pods/records.h"

namespace berth::pods {

class Lifecycle;

struct ContainerStats {
  ContainerRecord container;
  int64_t timestamp = 0;  // unix nanoseconds
  // The cgroup's counters; unset when the container does not run (no cgroup).
  std::optional<cgroups::Stats> cgroup;
  std::optional<uint64_t> nano_cores;
  std::string writable_layer_dir;  // a real directory on the container filesystem
  DiskUsage writable_layer;
  std::vector<int> pids;  // its processes
  // Only when asked for (metrics): what its processes hold open.
  OpenFiles open_files;
  std::optional<uint64_t> open_files_limit;  // the soft limit of its first process
};

struct PodStats {
  SandboxRecord pod;
  int64_t timestamp = 0;
  std::string cgroup_path;
  std::optional<cgroups::Stats> cgroup;
  std::optional<uint64_t> nano_cores;
  // Interfaces of the pod's own network namespace (none for a host-network pod).
  std::vector<network::InterfaceCounters> interfaces;
  uint64_t process_count = 0;
  std::vector<ContainerStats> containers;  // its running containers
};

struct StatsOptions {
  std::chrono::milliseconds cpu_sample_interval{1000};
  std::chrono::milliseconds layer_usage_refresh{10000};
};

class StatsCollector {
 public:
  StatsCollector(Lifecycle& lifecycle, const cgroups::Layout& layout, StatsOptions options = {});

  StatusOr<ContainerStats> Container(const std::string& id);
  std::vector<ContainerStats> Containers(const ContainerFilter& filter);
  StatusOr<PodStats> Pod(const std::string& id);
  // Ready pods only (a stopped pod has nothing running to measure). with_open_files
  // adds each container's processes and open files (the metrics' extra cost).
  std::vector<PodStats> Pods(const SandboxFilter& filter, bool with_open_files = false);

 private:
  ContainerStats Measure(ContainerRecord record, bool with_open_files);
  // containers: the pod's running ones.
  PodStats MeasurePod(SandboxRecord pod, std::vector<ContainerRecord> containers, bool with_open_files);
  // Running containers of the pods whose id starts with pod_id_prefix, by pod id.
  std::map<std::string, std::vector<ContainerRecord>> RunningByPod(const std::string& pod_id_prefix);
  // The cgroups the sampler reads: ready pods' and running containers'.
  std::vector<std::string> SampledCgroups();

  Lifecycle& lifecycle_;
  const cgroups::Layout& layout_;
  LayerUsageCache layers_;
  // Last: it calls back into the above from its thread, and stops first.
  CpuSampler sampler_;
};

}  // namespace berth::pods

// CRI's container metrics (ListMetricDescriptors, ListPodSandboxMetrics): the
// series kubelet serves at /metrics/cadvisor when the runtime, not cAdvisor,
// measures the node. Names, types and label keys are cAdvisor's, so dashboards
// built on it keep working; pod and namespace are filled on every sample.
//
// Every sample carries the base labels
//   container  the container's name; "" on pod-level samples (the pod's cgroup and
//              network), as cAdvisor labels a pod's own cgroup
//   id         the cgroup path
//   image      the image as the container's spec names it
//   name       the container's (or the pod's) id
//   namespace, pod
// then its metric's own (interface, device, ...). CRI carries values as whole
// numbers: seconds are truncated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pods/stats.h"

namespace berth::pods {

enum class MetricType { kCounter, kGauge };

struct MetricDescriptor {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_keys;  // the base labels, then the metric's own
};

struct MetricSample {
  const MetricDescriptor* descriptor = nullptr;
  std::vector<std::string> label_values;  // as many as the descriptor's keys
  uint64_t value = 0;
};

struct ContainerMetrics {
  std::string container_id;
  std::vector<MetricSample> samples;
};

struct PodMetrics {
  std::string pod_id;
  std::vector<MetricSample> samples;  // the pod's cgroup and network
  std::vector<ContainerMetrics> containers;
};

// Every metric berth can report.
const std::vector<MetricDescriptor>& MetricDescriptors();

// The samples of one pod, from stats measured with open files (StatsCollector::Pods
// with with_open_files); now_nanos is the unix time "last seen" reports.
PodMetrics BuildPodMetrics(const PodStats& stats, int64_t now_nanos);

}  // namespace berth::pods

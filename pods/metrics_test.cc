#include "pods/metrics.h"

#include <set>

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

PodStats SamplePod() {
  PodStats pod;
  pod.pod.id = "pod1";
  pod.pod.spec.name = "web";
  pod.pod.spec.namespace_name = "default";
  pod.cgroup_path = "/berth/pod1";
  pod.cgroup = cgroups::Stats{};
  pod.cgroup->cpu.usage_nanos = 3500000000;
  pod.interfaces.push_back(network::InterfaceCounters{});
  pod.interfaces.back().name = "eth0";
  pod.interfaces.back().rx_bytes = 42;
  pod.process_count = 2;
  ContainerStats container;
  container.container.id = "ctr1";
  container.container.spec.name = "app";
  container.container.spec.image = "busybox";
  container.container.cgroup_path = "/berth/pod1/ctr1";
  container.container.started_at = 1700000000123456789;
  container.container.spec.resources.cpu_quota = 20000;
  container.cgroup = cgroups::Stats{};
  container.cgroup->memory.working_set_bytes = 4096;
  container.cgroup->memory.limit_bytes = 67108864;
  container.cgroup->pids.current = 3;
  container.cgroup->io.push_back(cgroups::DeviceIo{.major = 7, .minor = 99, .read_bytes = 10});
  container.cgroup->cpu_pressure = cgroups::Pressure{};
  container.cgroup->cpu_pressure->some.total_micros = 5000000;
  container.pids = {10, 11};
  container.open_files_limit = 1024;
  container.writable_layer_dir = "/tmp";
  pod.containers.push_back(container);
  return pod;
}

const MetricSample* Find(const std::vector<MetricSample>& samples, const std::string& name) {
  for (const auto& sample : samples) {
    if (sample.descriptor->name == name) return &sample;
  }
  return nullptr;
}

TEST(MetricDescriptors, AreUniqueAndCarryHelpAndTheBaseLabels) {
  std::set<std::string> names;
  for (const auto& descriptor : MetricDescriptors()) {
    EXPECT_TRUE(names.insert(descriptor.name).second) << descriptor.name;
    EXPECT_FALSE(descriptor.help.empty()) << descriptor.name;
    ASSERT_GE(descriptor.label_keys.size(), 6u);
    EXPECT_EQ(descriptor.label_keys[0], "container");
    EXPECT_EQ(descriptor.label_keys[5], "pod");
    // cAdvisor's counter without the suffix and gauge with it keep their names.
    if (descriptor.name != "container_memory_failcnt" && descriptor.name != "container_fs_inodes_total") {
      EXPECT_EQ(descriptor.name.ends_with("_total"), descriptor.type == MetricType::kCounter) << descriptor.name;
    }
  }
}

TEST(BuildPodMetrics, EverySampleHasItsDescriptorsLabelCount) {
  PodMetrics metrics = BuildPodMetrics(SamplePod(), 1700000100000000000);
  ASSERT_EQ(metrics.containers.size(), 1u);
  std::vector<MetricSample> all = metrics.samples;
  all.insert(all.end(), metrics.containers[0].samples.begin(), metrics.containers[0].samples.end());
  for (const auto& sample : all) {
    EXPECT_EQ(sample.label_values.size(), sample.descriptor->label_keys.size()) << sample.descriptor->name;
  }
}

TEST(BuildPodMetrics, FillsPodAndNamespaceEverywhereAndConvertsUnits) {
  PodMetrics metrics = BuildPodMetrics(SamplePod(), 1700000100000000000);
  const auto& pod = metrics.samples;
  const auto& container = metrics.containers[0].samples;
  const MetricSample* cpu = Find(pod, "container_cpu_usage_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->value, 3u);  // whole seconds: CRI carries integers
  EXPECT_EQ(cpu->label_values[0], "");  // the pod's own cgroup
  EXPECT_EQ(cpu->label_values[6], "total");
  const MetricSample* rx = Find(pod, "container_network_receive_bytes_total");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->value, 42u);
  EXPECT_EQ(rx->label_values[6], "eth0");
  const MetricSample* working_set = Find(container, "container_memory_working_set_bytes");
  ASSERT_NE(working_set, nullptr);
  EXPECT_EQ(working_set->value, 4096u);
  EXPECT_EQ(working_set->label_values,
            (std::vector<std::string>{"app", "/berth/pod1/ctr1", "busybox", "ctr1", "default", "web"}));
  EXPECT_EQ(Find(container, "container_threads")->value, 3u);
  EXPECT_EQ(Find(container, "container_processes")->value, 2u);
  EXPECT_EQ(Find(container, "container_spec_cpu_quota")->value, 20000u);
  EXPECT_EQ(Find(container, "container_spec_memory_limit_bytes")->value, 67108864u);
  EXPECT_EQ(Find(container, "container_start_time_seconds")->value, 1700000000u);
  EXPECT_EQ(Find(container, "container_last_seen")->value, 1700000100u);
  EXPECT_EQ(Find(container, "container_ulimits_soft")->value, 1024u);
  EXPECT_EQ(Find(container, "container_pressure_cpu_waiting_seconds_total")->value, 5u);
  EXPECT_EQ(Find(container, "container_pressure_memory_waiting_seconds_total"), nullptr);
  EXPECT_NE(Find(container, "container_fs_limit_bytes"), nullptr);
  EXPECT_EQ(Find(container, "container_fs_reads_bytes_total")->value, 10u);
}

TEST(BuildPodMetrics, NoQuotaNoQuotaSample) {
  PodStats pod = SamplePod();
  pod.containers[0].container.spec.resources.cpu_quota = 0;
  PodMetrics metrics = BuildPodMetrics(pod, 1);
  EXPECT_EQ(Find(metrics.containers[0].samples, "container_spec_cpu_quota"), nullptr);
}

}  // namespace
}  // namespace berth::pods

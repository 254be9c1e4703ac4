#include "cri/stats_translate.h"

namespace berth::cri {
namespace {

// What a limit leaves of itself once used is taken, floored at 0.
uint64_t Remaining(uint64_t limit, uint64_t used) { return limit > used ? limit - used : 0; }

void FillPressure(const cgroups::Pressure& pressure, ::runtime::v1::PsiStats* out) {
  // The kernel counts stall time in microseconds; CRI wants nanoseconds.
  auto fill = [](const cgroups::PressureLine& line, ::runtime::v1::PsiData* data) {
    data->set_total(line.total_micros * 1000);
    data->set_avg10(line.avg10);
    data->set_avg60(line.avg60);
    data->set_avg300(line.avg300);
  };
  fill(pressure.full, out->mutable_full());
  fill(pressure.some, out->mutable_some());
}

void FillCpu(int64_t timestamp, const cgroups::Stats& cgroup, std::optional<uint64_t> nano_cores,
             ::runtime::v1::CpuUsage* cpu) {
  cpu->set_timestamp(timestamp);
  cpu->mutable_usage_core_nano_seconds()->set_value(cgroup.cpu.usage_nanos);
  if (nano_cores) cpu->mutable_usage_nano_cores()->set_value(*nano_cores);
  if (cgroup.cpu_pressure) FillPressure(*cgroup.cpu_pressure, cpu->mutable_psi());
}

void FillMemory(int64_t timestamp, const cgroups::MemoryStats& m, const std::optional<cgroups::Pressure>& pressure,
                ::runtime::v1::MemoryUsage* memory) {
  memory->set_timestamp(timestamp);
  memory->mutable_working_set_bytes()->set_value(m.working_set_bytes);
  // What the limit leaves, as kubelet's eviction reads it; no limit, no figure.
  if (m.limit_bytes) memory->mutable_available_bytes()->set_value(Remaining(*m.limit_bytes, m.working_set_bytes));
  memory->mutable_usage_bytes()->set_value(m.usage_bytes);
  memory->mutable_rss_bytes()->set_value(m.rss_bytes);
  memory->mutable_page_faults()->set_value(m.page_faults);
  memory->mutable_major_page_faults()->set_value(m.major_page_faults);
  if (pressure) FillPressure(*pressure, memory->mutable_psi());
}

}  // namespace

void FillContainerStats(const pods::ContainerStats& stats, ::runtime::v1::ContainerStats* out) {
  const pods::ContainerRecord& c = stats.container;
  auto* attributes = out->mutable_attributes();
  attributes->set_id(c.id);
  attributes->mutable_metadata()->set_name(c.spec.name);
  attributes->mutable_metadata()->set_attempt(c.spec.attempt);
  attributes->mutable_labels()->insert(c.spec.labels.begin(), c.spec.labels.end());
  attributes->mutable_annotations()->insert(c.spec.annotations.begin(), c.spec.annotations.end());
  const int64_t at = stats.timestamp;
  // A container that does not run reports zero use, with its timestamps: kubelet
  // wants both sections present.
  const cgroups::Stats cgroup = stats.cgroup.value_or(cgroups::Stats{});
  FillCpu(at, cgroup, stats.nano_cores, out->mutable_cpu());
  FillMemory(at, cgroup.memory, cgroup.memory_pressure, out->mutable_memory());
  auto* swap = out->mutable_swap();
  swap->set_timestamp(at);
  swap->mutable_swap_usage_bytes()->set_value(cgroup.memory.swap_bytes);
  if (cgroup.memory.swap_limit_bytes) {
    swap->mutable_swap_available_bytes()->set_value(
        Remaining(*cgroup.memory.swap_limit_bytes, cgroup.memory.swap_bytes));
  }
  if (cgroup.io_pressure) {
    out->mutable_io()->set_timestamp(at);
    FillPressure(*cgroup.io_pressure, out->mutable_io()->mutable_psi());
  }
  auto* layer = out->mutable_writable_layer();
  layer->set_timestamp(at);
  layer->mutable_fs_id()->set_mountpoint(stats.writable_layer_dir);
  layer->mutable_used_bytes()->set_value(stats.writable_layer.bytes);
  layer->mutable_inodes_used()->set_value(stats.writable_layer.inodes);
}

void FillPodStats(const pods::PodStats& stats, ::runtime::v1::PodSandboxStats* out) {
  const pods::SandboxRecord& pod = stats.pod;
  auto* attributes = out->mutable_attributes();
  attributes->set_id(pod.id);
  auto* metadata = attributes->mutable_metadata();
  metadata->set_name(pod.spec.name);
  metadata->set_uid(pod.spec.uid);
  metadata->set_namespace_(pod.spec.namespace_name);
  metadata->set_attempt(pod.spec.attempt);
  attributes->mutable_labels()->insert(pod.spec.labels.begin(), pod.spec.labels.end());
  attributes->mutable_annotations()->insert(pod.spec.annotations.begin(), pod.spec.annotations.end());
  auto* usage = out->mutable_linux();
  const int64_t at = stats.timestamp;
  const cgroups::Stats cgroup = stats.cgroup.value_or(cgroups::Stats{});
  FillCpu(at, cgroup, stats.nano_cores, usage->mutable_cpu());
  FillMemory(at, cgroup.memory, cgroup.memory_pressure, usage->mutable_memory());
  if (cgroup.io_pressure) {
    usage->mutable_io()->set_timestamp(at);
    FillPressure(*cgroup.io_pressure, usage->mutable_io()->mutable_psi());
  }
  if (!stats.interfaces.empty()) {
    auto* network = usage->mutable_network();
    network->set_timestamp(at);
    auto fill = [](const network::InterfaceCounters& i, ::runtime::v1::NetworkInterfaceUsage* usage) {
      usage->set_name(i.name);
      usage->mutable_rx_bytes()->set_value(i.rx_bytes);
      usage->mutable_rx_errors()->set_value(i.rx_errors);
      usage->mutable_tx_bytes()->set_value(i.tx_bytes);
      usage->mutable_tx_errors()->set_value(i.tx_errors);
    };
    if (const auto* default_interface = network::DefaultInterface(stats.interfaces)) {
      fill(*default_interface, network->mutable_default_interface());
    }
    for (const auto& i : stats.interfaces) fill(i, network->add_interfaces());
  }
  auto* process = usage->mutable_process();
  process->set_timestamp(at);
  process->mutable_process_count()->set_value(stats.process_count);
  for (const auto& container : stats.containers) FillContainerStats(container, usage->add_containers());
}

pods::ContainerFilter ToStatsFilter(const ::runtime::v1::ContainerStatsFilter& f) {
  pods::ContainerFilter filter;
  filter.id_prefix = f.id();
  filter.pod_id_prefix = f.pod_sandbox_id();
  filter.labels.insert(f.label_selector().begin(), f.label_selector().end());
  return filter;
}

pods::SandboxFilter ToStatsFilter(const ::runtime::v1::PodSandboxStatsFilter& f) {
  pods::SandboxFilter filter;
  filter.id_prefix = f.id();
  filter.labels.insert(f.label_selector().begin(), f.label_selector().end());
  return filter;
}

}  // namespace berth::cri

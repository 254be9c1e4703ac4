#include "pods/metrics.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth::pods {
namespace {

constexpr MetricType kCounter = MetricType::kCounter;
constexpr MetricType kGauge = MetricType::kGauge;

std::vector<MetricDescriptor> MakeDescriptors() {
  struct Row {
    const char* name;
    MetricType type;
    const char* help;
    std::vector<std::string> extra_labels;
  };
  const std::vector<Row> rows = {
      {"container_cpu_usage_seconds_total", kCounter, "Cumulative CPU time consumed, in seconds.", {"cpu"}},
      {"container_cpu_user_seconds_total", kCounter, "Cumulative user CPU time consumed, in seconds.", {}},
      {"container_cpu_system_seconds_total", kCounter, "Cumulative system CPU time consumed, in seconds.", {}},
      {"container_cpu_cfs_periods_total", kCounter, "Number of elapsed CFS enforcement periods.", {}},
      {"container_cpu_cfs_throttled_periods_total", kCounter, "Number of throttled CFS periods.", {}},
      {"container_cpu_cfs_throttled_seconds_total", kCounter, "Total time the group was throttled, in seconds.", {}},
      {"container_memory_usage_bytes", kGauge, "Current memory usage, page cache included, in bytes.", {}},
      {"container_memory_max_usage_bytes", kGauge, "Maximum memory usage recorded, in bytes.", {}},
      {"container_memory_working_set_bytes", kGauge, "Current working set (usage less inactive file pages), in bytes.",
       {}},
      {"container_memory_rss", kGauge, "Size of anonymous memory (RSS), in bytes.", {}},
      {"container_memory_cache", kGauge, "Size of the page cache, in bytes.", {}},
      {"container_memory_mapped_file", kGauge, "Size of memory-mapped files, in bytes.", {}},
      {"container_memory_swap", kGauge, "Swap usage, in bytes.", {}},
      {"container_memory_kernel_usage", kGauge, "Kernel memory charged to the group, in bytes.", {}},
      {"container_memory_failcnt", kCounter, "Number of times memory usage hit the limit.", {}},
      {"container_memory_failures_total", kCounter, "Cumulative count of memory allocation failures (page faults).",
       {"failure_type", "scope"}},
      {"container_oom_events_total", kCounter, "Count of out-of-memory kills in the group.", {}},
      {"container_processes", kGauge, "Number of processes running inside the container.", {}},
      {"container_threads", kGauge, "Number of threads running inside the container.", {}},
      {"container_threads_max", kGauge, "Maximum number of threads allowed in the container (0: unlimited).", {}},
      {"container_file_descriptors", kGauge, "Number of open file descriptors of the container's processes.", {}},
      {"container_sockets", kGauge, "Number of open sockets of the container's processes.", {}},
      {"container_ulimits_soft", kGauge, "Soft ulimit value of the container's first process.", {"ulimit"}},
      {"container_network_receive_bytes_total", kCounter, "Cumulative count of bytes received.", {"interface"}},
      {"container_network_receive_packets_total", kCounter, "Cumulative count of packets received.", {"interface"}},
      {"container_network_receive_errors_total", kCounter, "Cumulative count of errors while receiving.",
       {"interface"}},
      {"container_network_receive_packets_dropped_total", kCounter,
       "Cumulative count of packets dropped while receiving.", {"interface"}},
      {"container_network_transmit_bytes_total", kCounter, "Cumulative count of bytes transmitted.", {"interface"}},
      {"container_network_transmit_packets_total", kCounter, "Cumulative count of packets transmitted.",
       {"interface"}},
      {"container_network_transmit_errors_total", kCounter, "Cumulative count of errors while transmitting.",
       {"interface"}},
      {"container_network_transmit_packets_dropped_total", kCounter,
       "Cumulative count of packets dropped while transmitting.", {"interface"}},
      {"container_fs_usage_bytes", kGauge, "Bytes the container's writable layer uses.", {"device"}},
      {"container_fs_limit_bytes", kGauge, "Bytes the filesystem of the writable layer can hold.", {"device"}},
      {"container_fs_inodes_total", kGauge, "Inodes of the filesystem of the writable layer.", {"device"}},
      {"container_fs_inodes_free", kGauge, "Free inodes of the filesystem of the writable layer.", {"device"}},
      {"container_fs_reads_bytes_total", kCounter, "Cumulative count of bytes read.", {"device"}},
      {"container_fs_reads_total", kCounter, "Cumulative count of reads completed.", {"device"}},
      {"container_fs_writes_bytes_total", kCounter, "Cumulative count of bytes written.", {"device"}},
      {"container_fs_writes_total", kCounter, "Cumulative count of writes completed.", {"device"}},
      {"container_blkio_device_usage_total", kCounter, "Block I/O device usage, in bytes.",
       {"device", "major", "minor", "operation"}},
      {"container_spec_cpu_period", kGauge, "CPU CFS period of the container, in microseconds.", {}},
      {"container_spec_cpu_quota", kGauge, "CPU CFS quota of the container, in microseconds (absent: none).", {}},
      {"container_spec_cpu_shares", kGauge, "CPU shares of the container.", {}},
      {"container_spec_memory_limit_bytes", kGauge, "Memory limit of the container, in bytes (0: none).", {}},
      {"container_spec_memory_reservation_limit_bytes", kGauge,
       "Memory reservation of the container, in bytes (0: none).", {}},
      {"container_spec_memory_swap_limit_bytes", kGauge, "Swap limit of the container, in bytes (0: none).", {}},
      {"container_start_time_seconds", kGauge, "Start time of the container since the unix epoch, in seconds.", {}},
      {"container_last_seen", kGauge, "Last time the container was seen by the runtime, in seconds since the epoch.",
       {}},
      {"container_pressure_cpu_stalled_seconds_total", kCounter,
       "Total time all non-idle tasks were stalled on CPU, in seconds.", {}},
      {"container_pressure_cpu_waiting_seconds_total", kCounter,
       "Total time at least one task waited on CPU, in seconds.", {}},
      {"container_pressure_memory_stalled_seconds_total", kCounter,
       "Total time all non-idle tasks were stalled on memory, in seconds.", {}},
      {"container_pressure_memory_waiting_seconds_total", kCounter,
       "Total time at least one task waited on memory, in seconds.", {}},
      {"container_pressure_io_stalled_seconds_total", kCounter,
       "Total time all non-idle tasks were stalled on I/O, in seconds.", {}},
      {"container_pressure_io_waiting_seconds_total", kCounter,
       "Total time at least one task waited on I/O, in seconds.", {}},
  };
  std::vector<MetricDescriptor> out;
  for (const auto& row : rows) {
    MetricDescriptor descriptor{row.name, row.help, row.type, {"container", "id", "image", "name", "namespace", "pod"}};
    descriptor.label_keys.insert(descriptor.label_keys.end(), row.extra_labels.begin(), row.extra_labels.end());
    out.push_back(std::move(descriptor));
  }
  return out;
}

const MetricDescriptor& Descriptor(const std::string& name) {
  static const auto* by_name = [] {
    auto* map = new std::map<std::string, const MetricDescriptor*>;
    for (const auto& descriptor : MetricDescriptors()) (*map)[descriptor.name] = &descriptor;
    return map;
  }();
  return *by_name->at(name);
}

constexpr uint64_t kNanosPerSecond = 1000000000;

// The filesystem that holds a directory: its device's name and its size.
struct FilesystemFacts {
  std::string device;
  uint64_t capacity_bytes = 0;
  uint64_t inodes = 0;
  uint64_t inodes_free = 0;
};

// "/dev/sda1" from sysfs for a block device; "MAJOR:MINOR" for one sysfs does not
// name (overlay, tmpfs).
std::string DeviceName(uint32_t major, uint32_t minor) {
  auto uevent = ReadFile(absl::StrCat("/sys/dev/block/", major, ":", minor, "/uevent"));
  if (uevent.ok()) {
    for (absl::string_view line : absl::StrSplit(*uevent, '\n')) {
      if (absl::ConsumePrefix(&line, "DEVNAME=")) return absl::StrCat("/dev/", line);
    }
  }
  return absl::StrCat(major, ":", minor);
}

std::optional<FilesystemFacts> FilesystemOf(const std::string& dir) {
  struct stat st;
  struct statvfs fs;
  if (::stat(dir.c_str(), &st) != 0 || ::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return FilesystemFacts{DeviceName(major(st.st_dev), minor(st.st_dev)), uint64_t{fs.f_blocks} * fs.f_frsize,
                         fs.f_files, fs.f_ffree};
}

// Adds samples that share one set of base labels.
class SampleWriter {
 public:
  SampleWriter(std::vector<MetricSample>& out, std::vector<std::string> base) : out_(out), base_(std::move(base)) {}
  void Add(const std::string& name, uint64_t value, std::vector<std::string> extra = {}) {
    MetricSample sample{&Descriptor(name), base_, value};
    sample.label_values.insert(sample.label_values.end(), extra.begin(), extra.end());
    out_.push_back(std::move(sample));
  }

 private:
  std::vector<MetricSample>& out_;
  const std::vector<std::string> base_;
};

void AddCpu(SampleWriter& w, const cgroups::CpuStats& cpu) {
  w.Add("container_cpu_usage_seconds_total", cpu.usage_nanos / kNanosPerSecond, {"total"});
  w.Add("container_cpu_user_seconds_total", cpu.user_nanos / kNanosPerSecond);
  w.Add("container_cpu_system_seconds_total", cpu.system_nanos / kNanosPerSecond);
  w.Add("container_cpu_cfs_periods_total", cpu.periods);
  w.Add("container_cpu_cfs_throttled_periods_total", cpu.throttled_periods);
  w.Add("container_cpu_cfs_throttled_seconds_total", cpu.throttled_nanos / kNanosPerSecond);
}

void AddMemory(SampleWriter& w, const cgroups::MemoryStats& memory) {
  w.Add("container_memory_usage_bytes", memory.usage_bytes);
  w.Add("container_memory_max_usage_bytes", memory.max_usage_bytes);
  w.Add("container_memory_working_set_bytes", memory.working_set_bytes);
  w.Add("container_memory_rss", memory.rss_bytes);
  w.Add("container_memory_cache", memory.cache_bytes);
  w.Add("container_memory_mapped_file", memory.mapped_file_bytes);
  w.Add("container_memory_swap", memory.swap_bytes);
  w.Add("container_memory_kernel_usage", memory.kernel_bytes);
  w.Add("container_memory_failcnt", memory.failcnt);
  w.Add("container_memory_failures_total", memory.page_faults, {"pgfault", "container"});
  w.Add("container_memory_failures_total", memory.major_page_faults, {"pgmajfault", "container"});
  w.Add("container_memory_failures_total", memory.hierarchy_page_faults, {"pgfault", "hierarchy"});
  w.Add("container_memory_failures_total", memory.hierarchy_major_page_faults, {"pgmajfault", "hierarchy"});
  w.Add("container_oom_events_total", memory.oom_kills);
}

void AddPressure(SampleWriter& w, const std::string& resource, const std::optional<cgroups::Pressure>& pressure) {
  if (!pressure) return;
  // PSI totals are in microseconds.
  w.Add(absl::StrCat("container_pressure_", resource, "_stalled_seconds_total"), pressure->full.total_micros / 1000000);
  w.Add(absl::StrCat("container_pressure_", resource, "_waiting_seconds_total"), pressure->some.total_micros / 1000000);
}

void AddNetwork(SampleWriter& w, const std::vector<network::InterfaceCounters>& interfaces) {
  for (const auto& i : interfaces) {
    w.Add("container_network_receive_bytes_total", i.rx_bytes, {i.name});
    w.Add("container_network_receive_packets_total", i.rx_packets, {i.name});
    w.Add("container_network_receive_errors_total", i.rx_errors, {i.name});
    w.Add("container_network_receive_packets_dropped_total", i.rx_dropped, {i.name});
    w.Add("container_network_transmit_bytes_total", i.tx_bytes, {i.name});
    w.Add("container_network_transmit_packets_total", i.tx_packets, {i.name});
    w.Add("container_network_transmit_errors_total", i.tx_errors, {i.name});
    w.Add("container_network_transmit_packets_dropped_total", i.tx_dropped, {i.name});
  }
}

void AddBlockIo(SampleWriter& w, const std::vector<cgroups::DeviceIo>& devices) {
  for (const auto& d : devices) {
    const std::string device = DeviceName(d.major, d.minor);
    const std::string major = absl::StrCat(d.major), minor = absl::StrCat(d.minor);
    w.Add("container_fs_reads_bytes_total", d.read_bytes, {device});
    w.Add("container_fs_reads_total", d.reads, {device});
    w.Add("container_fs_writes_bytes_total", d.write_bytes, {device});
    w.Add("container_fs_writes_total", d.writes, {device});
    w.Add("container_blkio_device_usage_total", d.read_bytes, {device, major, minor, "Read"});
    w.Add("container_blkio_device_usage_total", d.write_bytes, {device, major, minor, "Write"});
  }
}

void AddContainer(const PodStats& pod, const ContainerStats& c, int64_t now_nanos, std::vector<MetricSample>& out) {
  const ContainerRecord& record = c.container;
  SampleWriter w(out, {record.spec.name, record.cgroup_path, record.spec.image, record.id,
                       pod.pod.spec.namespace_name, pod.pod.spec.name});
  if (c.cgroup) {
    const cgroups::Stats& cgroup = *c.cgroup;
    AddCpu(w, cgroup.cpu);
    AddMemory(w, cgroup.memory);
    w.Add("container_threads", cgroup.pids.current);
    w.Add("container_threads_max", cgroup.pids.limit);
    AddBlockIo(w, cgroup.io);
    AddPressure(w, "cpu", cgroup.cpu_pressure);
    AddPressure(w, "memory", cgroup.memory_pressure);
    AddPressure(w, "io", cgroup.io_pressure);
    // Limits as the cgroup holds them now (an update may have changed the spec's).
    w.Add("container_spec_memory_limit_bytes", cgroup.memory.limit_bytes.value_or(0));
    w.Add("container_spec_memory_swap_limit_bytes", cgroup.memory.swap_limit_bytes.value_or(0));
  }
  w.Add("container_processes", c.pids.size());
  w.Add("container_file_descriptors", c.open_files.descriptors);
  w.Add("container_sockets", c.open_files.sockets);
  if (c.open_files_limit) w.Add("container_ulimits_soft", *c.open_files_limit, {"max_open_files"});
  if (auto fs = FilesystemOf(c.writable_layer_dir)) {
    w.Add("container_fs_usage_bytes", c.writable_layer.bytes, {fs->device});
    w.Add("container_fs_limit_bytes", fs->capacity_bytes, {fs->device});
    w.Add("container_fs_inodes_total", fs->inodes, {fs->device});
    w.Add("container_fs_inodes_free", fs->inodes_free, {fs->device});
  }
  const ResourcesSpec& resources = record.spec.resources;
  // The kernel's defaults where the spec left them unset, as the cgroup then has them.
  w.Add("container_spec_cpu_period", resources.cpu_period > 0 ? resources.cpu_period : 100000);
  if (resources.cpu_quota > 0) w.Add("container_spec_cpu_quota", resources.cpu_quota);
  w.Add("container_spec_cpu_shares", resources.cpu_shares > 0 ? resources.cpu_shares : 1024);
  w.Add("container_spec_memory_reservation_limit_bytes", 0);
  const int64_t started = record.started_at > 0 ? record.started_at : record.created_at;
  w.Add("container_start_time_seconds", static_cast<uint64_t>(started) / kNanosPerSecond);
  w.Add("container_last_seen", static_cast<uint64_t>(now_nanos) / kNanosPerSecond);
}

}  // namespace

const std::vector<MetricDescriptor>& MetricDescriptors() {
  static const auto* descriptors = new std::vector<MetricDescriptor>(MakeDescriptors());
  return *descriptors;
}

PodMetrics BuildPodMetrics(const PodStats& stats, int64_t now_nanos) {
  PodMetrics out;
  out.pod_id = stats.pod.id;
  SampleWriter pod(out.samples, {"", stats.cgroup_path, "", stats.pod.id, stats.pod.spec.namespace_name,
                                 stats.pod.spec.name});
  if (stats.cgroup) {
    AddCpu(pod, stats.cgroup->cpu);
    AddMemory(pod, stats.cgroup->memory);
    pod.Add("container_threads", stats.cgroup->pids.current);
  }
  pod.Add("container_processes", stats.process_count);
  AddNetwork(pod, stats.interfaces);
  pod.Add("container_last_seen", static_cast<uint64_t>(now_nanos) / kNanosPerSecond);
  for (const auto& container : stats.containers) {
    ContainerMetrics metrics{container.container.id, {}};
    AddContainer(stats, container, now_nanos, metrics.samples);
    out.containers.push_back(std::move(metrics));
  }
  return out;
}

}  // namespace berth::pods

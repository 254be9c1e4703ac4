#include "cgroups/stats.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth::cgroups {
namespace {

// v1 writes "no limit" as LLONG_MAX rounded down to a page; anything this large is it.
constexpr uint64_t kUnlimitedV1 = uint64_t{1} << 62;

std::string ReadOrEmpty(const std::string& file) {
  auto data = ReadFile(file);
  return data.ok() ? std::move(*data) : std::string();
}

uint64_t ReadNumber(const std::string& file) {
  uint64_t value = 0;
  (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadOrEmpty(file)), &value);
  return value;
}

std::map<std::string, uint64_t> ReadKeyValues(const std::string& file) { return ParseKeyValues(ReadOrEmpty(file)); }

uint64_t Get(const std::map<std::string, uint64_t>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? 0 : it->second;
}

uint64_t Less(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<Pressure> ReadPressure(const std::string& file) {
  auto data = ReadFile(file);
  if (!data.ok()) return std::nullopt;
  return ParsePressure(*data);
}

Status ReadV2(const std::string& dir, Stats& stats) {
  if (!IsDir(dir)) return absl::NotFoundError(absl::StrCat("cgroup ", dir, " does not exist"));
  auto cpu = ReadKeyValues(dir + "/cpu.stat");
  stats.cpu.usage_nanos = Get(cpu, "usage_usec") * 1000;
  stats.cpu.user_nanos = Get(cpu, "user_usec") * 1000;
  stats.cpu.system_nanos = Get(cpu, "system_usec") * 1000;
  stats.cpu.periods = Get(cpu, "nr_periods");
  stats.cpu.throttled_periods = Get(cpu, "nr_throttled");
  stats.cpu.throttled_nanos = Get(cpu, "throttled_usec") * 1000;

  MemoryStats& memory = stats.memory;
  memory.usage_bytes = ReadNumber(dir + "/memory.current");
  memory.max_usage_bytes = ReadNumber(dir + "/memory.peak");
  auto stat = ReadKeyValues(dir + "/memory.stat");
  memory.working_set_bytes = Less(memory.usage_bytes, Get(stat, "inactive_file"));
  memory.rss_bytes = Get(stat, "anon");
  memory.cache_bytes = Get(stat, "file");
  memory.mapped_file_bytes = Get(stat, "file_mapped");
  // "kernel" arrived in 5.18; before it, its parts.
  memory.kernel_bytes = stat.count("kernel") ? Get(stat, "kernel")
                                             : Get(stat, "kernel_stack") + Get(stat, "pagetables") +
                                                   Get(stat, "percpu") + Get(stat, "sock") + Get(stat, "slab");
  // v2's memory.stat covers the subtree: the group's own and the hierarchy's are one.
  memory.page_faults = memory.hierarchy_page_faults = Get(stat, "pgfault");
  memory.major_page_faults = memory.hierarchy_major_page_faults = Get(stat, "pgmajfault");
  memory.swap_bytes = ReadNumber(dir + "/memory.swap.current");
  memory.oom_kills = Get(ReadKeyValues(dir + "/memory.events"), "oom_kill");
  memory.limit_bytes = ParseLimit(ReadOrEmpty(dir + "/memory.max"));
  memory.swap_limit_bytes = ParseLimit(ReadOrEmpty(dir + "/memory.swap.max"));

  stats.pids.current = ReadNumber(dir + "/pids.current");
  stats.pids.limit = ParseLimit(ReadOrEmpty(dir + "/pids.max")).value_or(0);
  stats.io = ParseIoStat(ReadOrEmpty(dir + "/io.stat"));
  stats.cpu_pressure = ReadPressure(dir + "/cpu.pressure");
  stats.memory_pressure = ReadPressure(dir + "/memory.pressure");
  stats.io_pressure = ReadPressure(dir + "/io.pressure");
  return absl::OkStatus();
}

Status ReadV1(const std::string& root, const std::string& path, Stats& stats) {
  const std::string memory_dir = root + "/memory" + path;
  const std::string cpuacct_dir = root + "/cpuacct" + path;
  if (!IsDir(memory_dir) && !IsDir(cpuacct_dir)) {
    return absl::NotFoundError(absl::StrCat("cgroup ", path, " does not exist"));
  }
  stats.cpu.usage_nanos = ReadNumber(cpuacct_dir + "/cpuacct.usage");
  stats.cpu.user_nanos = ReadNumber(cpuacct_dir + "/cpuacct.usage_user");
  stats.cpu.system_nanos = ReadNumber(cpuacct_dir + "/cpuacct.usage_sys");
  auto cpu = ReadKeyValues(root + "/cpu" + path + "/cpu.stat");
  stats.cpu.periods = Get(cpu, "nr_periods");
  stats.cpu.throttled_periods = Get(cpu, "nr_throttled");
  stats.cpu.throttled_nanos = Get(cpu, "throttled_time");

  MemoryStats& memory = stats.memory;
  memory.usage_bytes = ReadNumber(memory_dir + "/memory.usage_in_bytes");
  memory.max_usage_bytes = ReadNumber(memory_dir + "/memory.max_usage_in_bytes");
  // v1 counts the subtree under "total_" names and the group alone without.
  auto stat = ReadKeyValues(memory_dir + "/memory.stat");
  memory.working_set_bytes = Less(memory.usage_bytes, Get(stat, "total_inactive_file"));
  memory.rss_bytes = Get(stat, "total_rss");
  memory.cache_bytes = Get(stat, "total_cache");
  memory.mapped_file_bytes = Get(stat, "total_mapped_file");
  memory.swap_bytes = Get(stat, "total_swap");
  memory.kernel_bytes = ReadNumber(memory_dir + "/memory.kmem.usage_in_bytes");
  memory.failcnt = ReadNumber(memory_dir + "/memory.failcnt");
  memory.page_faults = Get(stat, "pgfault");
  memory.major_page_faults = Get(stat, "pgmajfault");
  memory.hierarchy_page_faults = Get(stat, "total_pgfault");
  memory.hierarchy_major_page_faults = Get(stat, "total_pgmajfault");
  memory.oom_kills = Get(ReadKeyValues(memory_dir + "/memory.oom_control"), "oom_kill");
  memory.limit_bytes = ParseLimit(ReadOrEmpty(memory_dir + "/memory.limit_in_bytes"));
  // memsw is memory+swap; swap alone is what is left over the memory limit.
  auto memsw_limit = ParseLimit(ReadOrEmpty(memory_dir + "/memory.memsw.limit_in_bytes"));
  if (memsw_limit && memory.limit_bytes) memory.swap_limit_bytes = Less(*memsw_limit, *memory.limit_bytes);

  const std::string pids_dir = root + "/pids" + path;
  stats.pids.current = ReadNumber(pids_dir + "/pids.current");
  stats.pids.limit = ParseLimit(ReadOrEmpty(pids_dir + "/pids.max")).value_or(0);
  const std::string blkio_dir = root + "/blkio" + path;
  stats.io = ParseBlkioV1(ReadOrEmpty(blkio_dir + "/blkio.throttle.io_service_bytes_recursive"),
                          ReadOrEmpty(blkio_dir + "/blkio.throttle.io_serviced_recursive"));
  return absl::OkStatus();
}

DeviceIo& DeviceEntry(std::vector<DeviceIo>& devices, uint32_t major, uint32_t minor) {
  for (auto& device : devices) {
    if (device.major == major && device.minor == minor) return device;
  }
  devices.push_back(DeviceIo{.major = major, .minor = minor});
  return devices.back();
}

bool ParseDevice(absl::string_view text, uint32_t& major, uint32_t& minor) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(':', 1));
  return absl::SimpleAtoi(parts.first, &major) && absl::SimpleAtoi(parts.second, &minor);
}

}  // namespace

std::map<std::string, uint64_t> ParseKeyValues(absl::string_view text) {
  std::map<std::string, uint64_t> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    uint64_t value = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &value)) out[std::string(kv.first)] = value;
  }
  return out;
}

std::optional<Pressure> ParsePressure(absl::string_view text) {
  Pressure pressure;
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty()) continue;
    PressureLine* target = fields[0] == "some" ? &pressure.some : fields[0] == "full" ? &pressure.full : nullptr;
    if (target == nullptr) continue;
    for (size_t i = 1; i < fields.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
      bool parsed = kv.first == "total"    ? absl::SimpleAtoi(kv.second, &target->total_micros)
                    : kv.first == "avg10"  ? absl::SimpleAtod(kv.second, &target->avg10)
                    : kv.first == "avg60"  ? absl::SimpleAtod(kv.second, &target->avg60)
                    : kv.first == "avg300" ? absl::SimpleAtod(kv.second, &target->avg300)
                                           : true;
      if (!parsed) return std::nullopt;
    }
    ++lines;
  }
  if (lines == 0) return std::nullopt;
  return pressure;
}

std::vector<DeviceIo> ParseBlkioV1(absl::string_view service_bytes, absl::string_view serviced) {
  std::vector<DeviceIo> devices;
  auto merge = [&](absl::string_view text, bool bytes) {
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      uint32_t major = 0, minor = 0;
      uint64_t value = 0;
      if (fields.size() != 3 || !ParseDevice(fields[0], major, minor) || !absl::SimpleAtoi(fields[2], &value)) {
        continue;  // "Total N", or a line this parser does not know
      }
      if (fields[1] != "Read" && fields[1] != "Write") continue;
      DeviceIo& device = DeviceEntry(devices, major, minor);
      bool read = fields[1] == "Read";
      (bytes ? (read ? device.read_bytes : device.write_bytes) : (read ? device.reads : device.writes)) = value;
    }
  };
  merge(service_bytes, true);
  merge(serviced, false);
  return devices;
}

std::vector<DeviceIo> ParseIoStat(absl::string_view text) {
  std::vector<DeviceIo> devices;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint32_t major = 0, minor = 0;
    if (fields.empty() || !ParseDevice(fields[0], major, minor)) continue;
    DeviceIo& device = DeviceEntry(devices, major, minor);
    for (size_t i = 1; i < fields.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(fields[i], absl::MaxSplits('=', 1));
      uint64_t value = 0;
      if (!absl::SimpleAtoi(kv.second, &value)) continue;
      if (kv.first == "rbytes") device.read_bytes = value;
      if (kv.first == "wbytes") device.write_bytes = value;
      if (kv.first == "rios") device.reads = value;
      if (kv.first == "wios") device.writes = value;
    }
  }
  return devices;
}

std::optional<uint64_t> ParseLimit(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  uint64_t value = 0;
  if (text == "max" || !absl::SimpleAtoi(text, &value) || value >= kUnlimitedV1) return std::nullopt;
  return value;
}

StatusOr<Stats> ReadStats(const Layout& layout, const std::string& path) {
  Stats stats;
  if (layout.mode == Mode::kUnified) {
    RETURN_IF_ERROR(ReadV2(layout.root + path, stats));
  } else {
    RETURN_IF_ERROR(ReadV1(layout.root, path, stats));
  }
  return stats;
}

StatusOr<uint64_t> ReadCpuUsage(const Layout& layout, const std::string& path) {
  if (layout.mode == Mode::kUnified) {
    auto data = ReadFile(layout.root + path + "/cpu.stat");
    if (!data.ok()) return data.status();
    return Get(ParseKeyValues(*data), "usage_usec") * 1000;
  }
  auto data = ReadFile(layout.root + "/cpuacct" + path + "/cpuacct.usage");
  if (!data.ok()) return data.status();
  uint64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*data), &value)) {
    return absl::DataLossError(absl::StrCat("cpuacct.usage of ", path, " is not a number"));
  }
  return value;
}

std::vector<int> ReadProcs(const Layout& layout, const std::string& path) {
  std::vector<std::string> candidates;
  if (layout.mode == Mode::kUnified) {
    candidates.push_back(layout.root + path + "/cgroup.procs");
  } else {
    candidates.push_back(layout.root + "/pids" + path + "/cgroup.procs");
    candidates.push_back(layout.root + "/memory" + path + "/cgroup.procs");
  }
  std::vector<int> pids;
  for (const auto& file : candidates) {
    auto data = ReadFile(file);
    if (!data.ok()) continue;
    for (absl::string_view line : absl::StrSplit(*data, '\n', absl::SkipWhitespace())) {
      int pid = 0;
      if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
    }
    break;
  }
  return pids;
}

}  // namespace berth::cgroups

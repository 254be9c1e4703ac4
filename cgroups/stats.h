// What a cgroup has used, read from its controller files: the numbers CRI's stats
// and metrics RPCs report, on cgroup v1 and v2 alike.
//
//   ASSIGN_OR_RETURN(cgroups::Stats stats, cgroups::ReadStats(layout, "/kubepods/pod1/ctr"));
//   stats.cpu.usage_nanos, stats.memory.working_set_bytes, stats.pids.current ...
//
// A file a kernel or a hierarchy lacks leaves its fields 0 (or unset, where 0 would
// be a value); only a cgroup that does not exist at all is an error.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "cgroups/cgroups.h"

namespace berth::cgroups {

struct CpuStats {
  uint64_t usage_nanos = 0;  // all cores
  uint64_t user_nanos = 0;
  uint64_t system_nanos = 0;
  uint64_t periods = 0;            // CFS enforcement periods that elapsed
  uint64_t throttled_periods = 0;  // ... of which the group hit its quota
  uint64_t throttled_nanos = 0;
};

struct MemoryStats {
  uint64_t usage_bytes = 0;      // charged memory, page cache included
  uint64_t max_usage_bytes = 0;  // the peak (v2: memory.peak, kernel 5.19 on)
  // usage less inactive page cache, floored at 0: what kubelet evicts on.
  uint64_t working_set_bytes = 0;
  uint64_t rss_bytes = 0;  // anonymous memory
  uint64_t cache_bytes = 0;
  uint64_t mapped_file_bytes = 0;
  uint64_t swap_bytes = 0;  // swap alone (not memory+swap, which v1's memsw counts)
  uint64_t kernel_bytes = 0;
  uint64_t failcnt = 0;  // times the limit was hit (v1 only)
  // Page faults of the group itself and of its whole subtree.
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  uint64_t hierarchy_page_faults = 0;
  uint64_t hierarchy_major_page_faults = 0;
  uint64_t oom_kills = 0;
  // Limits; unset when unlimited.
  std::optional<uint64_t> limit_bytes;
  std::optional<uint64_t> swap_limit_bytes;  // swap alone
};

struct PidsStats {
  uint64_t current = 0;  // tasks (threads), as the pids controller counts them
  uint64_t limit = 0;    // 0 when unlimited
};

// One block device's I/O, as the blkio (v1) or io (v2) controller counts it.
struct DeviceIo {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
};

// Pressure stall information of one resource (v2 only): "some" is time at least one
// task waited, "full" time all did. Totals in microseconds, averages in percent.
struct PressureLine {
  uint64_t total_micros = 0;
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
};
struct Pressure {
  PressureLine some;
  PressureLine full;
};

struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  std::vector<DeviceIo> io;
  std::optional<Pressure> cpu_pressure;
  std::optional<Pressure> memory_pressure;
  std::optional<Pressure> io_pressure;
};

// Reads the cgroup at path (relative to each hierarchy's root).
StatusOr<Stats> ReadStats(const Layout& layout, const std::string& path);

// Only the CPU time used, all cores (the 1 s sampler's one read).
StatusOr<uint64_t> ReadCpuUsage(const Layout& layout, const std::string& path);

// The pids of the processes in the cgroup (cgroup.procs; v1: the pids or memory
// hierarchy's).
std::vector<int> ReadProcs(const Layout& layout, const std::string& path);

// Parsers of the controller files' formats, public for their unit tests.
// "key value" lines (memory.stat, cpu.stat, memory.events).
std::map<std::string, uint64_t> ParseKeyValues(absl::string_view text);
// A *.pressure file; nullopt when it does not parse.
std::optional<Pressure> ParsePressure(absl::string_view text);
// v1 blkio.throttle.io_service_bytes_recursive and io_serviced_recursive, merged
// into devices ("8:0 Read 4096" lines; the "Total" lines are skipped).
std::vector<DeviceIo> ParseBlkioV1(absl::string_view service_bytes, absl::string_view serviced);
// v2 io.stat ("8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0").
std::vector<DeviceIo> ParseIoStat(absl::string_view text);
// A limit file's value: nullopt for "max" and v1's "no limit" (any value at or
// above 2^62, the kernel's page-rounded LLONG_MAX).
std::optional<uint64_t> ParseLimit(absl::string_view text);

}  // namespace berth::cgroups

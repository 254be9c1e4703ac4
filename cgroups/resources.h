// Resource limits for one cgroup, independent of the OCI JSON they usually come from.
//
// Every field is optional: an unset field leaves the kernel's value alone, so an
// update that names only the memory limit changes nothing else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::cgroups {

// One rule of the v1 devices controller ("c 1:3 rwm"); -1 in major/minor means '*'.
struct DeviceRule {
  bool allow = false;
  char type = 'a';  // 'a', 'c' or 'b'
  int64_t major = -1;
  int64_t minor = -1;
  std::string access = "rwm";
};

struct BlockIoWeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
};

struct BlockIoThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct Resources {
  // memory (bytes; -1 is unlimited). swap is memory+swap, as in OCI.
  std::optional<int64_t> memory_limit;
  std::optional<int64_t> memory_reservation;
  std::optional<int64_t> memory_swap;
  // cpu
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;
  std::optional<uint64_t> cpu_period;
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  // pids (<= 0 is unlimited)
  std::optional<int64_t> pids_limit;
  std::vector<HugepageLimit> hugepage_limits;
  // blkio
  std::optional<uint16_t> blkio_weight;
  std::vector<BlockIoWeightDevice> blkio_weight_devices;
  std::vector<BlockIoThrottleDevice> throttle_read_bps;
  std::vector<BlockIoThrottleDevice> throttle_write_bps;
  std::vector<BlockIoThrottleDevice> throttle_read_iops;
  std::vector<BlockIoThrottleDevice> throttle_write_iops;
  // devices, applied in order after a deny-all (v1: devices.allow/deny; v2: an eBPF program)
  std::vector<DeviceRule> devices;
  // Raw v2 files ("memory.high" -> "1G"); refused on v1.
  std::map<std::string, std::string> unified;
};

}  // namespace berth::cgroups

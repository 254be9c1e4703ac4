#include "runtime/scheduling.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::runtime {
namespace {

// The kernel's numbers (uapi linux/ioprio.h, linux/sched.h, linux/mempolicy.h),
// spelled here because Debian 12's headers predate some of them.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassShift = 13;
constexpr std::pair<const char*, int> kIoClasses[] = {
    {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};

constexpr std::pair<const char*, uint32_t> kPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},      {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}};
constexpr std::pair<const char*, uint64_t> kSchedulerFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},     {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};

constexpr std::pair<const char*, int> kMemoryModes[] = {
    {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1},      {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3}, {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5}, {"MPOL_WEIGHTED_INTERLEAVE", 6}};
constexpr std::pair<const char*, int> kMemoryFlags[] = {
    {"MPOL_F_NUMA_BALANCING", 1 << 13}, {"MPOL_F_RELATIVE_NODES", 1 << 14}, {"MPOL_F_STATIC_NODES", 1 << 15}};

// Node ids a memory policy may name: a mask of this many bits is passed.
constexpr unsigned kMaxNodes = 1024;
using NodeMask = std::array<unsigned long, kMaxNodes / (8 * sizeof(unsigned long))>;

template <typename Table>
const auto* Find(const Table& table, absl::string_view name) {
  for (const auto& entry : table) {
    if (name == entry.first) return &entry.second;
  }
  return static_cast<decltype(&table[0].second)>(nullptr);
}

// linux/sched/types.h's struct sched_attr, as of its first size (VER0) plus the
// utilization clamps (VER1).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

// "0-3,7" as a mask; INVALID_ARGUMENT for anything else.
StatusOr<NodeMask> ParseNodes(absl::string_view nodes) {
  NodeMask mask{};
  for (absl::string_view range : absl::StrSplit(nodes, ',')) {
    std::pair<absl::string_view, absl::string_view> ends = absl::StrSplit(range, absl::MaxSplits('-', 1));
    unsigned first, last;
    if (!absl::SimpleAtoi(ends.first, &first)) {
      return absl::InvalidArgumentError(absl::StrCat("memoryPolicy.nodes: \"", range, "\" is not a node or range"));
    }
    last = first;
    if (range.find('-') != absl::string_view::npos && !absl::SimpleAtoi(ends.second, &last)) {
      return absl::InvalidArgumentError(absl::StrCat("memoryPolicy.nodes: \"", range, "\" is not a node or range"));
    }
    if (last < first || last >= kMaxNodes) {
      return absl::InvalidArgumentError(
          absl::StrCat("memoryPolicy.nodes: \"", range, "\" is not a rising range of nodes below ", kMaxNodes));
    }
    for (unsigned node = first; node <= last; ++node) {
      mask[node / (8 * sizeof(unsigned long))] |= 1UL << (node % (8 * sizeof(unsigned long)));
    }
  }
  return mask;
}

bool ModeTakesNoNodes(absl::string_view mode) { return mode == "MPOL_DEFAULT" || mode == "MPOL_LOCAL"; }

}  // namespace

Status ValidateScheduling(const Process& process) {
  if (const auto& io = process.io_priority) {
    if (Find(kIoClasses, io->io_class) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("process.ioPriority.class \"", io->io_class, "\" is unknown"));
    }
    if (io->priority < 0 || io->priority > 7) {
      return absl::InvalidArgumentError(
          absl::StrCat("process.ioPriority.priority ", io->priority, " is outside 0 to 7"));
    }
  }
  if (const auto& sched = process.scheduler) {
    if (Find(kPolicies, sched->policy) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("process.scheduler.policy \"", sched->policy, "\" is unknown"));
    }
    for (const auto& flag : sched->flags) {
      if (Find(kSchedulerFlags, flag) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("process.scheduler.flags: \"", flag, "\" is unknown"));
      }
    }
    if (sched->nice < -20 || sched->nice > 19) {
      return absl::InvalidArgumentError(absl::StrCat("process.scheduler.nice ", sched->nice, " is outside -20 to 19"));
    }
    bool realtime = sched->policy == "SCHED_FIFO" || sched->policy == "SCHED_RR";
    if (realtime && (sched->priority < 1 || sched->priority > 99)) {
      return absl::InvalidArgumentError(
          absl::StrCat("process.scheduler.priority ", sched->priority, " is outside 1 to 99 for ", sched->policy));
    }
    if (!realtime && sched->priority != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("process.scheduler.priority must be 0 for ", sched->policy, ", not ", sched->priority));
    }
  }
  return absl::OkStatus();
}

Status ValidateMemoryPolicy(const MemoryPolicy& policy) {
  if (Find(kMemoryModes, policy.mode) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("linux.memoryPolicy.mode \"", policy.mode, "\" is unknown"));
  }
  for (const auto& flag : policy.flags) {
    if (Find(kMemoryFlags, flag) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("linux.memoryPolicy.flags: \"", flag, "\" is unknown"));
    }
  }
  if (ModeTakesNoNodes(policy.mode)) {
    if (!policy.nodes.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("linux.memoryPolicy: ", policy.mode, " takes no nodes"));
    }
    return absl::OkStatus();
  }
  if (policy.nodes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("linux.memoryPolicy: ", policy.mode, " needs nodes"));
  }
  return ParseNodes(policy.nodes).status();
}

Status ApplyIoPriority(const IoPriority& priority) {
  const int* io_class = Find(kIoClasses, priority.io_class);
  if (io_class == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown I/O class ", priority.io_class));
  int value = (*io_class << kIoprioClassShift) | priority.priority;
  if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, value) != 0) {
    return ErrnoError(absl::StrCat("set the I/O priority ", priority.io_class, "/", priority.priority));
  }
  return absl::OkStatus();
}

Status ApplyScheduler(const Scheduler& scheduler) {
  const uint32_t* policy = Find(kPolicies, scheduler.policy);
  if (policy == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown policy ", scheduler.policy));
  SchedAttr attr = {};
  attr.size = sizeof attr;
  attr.sched_policy = *policy;
  for (const auto& name : scheduler.flags) {
    if (const uint64_t* flag = Find(kSchedulerFlags, name)) attr.sched_flags |= *flag;
  }
  attr.sched_nice = scheduler.nice;
  attr.sched_priority = static_cast<uint32_t>(scheduler.priority);
  attr.sched_runtime = scheduler.runtime;
  attr.sched_deadline = scheduler.deadline;
  attr.sched_period = scheduler.period;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    return ErrnoError(absl::StrCat("set the scheduler to ", scheduler.policy));
  }
  return absl::OkStatus();
}

Status ApplyMemoryPolicy(const MemoryPolicy& policy) {
  RETURN_IF_ERROR(ValidateMemoryPolicy(policy));
  int mode = *Find(kMemoryModes, policy.mode);
  for (const auto& flag : policy.flags) mode |= *Find(kMemoryFlags, flag);
  NodeMask mask{};
  if (!ModeTakesNoNodes(policy.mode)) {
    ASSIGN_OR_RETURN(mask, ParseNodes(policy.nodes));
  }
  // The kernel reads max_node - 1 bits.
  unsigned long max_node = ModeTakesNoNodes(policy.mode) ? 0 : kMaxNodes + 1;
  if (::syscall(SYS_set_mempolicy, mode, ModeTakesNoNodes(policy.mode) ? nullptr : mask.data(), max_node) != 0) {
    return ErrnoError(absl::StrCat("set the memory policy ", policy.mode, " ", policy.nodes));
  }
  return absl::OkStatus();
}

Status ApplyScheduling(const Process& process) {
  if (process.io_priority) RETURN_IF_ERROR(ApplyIoPriority(*process.io_priority));
  if (process.scheduler) RETURN_IF_ERROR(ApplyScheduler(*process.scheduler));
  return absl::OkStatus();
}

std::vector<std::string> MemoryPolicyModes() {
  std::vector<std::string> modes;
  for (const auto& [name, value] : kMemoryModes) modes.push_back(name);
  return modes;
}

std::vector<std::string> MemoryPolicyFlags() {
  std::vector<std::string> flags;
  for (const auto& [name, value] : kMemoryFlags) flags.push_back(name);
  return flags;
}

}  // namespace berth::runtime

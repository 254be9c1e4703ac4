// How the kernel schedules a container's processes: the I/O priority
// (process.ioPriority), the CPU policy (process.scheduler) and the NUMA memory
// policy (linux.memoryPolicy). Each is set on the init (and on exec'd processes)
// before it drops its capabilities, and passes across exec to the container's program.
#pragma once

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Names, ranges and combinations the kernel would refuse, refused at create with a
// message that says which field.
Status ValidateScheduling(const Process& process);
Status ValidateMemoryPolicy(const MemoryPolicy& policy);

// On the calling process: ioprio_set, sched_setattr, set_mempolicy.
Status ApplyIoPriority(const IoPriority& priority);
Status ApplyScheduler(const Scheduler& scheduler);
Status ApplyMemoryPolicy(const MemoryPolicy& policy);
// The process's ioPriority and scheduler, when it has them.
Status ApplyScheduling(const Process& process);

// What `berth-runtime features` lists under linux.memoryPolicy.
std::vector<std::string> MemoryPolicyModes();
std::vector<std::string> MemoryPolicyFlags();

}  // namespace berth::runtime

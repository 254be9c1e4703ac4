// Device rules on cgroup v2. v2 has no devices.allow file: the kernel asks an eBPF
// program attached to the cgroup (BPF_PROG_TYPE_CGROUP_DEVICE) about every open and
// mknod of a device node, and refuses the access unless every program up the tree
// allows it. Without one, a container holding CAP_MKNOD (a default capability)
// could make and open a node for the host's disk.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "cgroups/resources.h"

namespace berth::cgroups {

// The program for rules read as the v1 controller reads them: the last rule that
// matches an access decides, and an access no rule matches is refused.
std::vector<bpf_insn> CompileDeviceFilter(const std::vector<DeviceRule>& rules);

// Loads the program for rules and attaches it to the v2 cgroup directory dir. It
// stays attached, and in force, until the cgroup is removed.
Status AttachDeviceFilter(const std::string& dir, const std::vector<DeviceRule>& rules);

}  // namespace berth::cgroups

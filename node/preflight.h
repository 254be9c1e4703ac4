// What a node container must be given by its outer runtime before berthd and kubelet
// can run in it, checked as berth-node starts, each failure named with what to change:
//
// - privileged: CAP_SYS_ADMIN and CAP_NET_ADMIN, /sys and /proc/sys writable;
// - cgroups writable: v1 with the cpu, cpuacct, cpuset, memory, pids and devices
//   hierarchies mounted, or v2 with cpu, memory and pids in cgroup.controllers;
// - a network namespace of its own with a link besides lo (kubelet's node address);
// - each state directory on a volume, not on the container's overlayfs rootfs
//   (berth's image layers are overlay mounts, and overlayfs cannot be an upper
//   layer of another);
// - /dev/kmsg (kubelet's OOM watcher reads it); when it is missing it is made a
//   link to /dev/console, as kind does, and that is reported as a warning;
// - every forward's network namespace file opens and names another namespace.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "node/config.h"

namespace berth::node {

struct Finding {
  bool fatal = true;
  std::string message;
};

// Every problem found, not only the first (empty: all is well).
std::vector<Finding> CheckNode(const NodeConfig& config);

// What berth-node sets up before starting anything, once the checks passed:
// - a cgroup namespace of its own, whose root is the node container's cgroup (berthd
//   and kubelet then see their cgroups as the node's, and nest theirs below it);
//   on v2 berth-node then moves itself to a leaf, init, so the root can delegate
//   controllers to the cgroups berthd makes;
// - / made recursively shared (kubelet's mount propagation: Bidirectional volumes);
// - IPv4 and IPv6 forwarding in the node's network namespace (routed pod traffic);
// - the host-wide kernel knobs kubelet would set (vm.overcommit_memory,
//   kernel.panic...) covered in the node's /proc/sys by read-only files holding
//   kubelet's values, so that kubelet changes nothing on the host.
Status PrepareNode();

}  // namespace berth::node

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

#include "node/config.h"

namespace berth::node {

struct Finding {
  bool fatal = true;
  std::string message;
};

// Every problem found, not only the first (empty: all is well). With repair (a real
// start, not --check) what berth-node can mend is mended: state directories made,
// /dev/kmsg linked.
std::vector<Finding> CheckNode(const NodeConfig& config, bool repair);

}  // namespace berth::node

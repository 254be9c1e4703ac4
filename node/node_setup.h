// What berth-node changes in the node container before it starts anything, once
// the checks (preflight.h) passed.
#pragma once

#include "base/status.h"

namespace berth::node {

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

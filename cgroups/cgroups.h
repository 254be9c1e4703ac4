// The host's cgroup layout, as berth sees it at start.
//
// Hosts come in three layouts: legacy (v1 hierarchies only), hybrid (v1 hierarchies
// plus an empty v2 at /sys/fs/cgroup/unified) and unified (v2 only). berth places
// containers with v1 controllers on the first two and with v2 on the last.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "base/status.h"

namespace berth::cgroups {

enum class Mode { kLegacy, kHybrid, kUnified };

absl::string_view ModeName(Mode mode);

struct Layout {
  Mode mode = Mode::kLegacy;
  std::string root = "/sys/fs/cgroup";
  // Controllers that can take limits: v1 hierarchies mounted, or v2 controllers
  // enabled in the root's cgroup.controllers. A limit for a controller not here (say
  // hugetlb) is skipped, as containerd does.
  std::set<std::string> controllers;
};

// Removes the cgroup at path (relative to each hierarchy's root) wherever it exists
// and is empty; a cgroup still in use, or absent, is left alone.
void RemoveIfEmpty(const Layout& layout, const std::string& path);

// Sends SIGKILL to every process in the cgroup at path (relative to each
// hierarchy's root), again until none is left or a few rounds have passed (a process
// may fork while the first are killed). For what outlives a container's init where
// the kernel does not end it: processes exec'd into a container of a pod that shares
// one PID namespace. Returns how many it signalled.
int KillAll(const Layout& layout, const std::string& path);

// Moving a process into a cgroup first waits for an RCU grace period (the kernel
// guards migrations with a per-CPU rwsem whose writers must wait one out), 6-14 ms
// on this VM, unless another move happened within about a grace period before.
// PrimeMigration() starts that wait now, from a background thread that "moves"
// berthd into the cgroup it is already in; a container's init moved a few ms later
// then waits only for what is left of it. Called as a create starts.
void PrimeMigration(const Layout& layout);

// Reads the layout from the mounts under root.
StatusOr<Layout> DetectLayout(const std::string& root = "/sys/fs/cgroup");

}  // namespace berth::cgroups

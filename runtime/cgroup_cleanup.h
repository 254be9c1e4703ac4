// Ending a container's cgroup: what delete does, and what a failed create or restore
// undoes.
#pragma once

#include "base/status.h"
#include "cgroups/manager.h"

namespace berth::runtime {

// Kills everything in the cgroup and waits until it is empty (processes outside the
// container's pid namespace, or a shared one, are not killed with the init).
Status EmptyCgroup(const cgroups::Manager& cg);
// Removes the cgroup's leaves, retrying while the kernel still counts the last exits.
Status RemoveCgroup(const cgroups::Manager& cg);

}  // namespace berth::runtime

// A container's CRI resources as the cgroup limits a runtime applies, at create
// and at UpdateContainerResources alike.
#pragma once

#include <set>
#include <string>

#include "cgroups/resources.h"
#include "pods/types.h"

namespace berth::pods {

// Limits of controllers the host lacks (controllers: what it has) are left out,
// as are the v2-only unified files on v1: asking for them would fail the runtime.
cgroups::Resources ContainerResources(const ResourcesSpec& resources, const std::set<std::string>& controllers,
                                      bool cgroup_v2);

}  // namespace berth::pods

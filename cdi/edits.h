// One device's (or spec's) CDI edits made to a container's OCI spec.
#pragma once

#include "base/status.h"
#include "cdi/spec.h"
#include "runtime/spec.h"

namespace berth::cdi {

// Environment entries replace the container's of the same name; device nodes take
// what the spec leaves out (type, numbers, mode) from the host's node and come with
// a cgroup rule; mounts replace the container's at the same path; hooks are appended
// to their kind; group ids are added. INTEL RDT and network devices are refused
// (FAILED_PRECONDITION): berth makes neither.
Status ApplyEdits(const ContainerEdits& edits, runtime::Spec* spec);

}  // namespace berth::cdi

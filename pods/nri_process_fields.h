// NRI's hooks, I/O priority, scheduler and memory policy as OCI spec fields. NRI's
// enum names are OCI's with an "NRI_" prefix (nri.proto), so a value converts by
// name; a number no name has (a plugin is free to send one) is INVALID_ARGUMENT.
#pragma once

#include <optional>

#include "base/status.h"
#include "nri/api.h"
#include "runtime/spec.h"

namespace berth::pods {

// Appends a plugin's hooks to the container's, kind by kind.
void AppendNriHooks(const nri::api::Hooks& from, runtime::Hooks* to);
// The container's hooks as plugins see them.
void CopyOciHooks(const runtime::Hooks& from, nri::api::Hooks* to);

// nullopt where NRI says "none" (the class or policy NONE): the field is cleared.
StatusOr<std::optional<runtime::IoPriority>> OciIoPriority(const nri::api::LinuxIOPriority& priority);
StatusOr<std::optional<runtime::Scheduler>> OciScheduler(const nri::api::LinuxScheduler& scheduler);
StatusOr<runtime::MemoryPolicy> OciMemoryPolicy(const nri::api::LinuxMemoryPolicy& policy);

}  // namespace berth::pods

// AppArmor on this host, for containers' security contexts: whether it is on, which
// profiles are loaded, and berth's own profile for RuntimeDefault.
#pragma once

#include <string>

#include "base/status.h"
#include "pods/types.h"

namespace berth::pods {

// What RuntimeDefault (or no profile at all) means on a host with AppArmor.
inline constexpr char kDefaultAppArmorProfile[] = "berth-default";

// The profile a container's process runs under, "" for none. RuntimeDefault (and no
// choice) gives berth-default, loaded on first use, where AppArmor is on, and
// nothing where it is not, or for privileged containers; Localhost names a profile
// the host must have loaded, and fails where AppArmor is off, as containerd does.
StatusOr<std::string> AppArmorProfileFor(const SecuritySpec& security);

// berth-default's source, as apparmor_parser reads it.
absl::string_view DefaultAppArmorProfileSource();

}  // namespace berth::pods

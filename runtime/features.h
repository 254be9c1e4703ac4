// berth-runtime's OCI features document (`berth-runtime features`), built from the
// same tables the runtime works from: the namespaces it can make, the mount options
// it parses, the seccomp actions, operators and flags it compiles, the capabilities
// libcap knows. berthd reads it for every runtime handler alike (runc and crun
// print the same document).
#pragma once

#include <string>

namespace berth::runtime {

std::string FeaturesJson();

}  // namespace berth::runtime

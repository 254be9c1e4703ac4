// Volumes idmapped for a pod with a user namespace of its own. runc 1.1 cannot
// make an idmapped mount, so berth attaches each idmapped copy on the host, under
// the container's directory, and hands the runtime that path to bind-mount (a bind
// keeps the idmapping); berth-runtime gets the same. The copies go with the
// container's files (DetachMountsUnder before its directory is removed).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pods/types.h"

namespace berth::pods {

// The container's mounts as the runtime should see them: each mount that carries
// id mappings has its host_path replaced by an idmapped copy of it attached under
// staging_dir (made here), seen through the user namespace at userns_path.
StatusOr<std::vector<MountSpec>> AttachIdmappedVolumes(const std::vector<MountSpec>& mounts,
                                                       const std::string& staging_dir,
                                                       const std::string& userns_path);

}  // namespace berth::pods

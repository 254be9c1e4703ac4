// Image volumes (KEP-4639): an image's files mounted read-only into a container.
// Each image a pod's containers mount is mounted once for the pod, an overlay of
// its layers with no upper layer (nothing can write to it, nothing is copied), at
// <pod dir>/image-volumes/<image id>; containers get read-only binds of it, or of
// the mount's image_sub_path resolved inside it without leaving it. The pod's
// removal unmounts them and lets go of the images' layers.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pods/container_rootfs.h"
#include "pods/records.h"

namespace berth::pods {

// The container's mounts as the runtime should see them: each image mount (image
// set) is checked (read-only, no host path), its image found (image_ref filled in
// `mounts`, which the record keeps), the pod's copy mounted if it is not yet, and the
// mount rewritten as a read-only bind of it. INVALID_ARGUMENT for a bad mount,
// NOT_FOUND for an image the node lacks or a sub path the image lacks.
StatusOr<std::vector<MountSpec>> PrepareImageVolumes(ContainerRootfs& rootfs, const SandboxRecord& pod,
                                                     std::vector<MountSpec>& mounts);

// Unmounts the pod's image volumes and releases their layers; none is fine.
Status RemoveImageVolumes(ContainerRootfs& rootfs, const SandboxRecord& pod);

}  // namespace berth::pods

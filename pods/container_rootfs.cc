#include "pods/container_rootfs.h"

#include <sys/mount.h>

#include "base/file_util.h"

namespace berth::pods {

StatusOr<image::ImageRecord> OverlayRootfs::FindImage(absl::string_view ref_or_id) {
  return images_->Find(ref_or_id);
}

// The container's writable layer lives exactly as long as the container, and is
// never mounted again after a reboot (kubelet makes new containers), so it is
// mounted "volatile": overlayfs then skips the sync of the whole upper filesystem
// that every unmount would otherwise do (~5 ms per RemoveContainer here, and a
// stall for everything else writing to that disk). Kernels before 5.10 lack the
// option and get the plain mount.
Status OverlayRootfs::Mount(const std::string& container_id, const image::ImageRecord& image,
                            const std::string& target) {
  ASSIGN_OR_RETURN(image::RootfsLayers layers, images_->snapshots().PrepareRootfs(container_id, image.chain_ids));
  const std::string data = layers.MountData();
  if (::mount("overlay", target.c_str(), "overlay", 0, (data + ",volatile").c_str()) == 0) return absl::OkStatus();
  if (errno == EINVAL && ::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) == 0) return absl::OkStatus();
  Status failed = ErrnoError(absl::StrCat("mount the rootfs at ", target));
  (void)images_->snapshots().RemoveRootfs(container_id);
  return failed;
}

Status OverlayRootfs::Remove(const std::string& container_id, const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount the rootfs of container ", container_id));
  }
  return images_->snapshots().RemoveRootfs(container_id);
}

}  // namespace berth::pods

#include "pods/container_rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <filesystem>

#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "runtime/idmap.h"

namespace berth::pods {
namespace {

Status MountOverlay(const image::RootfsLayers& layers, const std::string& target) {
  const std::string data = layers.MountData();
  if (::mount("overlay", target.c_str(), "overlay", 0, (data + ",volatile").c_str()) == 0) return absl::OkStatus();
  if (errno == EINVAL && ::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) == 0) return absl::OkStatus();
  return ErrnoError(absl::StrCat("mount the rootfs at ", target));
}

// For a pod with its own user namespace, the image's layers are seen through its
// mappings: their files (the host's root's on disk) are the pod's root's, and none
// is chowned. The writable layer is the host uid's the pod's root maps to.
Status MountIdmapped(const image::RootfsLayers& layers, const UserNamespaceSpec& userns_spec,
                     const std::string& userns_path, const std::string& target) {
  UniqueFd userns(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns) return ErrnoError(absl::StrCat("open the pod's user namespace ", userns_path));
  std::optional<uint32_t> root_uid = runtime::HostId(userns_spec.uids, 0);
  std::optional<uint32_t> root_gid = runtime::HostId(userns_spec.gids, 0);
  if (!root_uid || !root_gid) return absl::InvalidArgumentError("the pod's user namespace does not map its root");
  runtime::IdmappedOverlay overlay;
  overlay.upper_owner = *root_uid;
  overlay.upper_group = *root_gid;
  overlay.lower_dirs = layers.lower_dirs;
  overlay.upper_dir = layers.upper_dir;
  overlay.work_dir = layers.work_dir;
  overlay.options = "volatile";
  const std::string staging = std::filesystem::path(layers.upper_dir).parent_path().string() + "/idmapped-layers";
  return runtime::MountIdmappedOverlay(overlay, userns.get(), staging, target);
}

}  // namespace

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
                            const std::string& target, const UserNamespaceSpec& userns,
                            const std::string& userns_path) {
  ASSIGN_OR_RETURN(image::RootfsLayers layers, images_->snapshots().PrepareRootfs(container_id, image.chain_ids));
  Status mounted = userns.mode != NamespaceMode::kPod ? MountOverlay(layers, target)
                                                     : MountIdmapped(layers, userns, userns_path, target);
  if (!mounted.ok()) (void)images_->snapshots().RemoveRootfs(container_id);
  return mounted;
}

// An overlay without an upper layer is read-only by construction; it needs two
// lower layers, so a one-layer image gets an empty one beneath.
Status OverlayRootfs::MountImage(const image::ImageRecord& image, const std::string& holder,
                                 const std::string& target) {
  ASSIGN_OR_RETURN(std::vector<std::string> lowers, images_->snapshots().HoldLayers(holder, image.chain_ids));
  std::string empty = images_->containers_dir() + "/.empty-layer";
  Status mounted = MakeDirs(empty, 0755);
  if (mounted.ok()) {
    lowers.push_back(empty);
    std::string data = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"));
    if (::mount("overlay", target.c_str(), "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
      mounted = ErrnoError(absl::StrCat("mount image ", image.id, " at ", target));
    }
  }
  if (!mounted.ok()) (void)images_->snapshots().ReleaseLayers(holder);
  return mounted;
}

Status OverlayRootfs::ReleaseImage(const std::string& holder) { return images_->snapshots().ReleaseLayers(holder); }

bool OverlayRootfs::SupportsIdmappedMounts() {
  std::call_once(idmap_probe_once_,
                 [this] { idmapped_mounts_ = runtime::SupportsIdmappedMounts(images_->containers_dir()); });
  return idmapped_mounts_;
}

Status OverlayRootfs::Remove(const std::string& container_id, const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount the rootfs of container ", container_id));
  }
  return images_->snapshots().RemoveRootfs(container_id);
}

}  // namespace berth::pods

#include "pods/image_volumes.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/file_util.h"
#include "base/mount_points.h"
#include "base/unique_fd.h"

namespace berth::pods {
namespace {

std::string VolumesDir(const SandboxRecord& pod) { return pod.dir + "/image-volumes"; }
std::string Holder(const SandboxRecord& pod) { return "image-volumes:" + pod.id; }

Status CheckImageMount(const MountSpec& m) {
  if (!m.host_path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mount on ", m.container_path, " names both an image and a host path; give one"));
  }
  if (!m.readonly) {
    return absl::InvalidArgumentError(
        absl::StrCat("image volume on ", m.container_path, " must be read-only (readonly: true)"));
  }
  if (m.container_path.empty() || m.container_path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("mount destination \"", m.container_path, "\" must be absolute"));
  }
  return absl::OkStatus();
}

// The pod's copy of the image, mounted now unless it is already.
StatusOr<std::string> PodCopy(ContainerRootfs& rootfs, const SandboxRecord& pod, const image::ImageRecord& image) {
  std::string hex = image.id.substr(image.id.find(':') + 1);
  std::string tree = VolumesDir(pod) + "/" + hex;
  ASSIGN_OR_RETURN(std::vector<std::string> mounted, MountPointsUnder(VolumesDir(pod)));
  if (std::find(mounted.begin(), mounted.end(), tree) != mounted.end()) return tree;
  RETURN_IF_ERROR(MakeDirs(tree, 0755));
  RETURN_IF_ERROR(rootfs.MountImage(image, Holder(pod), tree));
  return tree;
}

// sub_path inside tree, every link resolved as if tree were "/" and nothing
// followed off its mount: an image cannot point a volume at the host.
StatusOr<std::string> ResolveInside(const std::string& tree, const std::string& sub_path, const MountSpec& m) {
  UniqueFd root(::open(tree.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return ErrnoError(absl::StrCat("open image volume ", tree));
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  UniqueFd target(static_cast<int>(::syscall(SYS_openat2, root.get(), sub_path.c_str(), &how, sizeof how)));
  if (!target) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("image volume on ", m.container_path, ": sub path \"", sub_path,
                                              "\" does not exist in image ", m.image));
    }
    return ErrnoError(absl::StrCat("image volume on ", m.container_path, ": resolve sub path \"", sub_path, "\""));
  }
  // The image is read-only, so the path found stays what it is.
  char path[4096];
  ssize_t n = ::readlink(absl::StrCat("/proc/self/fd/", target.get()).c_str(), path, sizeof path - 1);
  if (n <= 0) return ErrnoError("read the resolved sub path");
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace

StatusOr<std::vector<MountSpec>> PrepareImageVolumes(ContainerRootfs& rootfs, const SandboxRecord& pod,
                                                     std::vector<MountSpec>& mounts) {
  std::vector<MountSpec> out = mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    MountSpec& m = mounts[i];
    if (m.image.empty()) continue;
    RETURN_IF_ERROR(CheckImageMount(m));
    auto image = rootfs.FindImage(m.image);
    if (!image.ok()) {
      if (image.status().code() != StatusCode::kNotFound) return image.status();
      return absl::NotFoundError(absl::StrCat("image volume on ", m.container_path, ": image \"", m.image,
                                              "\" is not present on this node (pull it first)"));
    }
    m.image_ref = image->id;
    ASSIGN_OR_RETURN(std::string tree, PodCopy(rootfs, pod, *image));
    std::string source = tree;
    if (!m.image_sub_path.empty()) {
      ASSIGN_OR_RETURN(source, ResolveInside(tree, m.image_sub_path, m));
    }
    MountSpec bind = MountSpec::Bind(m.container_path, source, /*readonly=*/true);
    // Its files are the image's, readable to all; an overlay cannot be idmapped.
    out[i] = bind;
  }
  return out;
}

Status RemoveImageVolumes(ContainerRootfs& rootfs, const SandboxRecord& pod) {
  RETURN_IF_ERROR(DetachMountsUnder(VolumesDir(pod)));
  return rootfs.ReleaseImage(Holder(pod));
}

}  // namespace berth::pods

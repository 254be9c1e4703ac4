// A container's root filesystem: its image found, a writable layer made over the
// image's layers and mounted, and all of it removed with the container. An
// interface, so that the lifecycle's rollback can be tested without root (a fake
// fails any step); OverlayRootfs is the real one, over the image store.
#pragma once

#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "image/image_store.h"
#include "pods/types.h"

namespace berth::pods {

class ContainerRootfs {
 public:
  virtual ~ContainerRootfs() = default;
  // The image a container names (reference or id); NOT_FOUND when the node has none.
  virtual StatusOr<image::ImageRecord> FindImage(absl::string_view ref_or_id) = 0;
  // The container's layers at target (a directory that exists); for a pod with a
  // user namespace of its own (userns, pinned at userns_path), idmapped through it.
  virtual Status Mount(const std::string& container_id, const image::ImageRecord& image, const std::string& target,
                       const UserNamespaceSpec& userns, const std::string& userns_path) = 0;
  // Whether a rootfs (and the filesystem under it) can be idmapped on this host.
  virtual bool SupportsIdmappedMounts() = 0;
  // The image's files, read-only, at target (an image volume); its layers are held
  // for holder until ReleaseImage(holder), after target is unmounted.
  virtual Status MountImage(const image::ImageRecord& image, const std::string& holder, const std::string& target) = 0;
  virtual Status ReleaseImage(const std::string& holder) = 0;
  // Unmounts target and removes the writable layer; what is already gone is fine.
  virtual Status Remove(const std::string& container_id, const std::string& target) = 0;
};

class OverlayRootfs : public ContainerRootfs {
 public:
  explicit OverlayRootfs(image::ImageStore* images) : images_(images) {}

  StatusOr<image::ImageRecord> FindImage(absl::string_view ref_or_id) override;
  Status Mount(const std::string& container_id, const image::ImageRecord& image, const std::string& target,
               const UserNamespaceSpec& userns, const std::string& userns_path) override;
  // Probed once, on the image store's filesystem.
  bool SupportsIdmappedMounts() override;
  Status MountImage(const image::ImageRecord& image, const std::string& holder, const std::string& target) override;
  Status ReleaseImage(const std::string& holder) override;
  Status Remove(const std::string& container_id, const std::string& target) override;

 private:
  image::ImageStore* images_;
  std::once_flag idmap_probe_once_;
  bool idmapped_mounts_ = false;
};

}  // namespace berth::pods

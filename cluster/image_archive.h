// Images saved to a tar archive, as `berthctl cluster load` takes them into a
// cluster: an OCI image layout (`podman save --format oci-archive`, `skopeo copy
// ... oci-archive:`, `docker save` since Docker 25) or a Docker archive (`docker
// save`, `podman save`), plain or compressed.
//
// The archive is untrusted. Only its regular files are read, each into a file of
// its own under a work directory, never at a path the archive names; its links are
// followed by name inside the archive only; every blob is checked against its
// digest, and a Docker archive's layers against the diff IDs its config lists.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/image_builder.h"
#include "image/reference.h"

namespace berth::cluster {

struct ArchiveImage {
  image::Reference name;  // with a tag: docker.io/library/app:dev
  Blob config;
  std::vector<Blob> layers;
  Blob manifest;  // an image manifest for this machine's platform, as pushed
};

// Every named image of the archive at path, its blobs kept in files under work_dir
// (which the caller made and removes). INVALID_ARGUMENT says what is wrong with
// the archive: not one of the two layouts, a blob missing or not matching its
// digest, an image without a name, a platform this machine cannot run.
StatusOr<std::vector<ArchiveImage>> ReadImageArchive(const std::string& path, const std::string& work_dir);

}  // namespace berth::cluster

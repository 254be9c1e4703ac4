// Images saved to a tar archive, as `berthctl cluster load` takes them into a
// cluster: an OCI image layout (`podman save --format oci-archive`, `skopeo copy
// ... oci-archive:`, `docker save` since Docker 25) or a Docker archive (`docker
// save`, `podman save`), plain or compressed.
//
// The archive is untrusted. Only its regular files are read, each into a file of
// its own under a work directory, never at a path the archive names, and no more of
// them than the work directory's filesystem has room for (sparse files refused);
// its links are followed by name inside the archive only; only gzip, bzip2, xz and
// zstd are undone, by libraries, never by a program; every blob is checked against
// its size and digest, a Docker archive's layers against the diff IDs its config
// lists; images, layers, names and documents are bounded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/image_builder.h"
#include "image/reference.h"

namespace berth::cluster {

// What one image is made of. Names that share it (a Docker archive's RepoTags, OCI
// index entries of one manifest) share one.
struct ImageBlobs {
  Blob config;
  std::vector<Blob> layers;
  Blob manifest;  // an image manifest for this machine's platform, as pushed
};

struct ArchiveImage {
  image::Reference name;  // with a tag: docker.io/library/app:dev
  std::shared_ptr<const ImageBlobs> blobs;
};

// Every named image of the archive at path, its blobs kept in files under work_dir
// (which the caller made and removes). INVALID_ARGUMENT says what is wrong with
// the archive: not one of the two layouts, a blob missing or not matching its
// digest, an image without a name, a platform this machine cannot run.
StatusOr<std::vector<ArchiveImage>> ReadImageArchive(const std::string& path, const std::string& work_dir);

}  // namespace berth::cluster

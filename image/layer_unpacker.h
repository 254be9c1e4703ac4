// Unpacks one image layer (a tar stream, gzip/zstd/uncompressed) into an empty
// directory of its own, turning OCI whiteouts into overlayfs whiteouts.
//
// Layers come from registries and may be hostile. Nothing is ever written outside
// the target directory: every path is resolved under it with openat2(RESOLVE_BENEATH),
// which refuses to leave it through "..", absolute symlinks or magic links. An entry
// that tries (an absolute or ".." path, a path through a symlink that leaves the
// layer, a hard link to outside, a device node, an overlay xattr) fails the whole
// layer with INVALID_ARGUMENT naming the entry; the caller removes the directory.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace berth::image {

struct UnpackedLayer {
  std::string diff_id;      // sha256 of the uncompressed tar stream
  uint64_t file_bytes = 0;  // sum of regular file sizes
};

// max_bytes caps the uncompressed tar stream (0: no cap): a layer that expands past it
// (a decompression bomb) fails with RESOURCE_EXHAUSTED as soon as it does.
StatusOr<UnpackedLayer> UnpackLayer(const std::string& blob_path, const std::string& target_dir,
                                    uint64_t max_bytes = 0);

}  // namespace berth::image

// Image references, normalised the way kubelet and containerd read them:
//   busybox                      -> docker.io/library/busybox:latest
//   quay.io/x/y:1.0              -> quay.io/x/y:1.0
//   name@sha256:...              -> pinned by digest, no tag
//   name:tag@sha256:...          -> the digest decides what is pulled; the tag is kept
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::image {

struct Reference {
  std::string domain;  // registry host[:port], "docker.io" for Docker Hub
  std::string path;    // repository path, "library/busybox"
  std::string tag;     // empty when only a digest was given
  std::string digest;  // "sha256:..." or empty

  std::string Repository() const { return domain + "/" + path; }
  // repo:tag, or empty without a tag.
  std::string TagRef() const;
  // repo@digest for the given digest.
  std::string DigestRef(absl::string_view manifest_digest) const;
  // The full normalised form: repo[:tag][@digest].
  std::string String() const;
};

// Parses and normalises a reference; INVALID_ARGUMENT says what is wrong with it.
StatusOr<Reference> ParseReference(absl::string_view text);

// True for what names an image by its ID rather than by reference:
// "sha256:<64 hex>" or the bare 64 hex digits.
bool LooksLikeImageId(absl::string_view text);

}  // namespace berth::image

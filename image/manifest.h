// OCI and Docker image manifests, indexes and configs: parsing, and choosing the
// manifest for this node's platform from an index or manifest list.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::image {

namespace media_type {
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerSchema1[] = "application/vnd.docker.distribution.manifest.v1+prettyjws";
// What berth asks registries for, best first.
inline constexpr char kAcceptManifests[] =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media_type

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH names: amd64, arm64, arm, ...
  std::string variant;       // v7, v8, ...; empty when the architecture has none
  std::string String() const;
};

// This machine's platform (linux and the GOARCH name of the kernel's machine).
Platform HostPlatform();

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::optional<Platform> platform;
};

enum class ManifestKind { kIndex, kManifest };

// Tells an index from a manifest by media type (the body's mediaType, else the HTTP
// Content-Type), or by shape when neither says.
StatusOr<ManifestKind> ClassifyManifest(absl::string_view body, absl::string_view content_type);

// The entries of an OCI index or a Docker manifest list.
StatusOr<std::vector<Descriptor>> ParseIndex(absl::string_view body);

// The entry that runs on platform: same os and architecture, and the same variant
// once defaults are filled in (arm64 means v8, arm means v7). NOT_FOUND lists what
// the index offers.
StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& entries, const Platform& platform);

struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

StatusOr<ImageManifest> ParseManifest(absl::string_view body);

// The parts of an image config berth uses; raw keeps the whole document.
struct ImageConfig {
  Platform platform;
  std::vector<std::string> diff_ids;
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::vector<std::string> volumes;
  std::string raw;
};

StatusOr<ImageConfig> ParseImageConfig(absl::string_view body);

// Layer compression as the media type declares it.
enum class Compression { kNone, kGzip, kZstd };
StatusOr<Compression> LayerCompression(absl::string_view media_type);

// chain IDs per the OCI image spec: chain[0] = diff[0], chain[n] = sha256(chain[n-1] + " " + diff[n]).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

}  // namespace berth::image

// Test images built in memory and pushed to a TestRegistry: layers written with
// libarchive from a list of entries (any name, verbatim, so hostile ones too),
// OCI and Docker schema2 manifests, OCI indexes and Docker manifest lists, and a
// catalog of standard images made from Debian's busybox-static plus hostile images
// that try to escape the rootfs.
//
//   ASSIGN_OR_RETURN(TestImage busybox, BusyboxImage());
//   RegistryClient client = registry->Client();
//   ASSIGN_OR_RETURN(std::string digest, PushTestImage(client, busybox));
//   pull busybox.Reference(registry->host_port())   // "127.0.0.1:PORT/berth-test/busybox:latest"
//
// Everything but the hostile images is deterministic: fixed mtimes, no gzip
// timestamp, sorted JSON keys, so digests are stable from run to run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "test/integration/test_registry.h"

namespace berth::testing {

// 2024-01-01T00:00:00Z, the mtime of every entry unless set otherwise.
inline constexpr int64_t kFixedMtime = 1704067200;
inline constexpr char kBusyboxPath[] = "/bin/busybox";  // from Debian's busybox-static
inline constexpr char kDefaultPathEnv[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ---- layers ----------------------------------------------------------------------

// One tar entry. path and link_target are written exactly as given: "/etc/x",
// "../x" and "" included.
struct TarEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kCharDevice, kBlockDevice, kFifo };

  Type type = Type::kFile;
  std::string path;
  std::string content;      // kFile
  std::string link_target;  // kSymlink: the target; kHardlink: the path linked to
  mode_t mode = 0644;       // permission bits, setuid/setgid/sticky included
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t mtime = kFixedMtime;
  unsigned dev_major = 0;  // kCharDevice, kBlockDevice
  unsigned dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // written as pax SCHILY.xattr.*

  // Chainable on temporaries: File("a", "x").Owner(1000, 1000).Xattr("user.k", "v").
  TarEntry Owner(uid_t u, gid_t g) && { uid = u; gid = g; return std::move(*this); }
  TarEntry Mode(mode_t m) && { mode = m; return std::move(*this); }
  TarEntry Mtime(int64_t t) && { mtime = t; return std::move(*this); }
  TarEntry Xattr(std::string name, std::string value) && {
    xattrs.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
  }
};

TarEntry File(std::string path, std::string content, mode_t mode = 0644);
TarEntry Dir(std::string path, mode_t mode = 0755);
TarEntry Symlink(std::string path, std::string target);
TarEntry Hardlink(std::string path, std::string target);
TarEntry CharDevice(std::string path, unsigned major, unsigned minor, mode_t mode = 0666);
TarEntry BlockDevice(std::string path, unsigned major, unsigned minor, mode_t mode = 0660);
TarEntry Fifo(std::string path, mode_t mode = 0644);
// The OCI whiteout deleting path from lower layers: "dir/name" -> "dir/.wh.name".
TarEntry Whiteout(absl::string_view path);
// The opaque marker of dir, hiding everything lower layers put in it:
// "dir/.wh..wh..opq". Put it right after dir's own entry.
TarEntry OpaqueWhiteout(absl::string_view dir);

enum class Compression { kNone, kGzip, kZstd };

struct Layer {
  Compression compression = Compression::kGzip;
  std::string tar;      // the uncompressed tar stream
  std::string data;     // the blob: tar compressed as said
  std::string digest;   // sha256 of data
  std::string diff_id;  // sha256 of tar
};

// A pax (restricted) tar of entries, in order, ended by the two zero blocks.
StatusOr<std::string> WriteTar(const std::vector<TarEntry>& entries);
StatusOr<Layer> BuildLayer(const std::vector<TarEntry>& entries, Compression compression = Compression::kGzip);
// A layer around an arbitrary byte stream (which need not be a valid tar).
StatusOr<Layer> LayerFromTar(std::string tar, Compression compression = Compression::kGzip);

// ---- images ----------------------------------------------------------------------

enum class ManifestFormat {
  kOci,     // application/vnd.oci.image.manifest.v1+json, .index.v1+json
  kDocker,  // application/vnd.docker.distribution.manifest.v2+json, .manifest.list.v2+json
};

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH: amd64, arm64, arm, ...
  std::string variant;       // v7, v8, or ""
  std::string ToString() const;  // "linux/arm64/v8"
};
// The platform this test binary runs on (whose busybox it can execute).
Platform HostPlatform();

// What goes into the image config.
struct ImageSpec {
  Platform platform = HostPlatform();
  std::string user;  // config.User: "1000", "berth", "1000:2000", ...
  std::vector<std::string> env = {kDefaultPathEnv};
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
  std::vector<std::string> volumes;        // config.Volumes keys
  std::vector<std::string> exposed_ports;  // config.ExposedPorts keys: "8080/tcp"
  std::string created = "2024-01-01T00:00:00Z";
  std::string author = "berth tests";
  std::map<std::string, std::string> annotations;  // manifest annotations (OCI only)
  // One per layer; empty means "layer N".
  std::vector<std::string> history;
};

// Media types.
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kOciLayerTar[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kOciLayerGzip[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kOciLayerZstd[] = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayerGzip[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr char kDockerLayerTar[] = "application/vnd.docker.image.rootfs.diff.tar";
// Every manifest type, for an Accept header that takes whatever was pushed.
inline constexpr char kAcceptAllManifests[] =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct Blob {
  std::string media_type;
  std::string digest;
  std::string data;
};

// One platform's image: config and manifest, ready to push.
struct Image {
  ManifestFormat format = ManifestFormat::kOci;
  ImageSpec spec;
  std::vector<Layer> layers;
  Blob config;
  Blob manifest;
  std::string LayerMediaType(size_t i) const;
};
// Fails with INVALID_ARGUMENT for a zstd layer in a Docker image (Docker has no
// media type for it).
StatusOr<Image> BuildImage(const ImageSpec& spec, std::vector<Layer> layers,
                           ManifestFormat format = ManifestFormat::kOci);

// Several platforms' images under one index (OCI) or manifest list (Docker); each
// entry's platform comes from its image's spec.
struct ImageIndex {
  ManifestFormat format = ManifestFormat::kOci;
  std::vector<Image> images;
  Blob index;
};
StatusOr<ImageIndex> BuildIndex(std::vector<Image> images, ManifestFormat format = ManifestFormat::kOci);

// Pushes blobs (skipping those present), then the manifest by tag; returns the
// manifest digest.
StatusOr<std::string> PushImage(RegistryClient& client, absl::string_view repository, absl::string_view tag,
                                const Image& image);
// Pushes every image by digest, then the index by tag; returns the index digest.
StatusOr<std::string> PushIndex(RegistryClient& client, absl::string_view repository, absl::string_view tag,
                                const ImageIndex& index);

// ---- the catalog -------------------------------------------------------------------

// A named image of the catalog with what its unpacked rootfs (for the host
// platform) must hold.
struct TestImage {
  std::string repository;  // "berth-test/busybox"
  std::string tag = "latest";
  std::variant<Image, ImageIndex> content;
  // Entries the unpacked rootfs must have, compared by CompareRootfs: type, mode,
  // owner, content, symlink target, xattrs; a kHardlink entry means "same inode as
  // link_target"; file mtimes too.
  std::vector<TarEntry> expected;
  std::vector<std::string> expected_absent;  // rootfs-relative paths that must not exist

  const Blob& manifest() const;  // the image manifest or the index
  const std::string& digest() const { return manifest().digest; }
  // The image a host-platform pull unpacks (the host entry of an index).
  const Image& HostImage() const;
  std::string Reference(absl::string_view host_port) const;        // HOST:PORT/repo:tag
  std::string DigestReference(absl::string_view host_port) const;  // HOST:PORT/repo@sha256:...
};

StatusOr<std::string> PushTestImage(RegistryClient& client, const TestImage& image);

// The busybox rootfs: /bin/busybox plus applets hard linked to it, /etc/passwd
// (root, nobody 65534, berth 1000) and /etc/group (root, nobody, berth 1000,
// berthextra 2000 with member berth), /root 0700, /tmp 1777, /home/berth owned by
// 1000:1000.
StatusOr<std::vector<TarEntry>> BusyboxEntries();
// The busybox layer, gzip, built once per process.
StatusOr<Layer> BusyboxLayer();

// (a) berth-test/busybox:latest (OCI) or :docker (Docker schema2); Cmd ["sh"].
StatusOr<TestImage> BusyboxImage(ManifestFormat format = ManifestFormat::kOci);
// (b) berth-test/layers:latest: busybox plus three layers (gzip, uncompressed, gzip)
// with whiteouts, an opaque directory, a file replaced by a directory and back,
// hard links (one across a later rewrite), symlinks, a fifo, user.* xattrs,
// setuid/setgid files, a 0700 directory, owners 1000:1000 and a fixed odd mtime.
StatusOr<TestImage> MultiLayerImage();
// (c) berth-test/user:1000 (User "1000"), :berth (User "berth"), :1000-2000 (User
// "1000:2000"); Cmd ["id"].
StatusOr<std::vector<TestImage>> UserImages();
// (d) berth-test/zstd:latest: busybox and /zstd-marker, both layers zstd (OCI).
StatusOr<TestImage> ZstdImage();
// (e) berth-test/multiarch:latest (OCI index) or :docker (manifest list) for
// linux/amd64, linux/arm64/v8, linux/arm/v7. Each image has /platform holding its
// platform string ("linux/arm/v7\n"); only the host's entry also holds busybox, and
// its Cmd is ["cat", "/platform"].
StatusOr<TestImage> MultiArchImage(ManifestFormat format = ManifestFormat::kOci);
// All of the above, both formats where there are two.
StatusOr<std::vector<TestImage>> StandardTestImages();

// Extracts a trusted (catalog) image's layers into dir the way OCI says, whiteouts
// included, with libarchive: a reference to compare a runtime's unpacking against.
// Refuses absolute and ".." paths. Needs root for owners and devices.
Status ReferenceUnpack(const Image& image, const std::string& dir);
// Everything in rootfs that differs from expected/absent, one line each; empty
// when it matches.
std::vector<std::string> CompareRootfs(const std::string& rootfs, const std::vector<TarEntry>& expected,
                                       const std::vector<std::string>& absent);

// ---- hostile images ----------------------------------------------------------------

// A directory /tmp/berth-escape-XXXXXX, unique per run, that hostile images aim at,
// with canary files they try to delete or link to. Removed on destruction.
class EscapeSentinels {
 public:
  static StatusOr<std::unique_ptr<EscapeSentinels>> Create();
  ~EscapeSentinels();
  EscapeSentinels(const EscapeSentinels&) = delete;
  EscapeSentinels& operator=(const EscapeSentinels&) = delete;

  const std::string& dir() const { return dir_; }
  // Creates dir()/name (0644, known content) and returns its path; a second call
  // with the same name returns the same canary.
  StatusOr<std::string> AddCanary(absl::string_view name);
  // What changed since creation, one line each; empty when nothing did: any entry
  // of dir() that is not a canary; a canary removed, rewritten, re-moded or with
  // more than one link (a hard link to it from a rootfs); dir() itself replaced.
  std::vector<std::string> Violations() const;

 private:
  EscapeSentinels() = default;
  std::string dir_;
  std::map<std::string, std::string> canaries_;  // path -> content
};

struct HostileImage {
  std::string name = {};  // "absolute-path": the image is berth-test/hostile-<name>:latest
  std::string what = {};  // what the layer tries, in a sentence
  TestImage image = {};
  // Host paths (all under EscapeSentinels::dir()) that an unsafe unpack creates.
  std::vector<std::string> must_not_exist = {};
  // Canary files an unsafe unpack deletes, overwrites or hard links into the rootfs.
  std::vector<std::string> canaries = {};
  // rootfs-relative paths that must not be device nodes if the pull succeeds.
  std::vector<std::string> rootfs_no_devices = {};
  // rootfs-relative paths that must still exist if the pull succeeds (what an
  // escaping whiteout would delete).
  std::vector<std::string> rootfs_must_exist = {};
  // The layer is not a valid tar (truncated, bad checksum, impossible size): a
  // correct pull fails, cleanly.
  bool must_fail = false;
};

// The hostile catalog, aimed at sentinels (which gets the canaries): OCI images of
// one gzip layer (whiteout-parent has two), named absolute-path, dotdot,
// inner-dotdot, symlink-absolute, symlink-relative, hardlink-absolute,
// hardlink-dotdot, char-device, block-device, symlink-chain,
// dir-replaced-by-symlink, dot-symlink, empty-name, whiteout-dotdot,
// whiteout-parent, and the malformed truncated-tar, bad-checksum, huge-size,
// huge-pax-header. Each one's `what` says what it tries. Call once per sentinels.
StatusOr<std::vector<HostileImage>> HostileImages(EscapeSentinels& sentinels);

}  // namespace berth::testing

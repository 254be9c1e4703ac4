#include "test/integration/test_images.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "test/integration/test_crypto.h"

namespace berth::testing {

using nlohmann::json;

// ---- entries -------------------------------------------------------------------------

TarEntry File(std::string path, std::string content, mode_t mode) {
  TarEntry e;
  e.type = TarEntry::Type::kFile;
  e.path = std::move(path);
  e.content = std::move(content);
  e.mode = mode;
  return e;
}

TarEntry Dir(std::string path, mode_t mode) {
  TarEntry e;
  e.type = TarEntry::Type::kDir;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}

TarEntry Symlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::kSymlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  e.mode = 0777;
  return e;
}

TarEntry Hardlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::kHardlink;
  e.path = std::move(path);
  e.link_target = std::move(target);
  return e;
}

TarEntry CharDevice(std::string path, unsigned major, unsigned minor, mode_t mode) {
  TarEntry e;
  e.type = TarEntry::Type::kCharDevice;
  e.path = std::move(path);
  e.dev_major = major;
  e.dev_minor = minor;
  e.mode = mode;
  return e;
}

TarEntry BlockDevice(std::string path, unsigned major, unsigned minor, mode_t mode) {
  TarEntry e = CharDevice(std::move(path), major, minor, mode);
  e.type = TarEntry::Type::kBlockDevice;
  return e;
}

TarEntry Fifo(std::string path, mode_t mode) {
  TarEntry e;
  e.type = TarEntry::Type::kFifo;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}

TarEntry Whiteout(absl::string_view path) {
  size_t slash = path.rfind('/');
  std::string name = slash == absl::string_view::npos
                         ? absl::StrCat(".wh.", path)
                         : absl::StrCat(path.substr(0, slash + 1), ".wh.", path.substr(slash + 1));
  return File(std::move(name), "");
}

TarEntry OpaqueWhiteout(absl::string_view dir) { return File(absl::StrCat(dir, "/.wh..wh..opq"), ""); }

// ---- tar and compression ---------------------------------------------------------------

namespace {

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, ArchiveEntryFree>;

la_ssize_t AppendToString(archive*, void* out, const void* buffer, size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

Status ArchiveError(archive* a, absl::string_view what) {
  const char* message = archive_error_string(a);
  return absl::InternalError(absl::StrCat(what, ": ", message ? message : "libarchive error"));
}

Status WriteData(archive* a, absl::string_view data, absl::string_view what) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(a, data.data(), data.size());
    if (n <= 0) return ArchiveError(a, what);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

StatusOr<std::string> Compress(const std::string& tar, Compression compression) {
  if (compression == Compression::kNone) return tar;
  // The raw format writes one entry's bytes unframed; the filter compresses them.
  ArchiveWriter a(archive_write_new());
  archive_write_set_format_raw(a.get());
  if (compression == Compression::kGzip) {
    if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "gzip filter");
    // No timestamp in the gzip header, so that the digest is stable.
    archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  } else {
    if (archive_write_add_filter_zstd(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "zstd filter");
  }
  archive_write_set_bytes_per_block(a.get(), 0);
  std::string out;
  if (archive_write_open2(a.get(), &out, nullptr, &AppendToString, nullptr, nullptr) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open compressor");
  }
  ArchiveEntry entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), "layer.tar");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(tar.size()));
  if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "compress");
  RETURN_IF_ERROR(WriteData(a.get(), tar, "compress"));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "finish compression");
  return out;
}

}  // namespace

StatusOr<std::string> WriteTar(const std::vector<TarEntry>& entries) {
  ArchiveWriter a(archive_write_new());
  // pax only where ustar cannot say it (long names, xattrs); the rest plain ustar.
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 0);
  std::string out;
  if (archive_write_open2(a.get(), &out, nullptr, &AppendToString, nullptr, nullptr) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open tar writer");
  }
  for (const TarEntry& e : entries) {
    ArchiveEntry entry(archive_entry_new());
    archive_entry* ae = entry.get();
    archive_entry_copy_pathname(ae, e.path.c_str());
    archive_entry_set_size(ae, 0);
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::Type::kDir:
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_copy_symlink(ae, e.link_target.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_copy_hardlink(ae, e.link_target.c_str());
        break;
      case TarEntry::Type::kCharDevice:
      case TarEntry::Type::kBlockDevice:
        archive_entry_set_filetype(ae, e.type == TarEntry::Type::kCharDevice ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(ae, e.dev_major);
        archive_entry_set_rdevminor(ae, e.dev_minor);
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
    }
    archive_entry_set_perm(ae, e.mode & 07777);
    archive_entry_set_uid(ae, e.uid);
    archive_entry_set_gid(ae, e.gid);
    archive_entry_set_mtime(ae, e.mtime, 0);
    for (const auto& [name, value] : e.xattrs) {
      archive_entry_xattr_add_entry(ae, name.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a.get(), ae) < ARCHIVE_WARN) {
      return ArchiveError(a.get(), absl::StrCat("tar entry \"", e.path, "\""));
    }
    if (e.type == TarEntry::Type::kFile) {
      RETURN_IF_ERROR(WriteData(a.get(), e.content, absl::StrCat("tar entry \"", e.path, "\"")));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "finish tar");
  return out;
}

StatusOr<Layer> LayerFromTar(std::string tar, Compression compression) {
  Layer layer;
  layer.compression = compression;
  ASSIGN_OR_RETURN(layer.data, Compress(tar, compression));
  layer.digest = Sha256Digest(layer.data);
  layer.diff_id = Sha256Digest(tar);
  layer.tar = std::move(tar);
  return layer;
}

StatusOr<Layer> BuildLayer(const std::vector<TarEntry>& entries, Compression compression) {
  ASSIGN_OR_RETURN(std::string tar, WriteTar(entries));
  return LayerFromTar(std::move(tar), compression);
}

// ---- images ------------------------------------------------------------------------------

std::string Platform::ToString() const {
  return variant.empty() ? absl::StrCat(os, "/", architecture) : absl::StrCat(os, "/", architecture, "/", variant);
}

Platform HostPlatform() {
#if defined(__x86_64__)
  return {"linux", "amd64", ""};
#elif defined(__aarch64__)
  return {"linux", "arm64", "v8"};
#elif defined(__arm__)
  return {"linux", "arm", "v7"};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return {"linux", "ppc64le", ""};
#elif defined(__s390x__)
  return {"linux", "s390x", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"linux", "riscv64", ""};
#else
  return {"linux", "unknown", ""};
#endif
}

namespace {

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json Descriptor(absl::string_view media_type, absl::string_view digest, size_t size) {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

json PlatformJson(const Platform& p) {
  json j = {{"os", p.os}, {"architecture", p.architecture}};
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

json KeySet(const std::vector<std::string>& keys) {
  json j = json::object();
  for (const auto& key : keys) j[key] = json::object();
  return j;
}

std::string ConfigJson(const ImageSpec& spec, const std::vector<Layer>& layers) {
  json config = json::object();
  if (!spec.user.empty()) config["User"] = spec.user;
  if (!spec.env.empty()) config["Env"] = spec.env;
  if (!spec.entrypoint.empty()) config["Entrypoint"] = spec.entrypoint;
  if (!spec.cmd.empty()) config["Cmd"] = spec.cmd;
  if (!spec.working_dir.empty()) config["WorkingDir"] = spec.working_dir;
  if (!spec.stop_signal.empty()) config["StopSignal"] = spec.stop_signal;
  if (!spec.labels.empty()) config["Labels"] = spec.labels;
  if (!spec.volumes.empty()) config["Volumes"] = KeySet(spec.volumes);
  if (!spec.exposed_ports.empty()) config["ExposedPorts"] = KeySet(spec.exposed_ports);
  json diff_ids = json::array();
  json history = json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    diff_ids.push_back(layers[i].diff_id);
    std::string created_by = i < spec.history.size() && !spec.history[i].empty() ? spec.history[i]
                                                                                 : absl::StrCat("layer ", i);
    history.push_back({{"created", spec.created}, {"created_by", created_by}});
  }
  json j = {{"created", spec.created},
            {"author", spec.author},
            {"architecture", spec.platform.architecture},
            {"os", spec.platform.os},
            {"config", config},
            {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
            {"history", history}};
  if (!spec.platform.variant.empty()) j["variant"] = spec.platform.variant;
  return DumpJson(j);
}

}  // namespace

std::string Image::LayerMediaType(size_t i) const {
  Compression c = layers[i].compression;
  if (format == ManifestFormat::kDocker) {
    return c == Compression::kNone ? kDockerLayerTar : kDockerLayerGzip;
  }
  switch (c) {
    case Compression::kNone: return kOciLayerTar;
    case Compression::kGzip: return kOciLayerGzip;
    case Compression::kZstd: return kOciLayerZstd;
  }
  return kOciLayerGzip;
}

StatusOr<Image> BuildImage(const ImageSpec& spec, std::vector<Layer> layers, ManifestFormat format) {
  Image image;
  image.format = format;
  image.spec = spec;
  image.layers = std::move(layers);
  const bool oci = format == ManifestFormat::kOci;
  for (const Layer& layer : image.layers) {
    if (!oci && layer.compression == Compression::kZstd) {
      return absl::InvalidArgumentError("a Docker schema2 manifest cannot carry a zstd layer");
    }
  }
  image.config.media_type = oci ? kOciConfig : kDockerConfig;
  image.config.data = ConfigJson(spec, image.layers);
  image.config.digest = Sha256Digest(image.config.data);
  json layer_descriptors = json::array();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    layer_descriptors.push_back(
        Descriptor(image.LayerMediaType(i), image.layers[i].digest, image.layers[i].data.size()));
  }
  image.manifest.media_type = oci ? kOciManifest : kDockerManifest;
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image.manifest.media_type},
      {"config", Descriptor(image.config.media_type, image.config.digest, image.config.data.size())},
      {"layers", layer_descriptors},
  };
  if (oci && !spec.annotations.empty()) manifest["annotations"] = spec.annotations;
  image.manifest.data = DumpJson(manifest);
  image.manifest.digest = Sha256Digest(image.manifest.data);
  return image;
}

StatusOr<ImageIndex> BuildIndex(std::vector<Image> images, ManifestFormat format) {
  ImageIndex index;
  index.format = format;
  const bool oci = format == ManifestFormat::kOci;
  json manifests = json::array();
  for (const Image& image : images) {
    if (image.format != format) {
      return absl::InvalidArgumentError("an index's images must have the index's manifest format");
    }
    json entry = Descriptor(image.manifest.media_type, image.manifest.digest, image.manifest.data.size());
    entry["platform"] = PlatformJson(image.spec.platform);
    manifests.push_back(entry);
  }
  index.images = std::move(images);
  index.index.media_type = oci ? kOciIndex : kDockerManifestList;
  index.index.data =
      DumpJson({{"schemaVersion", 2}, {"mediaType", index.index.media_type}, {"manifests", manifests}});
  index.index.digest = Sha256Digest(index.index.data);
  return index;
}

namespace {

Status PushBlobsOf(RegistryClient& client, absl::string_view repository, const Image& image) {
  for (const Layer& layer : image.layers) {
    RETURN_IF_ERROR(client.PushBlob(repository, layer.digest, layer.data));
  }
  return client.PushBlob(repository, image.config.digest, image.config.data);
}

}  // namespace

StatusOr<std::string> PushImage(RegistryClient& client, absl::string_view repository, absl::string_view tag,
                                const Image& image) {
  RETURN_IF_ERROR(Annotate(PushBlobsOf(client, repository, image), absl::StrCat("push ", repository, ":", tag)));
  return client.PutManifest(repository, tag, image.manifest.media_type, image.manifest.data);
}

StatusOr<std::string> PushIndex(RegistryClient& client, absl::string_view repository, absl::string_view tag,
                                const ImageIndex& index) {
  // The registry checks that an index's manifests exist, so they go first, by digest.
  for (const Image& image : index.images) {
    RETURN_IF_ERROR(Annotate(PushBlobsOf(client, repository, image), absl::StrCat("push ", repository, ":", tag)));
    RETURN_IF_ERROR(
        client.PutManifest(repository, image.manifest.digest, image.manifest.media_type, image.manifest.data)
            .status());
  }
  return client.PutManifest(repository, tag, index.index.media_type, index.index.data);
}

// ---- TestImage -----------------------------------------------------------------------------

const Blob& TestImage::manifest() const {
  if (const Image* image = std::get_if<Image>(&content)) return image->manifest;
  return std::get<ImageIndex>(content).index;
}

const Image& TestImage::HostImage() const {
  if (const Image* image = std::get_if<Image>(&content)) return *image;
  const ImageIndex& index = std::get<ImageIndex>(content);
  const Platform host = HostPlatform();
  for (const Image& image : index.images) {
    const Platform& p = image.spec.platform;
    if (p.os == host.os && p.architecture == host.architecture && p.variant == host.variant) return image;
  }
  return index.images.front();
}

std::string TestImage::Reference(absl::string_view host_port) const {
  return absl::StrCat(host_port, "/", repository, ":", tag);
}

std::string TestImage::DigestReference(absl::string_view host_port) const {
  return absl::StrCat(host_port, "/", repository, "@", digest());
}

StatusOr<std::string> PushTestImage(RegistryClient& client, const TestImage& image) {
  if (const Image* single = std::get_if<Image>(&image.content)) {
    return PushImage(client, image.repository, image.tag, *single);
  }
  return PushIndex(client, image.repository, image.tag, std::get<ImageIndex>(image.content));
}

// ---- the catalog ---------------------------------------------------------------------------

namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "berth:x:1000:1000:berth test user:/home/berth:/bin/sh\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "nobody:x:65534:\n"
    "berth:x:1000:\n"
    "berthextra:x:2000:berth\n";

// The applets linked to /bin/busybox: what tests and kubelet-style probes use.
constexpr const char* kApplets[] = {
    "[",        "ash",   "awk",    "base64", "cat",     "chmod",   "chown",    "cp",    "cut",   "date",
    "dd",       "df",    "du",     "echo",   "env",     "expr",    "false",    "find",  "grep",  "groups",
    "head",     "hostname", "httpd", "id",  "ifconfig", "ip",    "kill",    "linux32",  "ln",    "ls",     "md5sum", "mkdir",
    "mkfifo",   "mknod", "mktemp", "mount",  "mv",      "nc",      "netstat",  "nproc", "nslookup", "ping",
    "printf",   "ps",    "pwd",    "readlink", "realpath", "rm",   "rmdir",    "sed",   "seq",   "sh",
    "sha256sum", "sleep", "sort",  "stat",   "sync",    "tail",    "tee",      "test",  "timeout", "top",
    "touch",    "tr",    "true",   "umount", "uname",   "uniq",    "unshare",  "wc",    "wget",  "which", "whoami",
    "xargs",    "yes",
};

StatusOr<std::string> BusyboxBinary() {
  static std::mutex mu;
  static std::optional<std::string> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) {
    auto data = ReadFile(kBusyboxPath);
    if (!data.ok()) {
      return Annotate(data.status(), "read the busybox binary (install Debian's busybox-static)");
    }
    cached = std::move(*data);
  }
  return *cached;
}

// What the busybox layer puts in every rootfs built on it.
StatusOr<std::vector<TarEntry>> BusyboxExpected() {
  ASSIGN_OR_RETURN(std::string busybox, BusyboxBinary());
  return std::vector<TarEntry>{
      Dir("bin"),
      File("bin/busybox", std::move(busybox), 0755),
      Hardlink("bin/sh", "bin/busybox"),
      Hardlink("bin/ls", "bin/busybox"),
      Dir("etc"),
      File("etc/passwd", kPasswd),
      File("etc/group", kGroup),
      Dir("home/berth").Owner(1000, 1000),
      Dir("root", 0700),
      Dir("tmp", 01777),
      Symlink("usr/bin/env", "../../bin/env"),
  };
}

TestImage MakeTestImage(std::string repository, std::string tag, std::variant<Image, ImageIndex> content) {
  TestImage image;
  image.repository = std::move(repository);
  image.tag = std::move(tag);
  image.content = std::move(content);
  return image;
}

ImageSpec BusyboxSpec() {
  ImageSpec spec;
  spec.cmd = {"sh"};
  spec.labels = {{"org.opencontainers.image.title", "berth test busybox"}};
  spec.history = {"busybox-static from Debian, with applets hard linked"};
  return spec;
}

}  // namespace

StatusOr<std::vector<TarEntry>> BusyboxEntries() {
  ASSIGN_OR_RETURN(std::string busybox, BusyboxBinary());
  std::vector<TarEntry> entries = {
      Dir("bin"),
      File("bin/busybox", std::move(busybox), 0755),
  };
  for (const char* applet : kApplets) {
    entries.push_back(Hardlink(absl::StrCat("bin/", applet), "bin/busybox").Mode(0755));
  }
  for (TarEntry& e : std::vector<TarEntry>{
           Dir("dev"),
           Dir("etc"),
           File("etc/passwd", kPasswd),
           File("etc/group", kGroup),
           Dir("home"),
           Dir("home/berth").Owner(1000, 1000),
           Dir("proc", 0555),
           Dir("root", 0700),
           Dir("sys", 0555),
           Dir("tmp", 01777),
           Dir("usr"),
           Dir("usr/bin"),
           Symlink("usr/bin/env", "../../bin/env"),
           Dir("var"),
       }) {
    entries.push_back(std::move(e));
  }
  return entries;
}

StatusOr<Layer> BusyboxLayer() {
  static std::mutex mu;
  static std::optional<Layer> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) {
    ASSIGN_OR_RETURN(std::vector<TarEntry> entries, BusyboxEntries());
    ASSIGN_OR_RETURN(cached, BuildLayer(entries, Compression::kGzip));
  }
  return *cached;
}

StatusOr<TestImage> BusyboxImage(ManifestFormat format) {
  ASSIGN_OR_RETURN(Layer layer, BusyboxLayer());
  ASSIGN_OR_RETURN(Image image, BuildImage(BusyboxSpec(), {std::move(layer)}, format));
  TestImage out = MakeTestImage("berth-test/busybox", format == ManifestFormat::kOci ? "latest" : "docker",
                                std::move(image));
  ASSIGN_OR_RETURN(out.expected, BusyboxExpected());
  return out;
}

StatusOr<TestImage> MultiLayerImage() {
  constexpr int64_t kOddMtime = 1234567890;  // 2009-02-13T23:31:30Z
  const std::string binary_xattr("\x00\x01\xfe", 3);
  ASSIGN_OR_RETURN(Layer base, BusyboxLayer());
  ASSIGN_OR_RETURN(Layer second, BuildLayer({
                                     Dir("bin"),
                                     File("bin/suid-file", "#!/bin/sh\necho suid\n", 04755),
                                     Dir("data"),
                                     File("data/keep", "keep v1\n"),
                                     Hardlink("data/hardlink", "data/keep"),
                                     File("data/remove-me", "removed by layer 3\n"),
                                     Dir("data/opaque"),
                                     File("data/opaque/old", "hidden by the opaque marker\n"),
                                     Dir("data/opaque/sub"),
                                     File("data/opaque/sub/old", "hidden too\n"),
                                     Dir("data/gone-dir"),
                                     File("data/gone-dir/file", "removed with its dir\n"),
                                     File("data/was-file", "becomes a directory\n"),
                                     Dir("data/was-dir"),
                                     File("data/was-dir/child", "goes with its dir\n"),
                                     File("data/xattr", "has xattrs\n")
                                         .Xattr("user.berth.test", "hello")
                                         .Xattr("user.berth.binary", binary_xattr),
                                     Hardlink("data/xattr-link", "data/xattr"),
                                     File("data/sgid-file", "sgid\n", 02755).Owner(0, 1000),
                                     Symlink("data/symlink", "keep"),
                                     Symlink("data/abs-symlink", "/data/keep"),
                                     Symlink("data/dangling", "/nonexistent/target"),
                                     Fifo("data/fifo"),
                                     File("data/mtime-file", "odd mtime\n").Mtime(kOddMtime),
                                     Dir("home"),
                                     Dir("home/berth").Owner(1000, 1000),
                                     File("home/berth/owned", "mine\n", 0640).Owner(1000, 1000),
                                     Dir("private", 0700).Owner(1000, 1000),
                                     File("private/secret", "secret\n", 0600).Owner(1000, 1000),
                                 },
                                 Compression::kGzip));
  ASSIGN_OR_RETURN(Layer third, BuildLayer({
                                    Dir("data"),
                                    Whiteout("data/remove-me"),
                                    Dir("data/opaque"),
                                    OpaqueWhiteout("data/opaque"),
                                    File("data/opaque/new", "new\n"),
                                    Whiteout("data/gone-dir"),
                                    File("data/keep", "keep v2\n"),
                                },
                                Compression::kNone));
  ASSIGN_OR_RETURN(Layer fourth, BuildLayer({
                                     Dir("data"),
                                     Dir("data/was-file"),
                                     File("data/was-file/inside", "inside\n"),
                                     File("data/was-dir", "now a file\n"),
                                     Whiteout("data/fifo"),
                                     Dir("etc"),
                                     File("etc/layer", "4\n"),
                                 },
                                 Compression::kGzip));
  ImageSpec spec = BusyboxSpec();
  spec.history = {"busybox", "files, links, xattrs, odd modes", "whiteouts and an opaque dir (uncompressed)",
                  "type changes"};
  spec.working_dir = "/data";
  ASSIGN_OR_RETURN(Image image, BuildImage(spec, {base, second, third, fourth}, ManifestFormat::kOci));
  TestImage out = MakeTestImage("berth-test/layers", "latest", std::move(image));
  ASSIGN_OR_RETURN(out.expected, BusyboxExpected());
  for (TarEntry& e : std::vector<TarEntry>{
           File("bin/suid-file", "#!/bin/sh\necho suid\n", 04755),
           File("data/keep", "keep v2\n"),
           // Linked to layer 2's data/keep, which layer 3 replaced: keeps the old content.
           File("data/hardlink", "keep v1\n"),
           Dir("data/opaque"),
           File("data/opaque/new", "new\n"),
           Dir("data/was-file"),
           File("data/was-file/inside", "inside\n"),
           File("data/was-dir", "now a file\n"),
           File("data/xattr", "has xattrs\n").Xattr("user.berth.test", "hello").Xattr("user.berth.binary",
                                                                                   binary_xattr),
           Hardlink("data/xattr-link", "data/xattr"),
           File("data/sgid-file", "sgid\n", 02755).Owner(0, 1000),
           Symlink("data/symlink", "keep"),
           Symlink("data/abs-symlink", "/data/keep"),
           Symlink("data/dangling", "/nonexistent/target"),
           File("data/mtime-file", "odd mtime\n").Mtime(kOddMtime),
           File("home/berth/owned", "mine\n", 0640).Owner(1000, 1000),
           Dir("private", 0700).Owner(1000, 1000),
           File("private/secret", "secret\n", 0600).Owner(1000, 1000),
           File("etc/layer", "4\n"),
       }) {
    out.expected.push_back(std::move(e));
  }
  out.expected_absent = {"data/remove-me",      "data/.wh.remove-me",  "data/opaque/old", "data/opaque/sub",
                         "data/opaque/.wh..wh..opq", "data/gone-dir", "data/.wh.gone-dir", "data/was-dir/child",
                         "data/fifo",           "data/.wh.fifo"};
  return out;
}

StatusOr<std::vector<TestImage>> UserImages() {
  ASSIGN_OR_RETURN(Layer layer, BusyboxLayer());
  ASSIGN_OR_RETURN(std::vector<TarEntry> expected, BusyboxExpected());
  std::vector<TestImage> out;
  for (const auto& [tag, user] : std::vector<std::pair<std::string, std::string>>{
           {"1000", "1000"}, {"berth", "berth"}, {"1000-2000", "1000:2000"}}) {
    ImageSpec spec = BusyboxSpec();
    spec.user = user;
    spec.cmd = {"id"};
    ASSIGN_OR_RETURN(Image image, BuildImage(spec, {layer}, ManifestFormat::kOci));
    TestImage test_image = MakeTestImage("berth-test/user", tag, std::move(image));
    test_image.expected = expected;
    out.push_back(std::move(test_image));
  }
  return out;
}

StatusOr<TestImage> ZstdImage() {
  ASSIGN_OR_RETURN(std::vector<TarEntry> entries, BusyboxEntries());
  ASSIGN_OR_RETURN(Layer base, BuildLayer(entries, Compression::kZstd));
  ASSIGN_OR_RETURN(Layer marker, BuildLayer({File("zstd-marker", "zstd\n")}, Compression::kZstd));
  ImageSpec spec = BusyboxSpec();
  spec.history = {"busybox (zstd)", "marker (zstd)"};
  ASSIGN_OR_RETURN(Image image, BuildImage(spec, {std::move(base), std::move(marker)}, ManifestFormat::kOci));
  TestImage out = MakeTestImage("berth-test/zstd", "latest", std::move(image));
  ASSIGN_OR_RETURN(out.expected, BusyboxExpected());
  out.expected.push_back(File("zstd-marker", "zstd\n"));
  return out;
}

StatusOr<TestImage> MultiArchImage(ManifestFormat format) {
  const Platform host = HostPlatform();
  ASSIGN_OR_RETURN(Layer busybox, BusyboxLayer());
  std::vector<Image> images;
  for (const Platform& platform : std::vector<Platform>{
           {"linux", "amd64", ""}, {"linux", "arm64", "v8"}, {"linux", "arm", "v7"}}) {
    const bool runnable = platform.architecture == host.architecture && platform.variant == host.variant;
    ASSIGN_OR_RETURN(Layer marker,
                     BuildLayer({File("platform", absl::StrCat(platform.ToString(), "\n"))}, Compression::kGzip));
    ImageSpec spec = BusyboxSpec();
    spec.platform = platform;
    spec.cmd = {"cat", "/platform"};
    spec.labels["berth.test.platform"] = platform.ToString();
    std::vector<Layer> layers;
    if (runnable) layers.push_back(busybox);
    layers.push_back(std::move(marker));
    spec.history = runnable ? std::vector<std::string>{"busybox", "platform marker"}
                            : std::vector<std::string>{"platform marker"};
    ASSIGN_OR_RETURN(Image image, BuildImage(spec, std::move(layers), format));
    images.push_back(std::move(image));
  }
  ASSIGN_OR_RETURN(ImageIndex index, BuildIndex(std::move(images), format));
  TestImage out = MakeTestImage("berth-test/multiarch", format == ManifestFormat::kOci ? "latest" : "docker",
                                std::move(index));
  ASSIGN_OR_RETURN(out.expected, BusyboxExpected());
  out.expected.push_back(File("platform", absl::StrCat(host.ToString(), "\n")));
  return out;
}

StatusOr<std::vector<TestImage>> StandardTestImages() {
  std::vector<TestImage> out;
  for (ManifestFormat format : {ManifestFormat::kOci, ManifestFormat::kDocker}) {
    ASSIGN_OR_RETURN(TestImage busybox, BusyboxImage(format));
    out.push_back(std::move(busybox));
  }
  ASSIGN_OR_RETURN(TestImage layers, MultiLayerImage());
  out.push_back(std::move(layers));
  ASSIGN_OR_RETURN(std::vector<TestImage> users, UserImages());
  for (TestImage& user : users) out.push_back(std::move(user));
  ASSIGN_OR_RETURN(TestImage zstd, ZstdImage());
  out.push_back(std::move(zstd));
  for (ManifestFormat format : {ManifestFormat::kOci, ManifestFormat::kDocker}) {
    ASSIGN_OR_RETURN(TestImage multiarch, MultiArchImage(format));
    out.push_back(std::move(multiarch));
  }
  return out;
}

// ---- reference unpacking and comparison ------------------------------------------------------

namespace {

// "./a/b/" -> "a/b"; fails on absolute paths and ".." components.
StatusOr<std::string> CleanRelative(absl::string_view path) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") return absl::InvalidArgumentError(absl::StrCat("\"..\" in layer path \"", path, "\""));
    parts.emplace_back(part);
  }
  if (absl::StartsWith(path, "/")) {
    return absl::InvalidArgumentError(absl::StrCat("absolute layer path \"", path, "\""));
  }
  return absl::StrJoin(parts, "/");
}

Status RemoveChildren(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> children;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) children.push_back(entry.path().string());
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("list ", dir, ": ", ec.message()));
  }
  for (const auto& child : children) RETURN_IF_ERROR(RemoveAll(child));
  return absl::OkStatus();
}

Status UnpackLayer(const Layer& layer, const std::string& root) {
  ArchiveReader reader(archive_read_new());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_memory(reader.get(), layer.tar.data(), layer.tar.size()) != ARCHIVE_OK) {
    return ArchiveError(reader.get(), "open layer");
  }
  std::unique_ptr<archive, decltype(&archive_write_free)> disk(archive_write_disk_new(), &archive_write_free);
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                                 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return ArchiveError(reader.get(), "read layer");
    ASSIGN_OR_RETURN(std::string path, CleanRelative(archive_entry_pathname(entry)));
    if (path.empty()) continue;  // the root itself
    size_t slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? root : absl::StrCat(root, "/", path.substr(0, slash));
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base == ".wh..wh..opq") {
      RETURN_IF_ERROR(RemoveChildren(parent));
      continue;
    }
    if (absl::StartsWith(base, ".wh.")) {
      RETURN_IF_ERROR(RemoveAll(absl::StrCat(parent, "/", base.substr(4))));
      continue;
    }
    std::string full = absl::StrCat(root, "/", path);
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && !(S_ISDIR(st.st_mode) && archive_entry_filetype(entry) == AE_IFDIR)) {
      RETURN_IF_ERROR(RemoveAll(full));  // a layer's entry replaces what was there, whole
    }
    archive_entry_copy_pathname(entry, full.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      ASSIGN_OR_RETURN(std::string target, CleanRelative(link));
      archive_entry_copy_hardlink(entry, absl::StrCat(root, "/", target).c_str());
    }
    if (archive_write_header(disk.get(), entry) < ARCHIVE_WARN) {
      return ArchiveError(disk.get(), absl::StrCat("extract ", path));
    }
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(reader.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(disk.get(), block, size, offset) < ARCHIVE_WARN) {
        return ArchiveError(disk.get(), absl::StrCat("write ", path));
      }
    }
    if (r != ARCHIVE_EOF) return ArchiveError(reader.get(), absl::StrCat("read ", path));
    if (archive_write_finish_entry(disk.get()) < ARCHIVE_WARN) {
      return ArchiveError(disk.get(), absl::StrCat("finish ", path));
    }
  }
  if (archive_write_close(disk.get()) != ARCHIVE_OK) return ArchiveError(disk.get(), "finish extraction");
  return absl::OkStatus();
}

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(mode & 07777));
  return buf;
}

const char* TypeName(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISCHR(mode)) return "char device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  return "unknown";
}

bool TypeMatches(TarEntry::Type type, mode_t mode) {
  switch (type) {
    case TarEntry::Type::kFile:
    case TarEntry::Type::kHardlink: return S_ISREG(mode);
    case TarEntry::Type::kDir: return S_ISDIR(mode);
    case TarEntry::Type::kSymlink: return S_ISLNK(mode);
    case TarEntry::Type::kCharDevice: return S_ISCHR(mode);
    case TarEntry::Type::kBlockDevice: return S_ISBLK(mode);
    case TarEntry::Type::kFifo: return S_ISFIFO(mode);
  }
  return false;
}

std::string Printable(absl::string_view s) {
  if (s.size() > 64) return absl::StrCat(s.size(), " bytes");
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out + "\"";
}

}  // namespace

Status ReferenceUnpack(const Image& image, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir, 0755));
  for (size_t i = 0; i < image.layers.size(); ++i) {
    RETURN_IF_ERROR(Annotate(UnpackLayer(image.layers[i], dir), absl::StrCat("layer ", i)));
  }
  return absl::OkStatus();
}

std::vector<std::string> CompareRootfs(const std::string& rootfs, const std::vector<TarEntry>& expected,
                                       const std::vector<std::string>& absent) {
  std::vector<std::string> diffs;
  for (const TarEntry& e : expected) {
    const std::string full = absl::StrCat(rootfs, "/", e.path);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
      diffs.push_back(absl::StrCat(e.path, ": missing (", std::strerror(errno), ")"));
      continue;
    }
    if (!TypeMatches(e.type, st.st_mode)) {
      diffs.push_back(absl::StrCat(e.path, ": is a ", TypeName(st.st_mode)));
      continue;
    }
    if (e.type == TarEntry::Type::kHardlink) {
      struct stat target;
      std::string target_path = absl::StrCat(rootfs, "/", e.link_target);
      if (::lstat(target_path.c_str(), &target) != 0 || target.st_ino != st.st_ino || target.st_dev != st.st_dev) {
        diffs.push_back(absl::StrCat(e.path, ": not a hard link to ", e.link_target));
      }
      continue;
    }
    if (e.type != TarEntry::Type::kSymlink && (st.st_mode & 07777) != (e.mode & 07777)) {
      diffs.push_back(absl::StrCat(e.path, ": mode ", Octal(st.st_mode), ", expected ", Octal(e.mode)));
    }
    if (st.st_uid != e.uid || st.st_gid != e.gid) {
      diffs.push_back(
          absl::StrCat(e.path, ": owner ", st.st_uid, ":", st.st_gid, ", expected ", e.uid, ":", e.gid));
    }
    if (e.type == TarEntry::Type::kFile) {
      std::string content = ReadFile(full).value_or("<unreadable>");
      if (content != e.content) {
        diffs.push_back(
            absl::StrCat(e.path, ": content ", Printable(content), ", expected ", Printable(e.content)));
      }
      if (st.st_mtim.tv_sec != e.mtime) {
        diffs.push_back(absl::StrCat(e.path, ": mtime ", st.st_mtim.tv_sec, ", expected ", e.mtime));
      }
    }
    if (e.type == TarEntry::Type::kSymlink) {
      std::error_code ec;
      std::string target = std::filesystem::read_symlink(full, ec).string();
      if (target != e.link_target) {
        diffs.push_back(absl::StrCat(e.path, ": points to \"", target, "\", expected \"", e.link_target, "\""));
      }
    }
    if (e.type == TarEntry::Type::kCharDevice || e.type == TarEntry::Type::kBlockDevice) {
      if (major(st.st_rdev) != e.dev_major || minor(st.st_rdev) != e.dev_minor) {
        diffs.push_back(absl::StrCat(e.path, ": device ", major(st.st_rdev), ",", minor(st.st_rdev), ", expected ",
                                     e.dev_major, ",", e.dev_minor));
      }
    }
    for (const auto& [name, value] : e.xattrs) {
      char buf[4096];
      ssize_t n = ::lgetxattr(full.c_str(), name.c_str(), buf, sizeof buf);
      if (n < 0) {
        diffs.push_back(absl::StrCat(e.path, ": no xattr ", name, " (", std::strerror(errno), ")"));
      } else if (absl::string_view(buf, static_cast<size_t>(n)) != value) {
        diffs.push_back(absl::StrCat(e.path, ": xattr ", name, " = ",
                                     Printable(absl::string_view(buf, static_cast<size_t>(n))), ", expected ",
                                     Printable(value)));
      }
    }
  }
  for (const std::string& path : absent) {
    struct stat st;
    std::string full = absl::StrCat(rootfs, "/", path);
    if (::lstat(full.c_str(), &st) == 0) {
      diffs.push_back(absl::StrCat(path, ": exists (a ", TypeName(st.st_mode), ") but must not"));
    }
  }
  return diffs;
}

// ---- escape sentinels --------------------------------------------------------------------------

StatusOr<std::unique_ptr<EscapeSentinels>> EscapeSentinels::Create() {
  std::unique_ptr<EscapeSentinels> sentinels(new EscapeSentinels());
  char tmpl[] = "/tmp/berth-escape-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoError("mkdtemp /tmp/berth-escape-XXXXXX");
  sentinels->dir_ = tmpl;
  if (::chmod(tmpl, 0755) != 0) return ErrnoError(absl::StrCat("chmod ", tmpl));
  return sentinels;
}

EscapeSentinels::~EscapeSentinels() {
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

StatusOr<std::string> EscapeSentinels::AddCanary(absl::string_view name) {
  std::string path = absl::StrCat(dir_, "/", name);
  if (canaries_.count(path) != 0) return path;
  std::string content = absl::StrCat("berth escape canary ", name, " ", RandomHex(8), "\n");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError(absl::StrCat("create canary ", path));
  if (::fchmod(fd.get(), 0644) != 0 || ::write(fd.get(), content.data(), content.size()) !=
                                           static_cast<ssize_t>(content.size())) {
    return ErrnoError(absl::StrCat("write canary ", path));
  }
  canaries_[path] = content;
  return path;
}

std::vector<std::string> EscapeSentinels::Violations() const {
  std::vector<std::string> out;
  struct stat st;
  if (::lstat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    out.push_back(absl::StrCat(dir_, ": no longer a directory"));
    return out;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string path = entry.path().string();
    if (canaries_.count(path) == 0) {
      struct stat est;
      ::lstat(path.c_str(), &est);
      out.push_back(absl::StrCat(path, ": appeared (a ", TypeName(est.st_mode), ")"));
    }
  }
  for (const auto& [path, content] : canaries_) {
    if (::lstat(path.c_str(), &st) != 0) {
      out.push_back(absl::StrCat(path, ": canary removed"));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      out.push_back(absl::StrCat(path, ": canary replaced by a ", TypeName(st.st_mode)));
      continue;
    }
    if (st.st_nlink != 1) out.push_back(absl::StrCat(path, ": canary has ", st.st_nlink, " links"));
    if ((st.st_mode & 07777) != 0644) {
      out.push_back(absl::StrCat(path, ": canary mode changed to ", Octal(st.st_mode)));
    }
    if (st.st_uid != ::geteuid() || st.st_gid != ::getegid()) {
      out.push_back(absl::StrCat(path, ": canary owner changed to ", st.st_uid, ":", st.st_gid));
    }
    if (ReadFile(path).value_or("") != content) out.push_back(absl::StrCat(path, ": canary rewritten"));
  }
  return out;
}

// ---- hostile images -----------------------------------------------------------------------------

namespace {

// Enough "../" to climb from any plausible unpack directory to "/" (extra ones
// stay at "/").
std::string Climb() {
  std::string out;
  for (int i = 0; i < 24; ++i) out += "../";
  return out;
}

// A hand-made ustar header, for what libarchive will not write: size_field is the
// 11 octal digits of the size field as given, right or wrong.
std::string UstarHeader(absl::string_view name, char typeflag, absl::string_view size_field) {
  std::string h(512, '\0');
  auto put = [&h](size_t offset, absl::string_view value) {
    h.replace(offset, value.size(), value.data(), value.size());
  };
  put(0, name.substr(0, 100));
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  put(124, size_field.substr(0, 11));
  put(136, "14544060400");  // kFixedMtime in octal
  h[156] = typeflag;
  put(257, absl::string_view("ustar\0", 6));
  put(263, "00");
  put(148, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%06o", sum);
  put(148, absl::string_view(checksum, 6));
  h[154] = '\0';
  h[155] = ' ';
  return h;
}

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + (i * 7) % 26);
  return out;
}

}  // namespace

StatusOr<std::vector<HostileImage>> HostileImages(EscapeSentinels& sentinels) {
  const std::string s = sentinels.dir();      // /tmp/berth-escape-XXXXXX
  const std::string s_rel = s.substr(1);      // tmp/berth-escape-XXXXXX
  const std::string up = Climb();
  std::vector<HostileImage> out;

  // Adds an image of one gzip layer (or of the given layers) with what it tries.
  auto add = [&](HostileImage h, std::vector<Layer> layers) -> Status {
    ImageSpec spec;
    spec.cmd = {"/bin/sh"};
    spec.labels = {{"berth.test.hostile", h.name}};
    spec.history = {h.what};
    ASSIGN_OR_RETURN(Image image, BuildImage(spec, std::move(layers), ManifestFormat::kOci));
    h.image = MakeTestImage(absl::StrCat("berth-test/hostile-", h.name), "latest", std::move(image));
    out.push_back(std::move(h));
    return absl::OkStatus();
  };
  auto add_entries = [&](HostileImage h, const std::vector<TarEntry>& entries) -> Status {
    ASSIGN_OR_RETURN(Layer layer, BuildLayer(entries, Compression::kGzip));
    return add(std::move(h), {std::move(layer)});
  };
  auto add_tar = [&](HostileImage h, std::string tar) -> Status {
    ASSIGN_OR_RETURN(Layer layer, LayerFromTar(std::move(tar), Compression::kGzip));
    return add(std::move(h), {std::move(layer)});
  };
  const std::string pwned = "written by a hostile layer\n";

  RETURN_IF_ERROR(add_entries(
      {.name = "absolute-path",
       .what = absl::StrCat("a file entry with the absolute name ", s, "/absolute-path"),
       .must_not_exist = {s + "/absolute-path"}},
      {File(s + "/absolute-path", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "dotdot",
       .what = "a file entry named ../../(x24)" + s_rel + "/dotdot, climbing out of the rootfs",
       .must_not_exist = {s + "/dotdot"}},
      {File(up + s_rel + "/dotdot", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "inner-dotdot",
       .what = "a file entry a/../../(x24)" + s_rel + "/inner-dotdot: \"..\" after a real directory",
       .must_not_exist = {s + "/inner-dotdot"}},
      {Dir("a"), File("a/../../" + up + s_rel + "/inner-dotdot", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "symlink-absolute",
       .what = "symlink escape -> " + s + " (absolute), then a file escape/symlink-absolute written through it",
       .must_not_exist = {s + "/symlink-absolute"}},
      {Symlink("escape", s), File("escape/symlink-absolute", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "symlink-relative",
       .what = "symlink escape -> ../../(x24)" + s_rel + ", then a file escape/symlink-relative through it",
       .must_not_exist = {s + "/symlink-relative"}},
      {Symlink("escape", up + s_rel), File("escape/symlink-relative", pwned)}));

  {
    ASSIGN_OR_RETURN(std::string canary, sentinels.AddCanary("canary-hardlink-absolute"));
    RETURN_IF_ERROR(add_entries(
        {.name = "hardlink-absolute",
         .what = "hard links linked and written -> " + canary +
                 " (an absolute host file), then a file entry written over written",
         .canaries = {canary}},
        {Hardlink("linked", canary), Hardlink("written", canary), File("written", pwned)}));
  }
  {
    ASSIGN_OR_RETURN(std::string canary, sentinels.AddCanary("canary-hardlink-dotdot"));
    std::string target = up + s_rel + "/canary-hardlink-dotdot";
    RETURN_IF_ERROR(add_entries(
        {.name = "hardlink-dotdot",
         .what = "hard links linked and written -> ../../(x24)" + s_rel +
                 "/canary-hardlink-dotdot, then a file entry written over written",
         .canaries = {canary}},
        {Hardlink("linked", target), Hardlink("written", target), File("written", pwned)}));
  }

  RETURN_IF_ERROR(add_entries(
      {.name = "char-device",
       .what = "character device nodes dev-mem (1,1: /dev/mem) and kmsg (1,11), mode 0666",
       .rootfs_no_devices = {"dev-mem", "kmsg"}},
      {CharDevice("dev-mem", 1, 1, 0666), CharDevice("kmsg", 1, 11, 0666)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "block-device",
       .what = "block device nodes disk (8,0: /dev/sda) and loop0 (7,0), mode 0666",
       .rootfs_no_devices = {"disk", "loop0"}},
      {BlockDevice("disk", 8, 0, 0666), BlockDevice("loop0", 7, 0, 0666)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "symlink-chain",
       .what = "symlinks link1 -> link2 -> /, then a file link1/" + s_rel + "/symlink-chain",
       .must_not_exist = {s + "/symlink-chain"}},
      {Symlink("link1", "link2"), Symlink("link2", "/"), File("link1/" + s_rel + "/symlink-chain", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "dir-replaced-by-symlink",
       .what = "directory d with a file, then d again as a symlink -> " + s + ", then a file d/dir-replaced",
       .must_not_exist = {s + "/dir-replaced"}},
      {Dir("d"), File("d/inside", "fine\n"), Symlink("d", s), File("d/dir-replaced", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "dot-symlink",
       .what = "an entry named \".\" that is a symlink -> " + s + ", then a file dot-symlink",
       .must_not_exist = {s + "/dot-symlink"}},
      {Symlink(".", s), File("dot-symlink", pwned)}));

  RETURN_IF_ERROR(add_entries(
      {.name = "empty-name",
       .what = "a file entry with an empty name (would be the rootfs itself), then a normal file",
       .rootfs_must_exist = {}},
      {File("", pwned), File("after-empty-name", "fine\n")}));

  {
    ASSIGN_OR_RETURN(std::string canary, sentinels.AddCanary("canary-whiteout"));
    RETURN_IF_ERROR(add_entries(
        {.name = "whiteout-dotdot",
         .what = "a whiteout ../../(x24)" + s_rel + "/.wh.canary-whiteout, deleting a host file",
         .canaries = {canary}},
        {File("marker", "fine\n"), File(up + s_rel + "/.wh.canary-whiteout", "")}));
  }

  {
    // Two layers: the whiteout sub/.wh... names "sub/.." in the lower layer, which
    // is the rootfs itself.
    ASSIGN_OR_RETURN(Layer lower, BuildLayer({Dir("sub"), File("sub/keep", "keep\n"), File("top-keep", "keep\n")}));
    ASSIGN_OR_RETURN(Layer upper, BuildLayer({Dir("sub"), File("sub/.wh...", "")}));
    RETURN_IF_ERROR(add({.name = "whiteout-parent",
                         .what = "a lower layer with sub/keep and top-keep, then a whiteout sub/.wh... "
                                 "(\"sub/..\", the rootfs itself)",
                         .rootfs_must_exist = {"sub/keep", "top-keep"}},
                        {std::move(lower), std::move(upper)}));
  }

  {
    ASSIGN_OR_RETURN(std::string tar, WriteTar({File("big", Pattern(64 * 1024))}));
    tar.resize(512 + 20000);  // cut inside the file's data, no end-of-archive blocks
    RETURN_IF_ERROR(add_tar({.name = "truncated-tar",
                             .what = "a 64 KiB file entry whose data stops after 20000 bytes (truncated tar)",
                             .must_fail = true},
                            std::move(tar)));
  }
  {
    ASSIGN_OR_RETURN(std::string tar, WriteTar({File("file", "checksum is wrong\n"), File("after", "fine\n")}));
    tar.replace(148, 8, std::string("000000\0 ", 8));
    RETURN_IF_ERROR(add_tar({.name = "bad-checksum",
                             .what = "a ustar header whose checksum field is wrong",
                             .must_fail = true},
                            std::move(tar)));
  }
  {
    std::string tar = UstarHeader("huge", '0', "77777777777") + Pattern(512) + std::string(1024, '\0');
    RETURN_IF_ERROR(add_tar({.name = "huge-size",
                             .what = "a file header claiming 8 GiB of data followed by 512 bytes",
                             .must_fail = true},
                            std::move(tar)));
  }
  {
    std::string tar = UstarHeader("PaxHeaders/huge", 'x', "10000000000") + "30 path=" + Pattern(504);
    RETURN_IF_ERROR(add_tar({.name = "huge-pax-header",
                             .what = "a pax extended header claiming 1 GiB, cut off after 512 bytes",
                             .must_fail = true},
                            std::move(tar)));
  }
  return out;
}

}  // namespace berth::testing

#include "cluster/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace berth::cluster {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxEntries = 100000;
constexpr size_t kMaxName = 4096;
constexpr int64_t kMaxDocument = 4 << 20;  // an index, manifest or config
constexpr size_t kMaxImages = 1000;
constexpr size_t kMaxLayers = 256;
constexpr int kMaxLinkHops = 8;
// What the extracted files may take: the work directory's free space less a margin,
// and never more than this.
constexpr int64_t kMaxExtracted = int64_t{64} << 30;
constexpr int64_t kFreeMargin = int64_t{1} << 30;
constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
constexpr char kOciLayer[] = "application/vnd.oci.image.layer.v1.tar";

Status InvalidArchive(const std::string& archive, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(archive, ": ", what));
}

// A name inside the archive made plain: no leading "/" or "./", no "." or ".."
// parts; none for a name that climbs out of the archive.
std::optional<std::string> Normalize(absl::string_view name) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(name, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  if (parts.empty()) return std::nullopt;
  return absl::StrJoin(parts, "/");
}

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

struct StoredFile {
  std::string path;  // under the work directory
  int64_t size = 0;
};

// The archive's regular files, each copied to a file of its own, and its links, by
// the names the archive gives them.
class ArchiveFiles {
 public:
  static StatusOr<ArchiveFiles> Extract(const std::string& archive_path, const std::string& work_dir) {
    ArchiveFiles files;
    files.archive_ = archive_path;
    struct statvfs fs;
    if (::statvfs(work_dir.c_str(), &fs) != 0) return ErrnoError("statvfs " + work_dir);
    const int64_t free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    int64_t budget = std::min(kMaxExtracted, free_bytes - kFreeMargin);
    std::unique_ptr<archive, ArchiveReadFree> a(archive_read_new());
    // Libraries only: libarchive's other filters hand the bytes to external programs.
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_bzip2(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
      return InvalidArchive(archive_path, ArchiveMessage(a.get()));
    }
    archive_entry* entry = nullptr;
    int result;
    size_t count = 0;
    while ((result = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
      if (++count > kMaxEntries) {
        return InvalidArchive(archive_path, absl::StrCat("more than ", kMaxEntries, " entries"));
      }
      const char* raw_name = archive_entry_pathname(entry);
      const char* hard = archive_entry_hardlink(entry);
      const char* soft = archive_entry_filetype(entry) == AE_IFLNK ? archive_entry_symlink(entry) : nullptr;
      for (const char* text : {raw_name, hard, soft}) {
        if (text && std::strlen(text) > kMaxName) {
          return InvalidArchive(archive_path, absl::StrCat("a name or link is over ", kMaxName, " bytes"));
        }
      }
      auto name = Normalize(raw_name ? raw_name : "");
      if (!name) continue;  // nothing outside the archive's own names is read
      if (hard) {
        if (auto target = Normalize(hard); target && files.files_.count(*target)) {
          files.files_[*name] = files.files_[*target];
        }
        continue;
      }
      if (soft) {
        const std::string dir = name->find('/') == std::string::npos ? "" : name->substr(0, name->rfind('/'));
        auto resolved = Normalize(soft[0] == '/' ? std::string(soft) : absl::StrCat(dir, "/", soft));
        if (resolved) files.links_[*name] = *resolved;
        continue;
      }
      if (archive_entry_filetype(entry) != AE_IFREG) continue;
      // A sparse entry's holes cost no bytes here but would be read and sent whole.
      if (archive_entry_sparse_count(entry) > 0) {
        return InvalidArchive(archive_path, absl::StrCat(*name, " is a sparse file"));
      }
      const int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
      if (declared < 0) return InvalidArchive(archive_path, absl::StrCat(*name, " has no size"));
      if (declared > budget) {
        return InvalidArchive(archive_path, absl::StrCat("its files take more than the ", budget / (1 << 20),
                                                         " MiB there is room for in ", work_dir));
      }
      budget -= declared;
      const std::string stored = absl::StrCat(work_dir, "/entry-", count);
      UniqueFd fd(::open(stored.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (!fd.valid()) return ErrnoError("create " + stored);
      if (archive_read_data_into_fd(a.get(), fd.get()) != ARCHIVE_OK) {
        return InvalidArchive(archive_path, absl::StrCat(*name, ": ", ArchiveMessage(a.get())));
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + stored);
      if (st.st_size != declared) {
        return InvalidArchive(archive_path, absl::StrCat(*name, " holds ", st.st_size, " bytes, not ", declared));
      }
      files.files_[*name] = {stored, st.st_size};
    }
    if (result != ARCHIVE_EOF) return InvalidArchive(archive_path, ArchiveMessage(a.get()));
    return files;
  }

  // The file name stands for, after the archive's links.
  std::optional<StoredFile> Find(std::string name) const {
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto file = files_.find(name); file != files_.end()) return file->second;
      auto link = links_.find(name);
      if (link == links_.end()) return std::nullopt;
      name = link->second;
    }
    return std::nullopt;
  }

  std::optional<StoredFile> FindNamed(const std::string& name) const {
    auto normalized = Normalize(name);
    return normalized ? Find(*normalized) : std::nullopt;
  }

  // A JSON document of the archive's.
  StatusOr<std::string> ReadDocument(const std::string& name) const {
    auto file = FindNamed(name);
    if (!file) return InvalidArchive(archive_, absl::StrCat("has no ", name));
    if (file->size > kMaxDocument) {
      return InvalidArchive(archive_, absl::StrCat(name, " is over ", kMaxDocument, " bytes"));
    }
    return ReadFile(file->path);
  }

  // The blob of a descriptor, from blobs/ALGORITHM/HEX, checked against its size and
  // digest. A document's bytes are read into data; a layer stays in its file.
  StatusOr<Blob> CheckedBlob(const std::string& digest, int64_t size, const std::string& media_type,
                             bool document) const {
    if (!image::ValidateDigest(digest).ok() || !absl::StartsWith(digest, "sha256:")) {
      return InvalidArchive(archive_, absl::StrCat("\"", digest.substr(0, 80), "\" is not a sha256 digest"));
    }
    auto file = Find(absl::StrCat("blobs/sha256/", image::DigestHex(digest)));
    if (!file) return InvalidArchive(archive_, absl::StrCat("blob ", digest, " is missing"));
    if (file->size != size) {
      return InvalidArchive(archive_, absl::StrCat("blob ", digest, " is ", file->size, " bytes, not ", size));
    }
    ASSIGN_OR_RETURN(Blob blob, HashedBlob(*file, media_type, document));
    if (blob.digest != digest) return InvalidArchive(archive_, absl::StrCat("blob ", digest, " holds ", blob.digest));
    return blob;
  }

  // The blob a file of the archive makes, named by its own digest (each file hashed
  // once however often it is named).
  StatusOr<Blob> HashedBlob(const StoredFile& file, const std::string& media_type, bool document) const {
    Blob blob{.media_type = media_type, .digest = {}, .size = file.size, .data = {}, .file = {}};
    if (document) {
      if (file.size > kMaxDocument) {
        return InvalidArchive(archive_, absl::StrCat("a document is over ", kMaxDocument, " bytes"));
      }
      ASSIGN_OR_RETURN(blob.data, ReadFile(file.path));
    } else {
      blob.file = file.path;
    }
    if (auto known = digests_.find(file.path); known != digests_.end()) {
      blob.digest = known->second;
      return blob;
    }
    if (document) {
      blob.digest = image::Sha256Of(blob.data);
    } else {
      UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return ErrnoError("open " + file.path);
      image::Sha256 hash;
      char buffer[1 << 16];
      ssize_t n;
      while ((n = ::read(fd.get(), buffer, sizeof(buffer))) > 0) hash.Update(buffer, static_cast<size_t>(n));
      if (n < 0) return ErrnoError("read " + file.path);
      blob.digest = hash.Finish();
    }
    digests_[file.path] = blob.digest;
    return blob;
  }

  const std::string& archive_name() const { return archive_; }

 private:
  static std::string ArchiveMessage(archive* a) {
    const char* message = archive_error_string(a);
    return message ? message : "not a tar archive";
  }

  std::string archive_;
  std::map<std::string, StoredFile> files_;
  std::map<std::string, std::string> links_;
  mutable std::map<std::string, std::string> digests_;  // stored path -> digest
};

std::string TextAt(const Json& json, const char* key) {
  return json.is_object() && json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : "";
}

// INVALID_ARGUMENT for what an image of the archive's (name) made a parser say.
Status InvalidImage(const ArchiveFiles& files, const std::string& name, const Status& said) {
  return InvalidArchive(files.archive_name(), absl::StrCat(name, ": ", said.message()));
}

int64_t SizeAt(const Json& json) {
  return json.is_object() && json.contains("size") && json["size"].is_number_integer() ? json["size"].get<int64_t>()
                                                                                      : -1;
}

// The image's name with a tag; a digest in it is dropped (the registry names what
// is pushed by its own digest).
StatusOr<image::Reference> ImageName(const ArchiveFiles& files, const std::string& text) {
  auto name = image::ParseReference(text);
  if (!name.ok()) {
    return InvalidArchive(files.archive_name(), absl::StrCat("image name \"", text.substr(0, 200), "\": ",
                                                             name.status().message()));
  }
  if (name->tag.empty()) return InvalidArchive(files.archive_name(), absl::StrCat("image ", text, " has no tag"));
  name->digest.clear();
  return *name;
}

// INVALID_ARGUMENT unless the config's platform runs here.
Status CheckPlatform(const ArchiveFiles& files, const image::ImageConfig& config, const std::string& name) {
  const image::Platform host = image::HostPlatform();
  if ((!config.platform.os.empty() && config.platform.os != host.os) ||
      (!config.platform.architecture.empty() && config.platform.architecture != host.architecture)) {
    return InvalidArchive(files.archive_name(), absl::StrCat(name, " is for ", config.platform.String(),
                                                             "; this machine runs ", host.String()));
  }
  return absl::OkStatus();
}

StatusOr<image::ImageConfig> ParseConfig(const ArchiveFiles& files, const Blob& config, const std::string& name) {
  auto parsed = image::ParseImageConfig(config.data);
  if (!parsed.ok()) {
    return InvalidArchive(files.archive_name(), absl::StrCat(name, "'s config: ", parsed.status().message()));
  }
  RETURN_IF_ERROR(CheckPlatform(files, *parsed, name));
  return parsed;
}

Status AddImage(const ArchiveFiles& files, std::vector<ArchiveImage>& images, ArchiveImage image) {
  if (images.size() == kMaxImages) {
    return InvalidArchive(files.archive_name(), absl::StrCat("names more than ", kMaxImages, " images"));
  }
  images.push_back(std::move(image));
  return absl::OkStatus();
}

// An image manifest of the layout's, pointed at by digest (from index.json or an
// index there): its media type (the document's own, which is sent to the registry
// as is, must be one of the two manifest types), config and layers.
StatusOr<std::shared_ptr<const ImageBlobs>> OciImage(const ArchiveFiles& files, const std::string& name,
                                                     Blob manifest_blob) {
  const Json document = Json::parse(manifest_blob.data, nullptr, false);
  std::string media_type = TextAt(document, "mediaType");
  if (media_type.empty()) media_type = manifest_blob.media_type;
  if (media_type.empty()) media_type = image::media_type::kOciManifest;
  if (media_type != image::media_type::kOciManifest && media_type != image::media_type::kDockerManifest) {
    return InvalidArchive(files.archive_name(), absl::StrCat(name, "'s manifest is not an image manifest"));
  }
  manifest_blob.media_type = media_type;
  auto manifest = image::ParseManifest(manifest_blob.data);
  if (!manifest.ok()) return InvalidImage(files, name, manifest.status());
  if (manifest->layers.size() > kMaxLayers) {
    return InvalidArchive(files.archive_name(), absl::StrCat(name, " has more than ", kMaxLayers, " layers"));
  }
  auto blobs = std::make_shared<ImageBlobs>();
  blobs->manifest = std::move(manifest_blob);
  ASSIGN_OR_RETURN(blobs->config, files.CheckedBlob(manifest->config.digest, manifest->config.size,
                                                    manifest->config.media_type, true));
  RETURN_IF_ERROR(ParseConfig(files, blobs->config, name).status());
  for (const auto& layer : manifest->layers) {
    ASSIGN_OR_RETURN(Blob blob, files.CheckedBlob(layer.digest, layer.size, layer.media_type, false));
    blobs->layers.push_back(std::move(blob));
  }
  return std::shared_ptr<const ImageBlobs>(std::move(blobs));
}

// An OCI image layout: index.json names each image (containerd's and Docker's
// io.containerd.image.name, else org.opencontainers.image.ref.name when it is more
// than a bare tag) and points at its manifest, or at an index to choose from.
StatusOr<std::vector<ArchiveImage>> FromOciLayout(const ArchiveFiles& files) {
  ASSIGN_OR_RETURN(std::string index_text, files.ReadDocument("index.json"));
  Json index = Json::parse(index_text, nullptr, false);
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return InvalidArchive(files.archive_name(), "index.json has no manifests list");
  }
  std::vector<ArchiveImage> images;
  std::map<std::string, std::shared_ptr<const ImageBlobs>> by_digest;  // what index.json points at
  for (const auto& entry : index["manifests"]) {
    const Json annotations = entry.is_object() && entry.contains("annotations") ? entry["annotations"] : Json();
    std::string name = TextAt(annotations, "io.containerd.image.name");
    if (name.empty()) {
      name = TextAt(annotations, "org.opencontainers.image.ref.name");
      if (name.find_first_of("/:") == std::string::npos) name.clear();  // "latest" names no image
    }
    if (name.empty()) continue;
    ArchiveImage image;
    ASSIGN_OR_RETURN(image.name, ImageName(files, name));
    const std::string digest = TextAt(entry, "digest");
    if (auto known = by_digest.find(digest); known != by_digest.end()) {
      image.blobs = known->second;
      RETURN_IF_ERROR(AddImage(files, images, std::move(image)));
      continue;
    }
    const std::string media_type = TextAt(entry, "mediaType");
    ASSIGN_OR_RETURN(Blob pointed, files.CheckedBlob(digest, SizeAt(entry), media_type, true));
    auto kind = image::ClassifyManifest(pointed.data, media_type);
    if (!kind.ok()) return InvalidImage(files, name, kind.status());
    if (*kind == image::ManifestKind::kIndex) {
      auto entries = image::ParseIndex(pointed.data);
      if (!entries.ok()) return InvalidImage(files, name, entries.status());
      auto chosen = image::SelectPlatform(*entries, image::HostPlatform());
      if (!chosen.ok()) return InvalidImage(files, name, chosen.status());
      ASSIGN_OR_RETURN(pointed, files.CheckedBlob(chosen->digest, chosen->size, chosen->media_type, true));
    }
    ASSIGN_OR_RETURN(image.blobs, OciImage(files, name, std::move(pointed)));
    by_digest[digest] = image.blobs;
    RETURN_IF_ERROR(AddImage(files, images, std::move(image)));
  }
  return images;
}

// A Docker archive: manifest.json lists each image's config, its uncompressed
// layers and its names; an OCI manifest is made for it.
StatusOr<std::shared_ptr<const ImageBlobs>> DockerImage(const ArchiveFiles& files, const Json& item) {
  const std::string config_name = TextAt(item, "Config");
  auto config_file = files.FindNamed(config_name);
  if (!config_file) return InvalidArchive(files.archive_name(), absl::StrCat("config ", config_name, " is missing"));
  auto blobs = std::make_shared<ImageBlobs>();
  ASSIGN_OR_RETURN(blobs->config, files.HashedBlob(*config_file, kOciConfig, true));
  ASSIGN_OR_RETURN(image::ImageConfig config, ParseConfig(files, blobs->config, config_name));
  if (!item.contains("Layers") || !item["Layers"].is_array() || item["Layers"].size() != config.diff_ids.size() ||
      config.diff_ids.size() > kMaxLayers) {
    return InvalidArchive(files.archive_name(),
                          absl::StrCat(config_name, ": its layers are not the ones its config lists (at most ",
                                       kMaxLayers, ")"));
  }
  Json layer_descriptors = Json::array();
  for (size_t i = 0; i < config.diff_ids.size(); ++i) {
    const std::string layer_name = item["Layers"][i].is_string() ? item["Layers"][i].get<std::string>() : "";
    auto layer_file = files.FindNamed(layer_name);
    if (!layer_file) return InvalidArchive(files.archive_name(), absl::StrCat("layer \"", layer_name, "\" is missing"));
    ASSIGN_OR_RETURN(Blob layer, files.HashedBlob(*layer_file, kOciLayer, false));
    if (layer.digest != config.diff_ids[i]) {
      return InvalidArchive(files.archive_name(), absl::StrCat("layer ", layer_name, " is ", layer.digest, ", not the ",
                                                               config.diff_ids[i], " its config lists"));
    }
    layer_descriptors.push_back({{"mediaType", kOciLayer}, {"digest", layer.digest}, {"size", layer.size}});
    blobs->layers.push_back(std::move(layer));
  }
  Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image::media_type::kOciManifest},
      {"config", {{"mediaType", kOciConfig}, {"digest", blobs->config.digest}, {"size", blobs->config.size}}},
      {"layers", layer_descriptors},
  };
  blobs->manifest = {.media_type = image::media_type::kOciManifest, .digest = {}, .size = 0,
                     .data = manifest.dump(), .file = {}};
  blobs->manifest.digest = image::Sha256Of(blobs->manifest.data);
  blobs->manifest.size = static_cast<int64_t>(blobs->manifest.data.size());
  return std::shared_ptr<const ImageBlobs>(std::move(blobs));
}

StatusOr<std::vector<ArchiveImage>> FromDockerArchive(const ArchiveFiles& files) {
  ASSIGN_OR_RETURN(std::string listing_text, files.ReadDocument("manifest.json"));
  Json listing = Json::parse(listing_text, nullptr, false);
  if (!listing.is_array()) return InvalidArchive(files.archive_name(), "manifest.json is not a list");
  std::vector<ArchiveImage> images;
  for (const auto& item : listing) {
    if (!item.is_object() || !item.contains("RepoTags") || !item["RepoTags"].is_array()) continue;
    ASSIGN_OR_RETURN(std::shared_ptr<const ImageBlobs> blobs, DockerImage(files, item));
    for (const auto& tag : item["RepoTags"]) {
      if (!tag.is_string()) continue;
      ArchiveImage image{.name = {}, .blobs = blobs};
      ASSIGN_OR_RETURN(image.name, ImageName(files, tag.get<std::string>()));
      RETURN_IF_ERROR(AddImage(files, images, std::move(image)));
    }
  }
  return images;
}

}  // namespace

StatusOr<std::vector<ArchiveImage>> ReadImageArchive(const std::string& path, const std::string& work_dir) {
  ASSIGN_OR_RETURN(ArchiveFiles files, ArchiveFiles::Extract(path, work_dir));
  std::vector<ArchiveImage> images;
  // Docker 25 and later write both layouts; the OCI one names its blobs by digest.
  if (files.Find("index.json") && files.Find("oci-layout")) {
    ASSIGN_OR_RETURN(images, FromOciLayout(files));
  } else if (files.Find("manifest.json")) {
    ASSIGN_OR_RETURN(images, FromDockerArchive(files));
  } else {
    return InvalidArchive(path, "neither an OCI image layout (oci-layout, index.json) nor a Docker archive "
                                "(manifest.json)");
  }
  if (images.empty()) {
    return InvalidArchive(path, "holds no image with a name (save it with one: `podman save IMAGE:TAG`, "
                                "`docker save IMAGE:TAG`)");
  }
  return images;
}

}  // namespace berth::cluster

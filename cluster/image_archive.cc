#include "cluster/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
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
constexpr int64_t kMaxDocument = 4 << 20;  // an index, manifest or config
constexpr int kMaxLinkHops = 8;
constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
constexpr char kOciLayer[] = "application/vnd.oci.image.layer.v1.tar";

Status Bad(const std::string& archive, const std::string& what) {
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
    std::unique_ptr<archive, ArchiveReadFree> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
      return Bad(archive_path, ArchiveMessage(a.get()));
    }
    archive_entry* entry = nullptr;
    int result;
    size_t count = 0;
    while ((result = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
      if (++count > kMaxEntries) return Bad(archive_path, absl::StrCat("more than ", kMaxEntries, " entries"));
      const char* raw_name = archive_entry_pathname(entry);
      auto name = Normalize(raw_name ? raw_name : "");
      if (!name) continue;  // nothing outside the archive's own names is read
      if (const char* hard = archive_entry_hardlink(entry)) {
        if (auto target = Normalize(hard); target && files.files_.count(*target)) {
          files.files_[*name] = files.files_[*target];
        }
        continue;
      }
      if (archive_entry_filetype(entry) == AE_IFLNK) {
        const char* target = archive_entry_symlink(entry);
        if (!target) continue;
        const std::string dir = name->find('/') == std::string::npos ? "" : name->substr(0, name->rfind('/'));
        auto resolved = Normalize(target[0] == '/' ? std::string(target) : absl::StrCat(dir, "/", target));
        if (resolved) files.links_[*name] = *resolved;
        continue;
      }
      if (archive_entry_filetype(entry) != AE_IFREG) continue;
      const std::string stored = absl::StrCat(work_dir, "/entry-", count);
      UniqueFd fd(::open(stored.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (!fd.valid()) return ErrnoError("create " + stored);
      if (archive_read_data_into_fd(a.get(), fd.get()) != ARCHIVE_OK) {
        return Bad(archive_path, absl::StrCat(*name, ": ", ArchiveMessage(a.get())));
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + stored);
      files.files_[*name] = {stored, st.st_size};
    }
    if (result != ARCHIVE_EOF) return Bad(archive_path, ArchiveMessage(a.get()));
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

  // A JSON document of the archive's.
  StatusOr<std::string> ReadDocument(const std::string& name) const {
    auto normalized = Normalize(name);
    auto file = normalized ? Find(*normalized) : std::nullopt;
    if (!file) return Bad(archive_, absl::StrCat("has no ", name));
    if (file->size > kMaxDocument) return Bad(archive_, absl::StrCat(name, " is over ", kMaxDocument, " bytes"));
    return ReadFile(file->path);
  }

  // The blob of digest from blobs/ALGORITHM/HEX, checked against the digest.
  StatusOr<Blob> CheckedBlob(const std::string& digest, const std::string& media_type, bool inline_data) const {
    if (!image::ValidateDigest(digest).ok() || !absl::StartsWith(digest, "sha256:")) {
      return Bad(archive_, absl::StrCat("\"", digest, "\" is not a sha256 digest"));
    }
    auto file = Find(absl::StrCat("blobs/sha256/", image::DigestHex(digest)));
    if (!file) return Bad(archive_, absl::StrCat("blob ", digest, " is missing"));
    ASSIGN_OR_RETURN(Blob blob, HashedBlob(*file, media_type, inline_data));
    if (blob.digest != digest) return Bad(archive_, absl::StrCat("blob ", digest, " holds ", blob.digest));
    return blob;
  }

  // The blob a file of the archive makes, named by its own digest.
  StatusOr<Blob> HashedBlob(const StoredFile& file, const std::string& media_type, bool inline_data) const {
    Blob blob{.media_type = media_type, .digest = {}, .size = file.size, .data = {}, .file = {}};
    if (inline_data) {
      if (file.size > kMaxDocument) return Bad(archive_, absl::StrCat("a document is over ", kMaxDocument, " bytes"));
      ASSIGN_OR_RETURN(blob.data, ReadFile(file.path));
      blob.digest = image::Sha256Of(blob.data);
      return blob;
    }
    UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError("open " + file.path);
    image::Sha256 hash;
    char buffer[1 << 16];
    ssize_t n;
    while ((n = ::read(fd.get(), buffer, sizeof(buffer))) > 0) hash.Update(buffer, static_cast<size_t>(n));
    if (n < 0) return ErrnoError("read " + file.path);
    blob.digest = hash.Finish();
    blob.file = file.path;
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
};

std::string TextAt(const Json& json, const char* key) {
  return json.is_object() && json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : "";
}

// The image's name with a tag; a digest in it is dropped (the registry names what
// is pushed by its own digest).
StatusOr<image::Reference> ImageName(const ArchiveFiles& files, const std::string& text) {
  auto name = image::ParseReference(text);
  if (!name.ok()) return Bad(files.archive_name(), absl::StrCat("image name \"", text, "\": ", name.status().message()));
  if (name->tag.empty()) return Bad(files.archive_name(), absl::StrCat("image ", text, " has no tag"));
  name->digest.clear();
  return *name;
}

// INVALID_ARGUMENT unless the config's platform runs here.
Status CheckPlatform(const ArchiveFiles& files, const Blob& config, const std::string& name) {
  auto parsed = image::ParseImageConfig(config.data);
  if (!parsed.ok()) return Bad(files.archive_name(), absl::StrCat(name, "'s config: ", parsed.status().message()));
  const image::Platform host = image::HostPlatform();
  if ((!parsed->platform.os.empty() && parsed->platform.os != host.os) ||
      (!parsed->platform.architecture.empty() && parsed->platform.architecture != host.architecture)) {
    return Bad(files.archive_name(), absl::StrCat(name, " is for ", parsed->platform.String(), "; this machine runs ",
                                                  host.String()));
  }
  return absl::OkStatus();
}

// An OCI image layout: index.json names each image (containerd's and Docker's
// io.containerd.image.name, else org.opencontainers.image.ref.name when it is more
// than a bare tag) and points at its manifest, or at an index to choose from.
StatusOr<std::vector<ArchiveImage>> FromOciLayout(const ArchiveFiles& files) {
  ASSIGN_OR_RETURN(std::string index_text, files.ReadDocument("index.json"));
  Json index = Json::parse(index_text, nullptr, false);
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return Bad(files.archive_name(), "index.json has no manifests list");
  }
  std::vector<ArchiveImage> images;
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
    std::string media_type = TextAt(entry, "mediaType");
    std::string digest = TextAt(entry, "digest");
    ASSIGN_OR_RETURN(Blob pointed, files.CheckedBlob(digest, media_type, true));
    ASSIGN_OR_RETURN(image::ManifestKind kind, image::ClassifyManifest(pointed.data, media_type));
    if (kind == image::ManifestKind::kIndex) {
      auto entries = image::ParseIndex(pointed.data);
      if (!entries.ok()) return Bad(files.archive_name(), absl::StrCat(name, ": ", entries.status().message()));
      auto chosen = image::SelectPlatform(*entries, image::HostPlatform());
      if (!chosen.ok()) return Bad(files.archive_name(), absl::StrCat(name, ": ", chosen.status().message()));
      media_type = chosen->media_type;
      ASSIGN_OR_RETURN(pointed, files.CheckedBlob(chosen->digest, media_type, true));
    }
    if (media_type.empty()) media_type = TextAt(Json::parse(pointed.data, nullptr, false), "mediaType");
    if (media_type.empty()) media_type = image::media_type::kOciManifest;
    pointed.media_type = media_type;
    auto manifest = image::ParseManifest(pointed.data);
    if (!manifest.ok()) return Bad(files.archive_name(), absl::StrCat(name, ": ", manifest.status().message()));
    image.manifest = std::move(pointed);
    ASSIGN_OR_RETURN(image.config, files.CheckedBlob(manifest->config.digest, manifest->config.media_type, true));
    RETURN_IF_ERROR(CheckPlatform(files, image.config, name));
    for (const auto& layer : manifest->layers) {
      ASSIGN_OR_RETURN(Blob blob, files.CheckedBlob(layer.digest, layer.media_type, false));
      image.layers.push_back(std::move(blob));
    }
    images.push_back(std::move(image));
  }
  return images;
}

// A Docker archive: manifest.json lists each image's config, its uncompressed
// layers and its names; an OCI manifest is made for it.
StatusOr<std::vector<ArchiveImage>> FromDockerArchive(const ArchiveFiles& files) {
  ASSIGN_OR_RETURN(std::string listing_text, files.ReadDocument("manifest.json"));
  Json listing = Json::parse(listing_text, nullptr, false);
  if (!listing.is_array()) return Bad(files.archive_name(), "manifest.json is not a list");
  std::vector<ArchiveImage> images;
  for (const auto& item : listing) {
    if (!item.is_object() || !item.contains("RepoTags") || !item["RepoTags"].is_array()) continue;
    const std::string config_name = TextAt(item, "Config");
    auto config_file = Normalize(config_name) ? files.Find(*Normalize(config_name)) : std::nullopt;
    if (!config_file) return Bad(files.archive_name(), absl::StrCat("config ", config_name, " is missing"));
    ASSIGN_OR_RETURN(Blob config, files.HashedBlob(*config_file, kOciConfig, true));
    auto parsed = image::ParseImageConfig(config.data);
    if (!parsed.ok()) return Bad(files.archive_name(), absl::StrCat(config_name, ": ", parsed.status().message()));
    if (!item.contains("Layers") || !item["Layers"].is_array() || item["Layers"].size() != parsed->diff_ids.size()) {
      return Bad(files.archive_name(), absl::StrCat(config_name, ": its layers are not the ones its config lists"));
    }
    std::vector<Blob> layers;
    Json layer_descriptors = Json::array();
    for (size_t i = 0; i < parsed->diff_ids.size(); ++i) {
      const std::string layer_name = item["Layers"][i].is_string() ? item["Layers"][i].get<std::string>() : "";
      auto layer_file = Normalize(layer_name) ? files.Find(*Normalize(layer_name)) : std::nullopt;
      if (!layer_file) return Bad(files.archive_name(), absl::StrCat("layer \"", layer_name, "\" is missing"));
      ASSIGN_OR_RETURN(Blob layer, files.HashedBlob(*layer_file, kOciLayer, false));
      if (layer.digest != parsed->diff_ids[i]) {
        return Bad(files.archive_name(), absl::StrCat("layer ", layer_name, " is ", layer.digest, ", not the ",
                                                      parsed->diff_ids[i], " its config lists"));
      }
      layer_descriptors.push_back({{"mediaType", kOciLayer}, {"digest", layer.digest}, {"size", layer.size}});
      layers.push_back(std::move(layer));
    }
    Json manifest = {
        {"schemaVersion", 2},
        {"mediaType", image::media_type::kOciManifest},
        {"config", {{"mediaType", kOciConfig}, {"digest", config.digest}, {"size", config.size}}},
        {"layers", layer_descriptors},
    };
    Blob manifest_blob{.media_type = image::media_type::kOciManifest, .digest = {}, .size = 0,
                       .data = manifest.dump(), .file = {}};
    manifest_blob.digest = image::Sha256Of(manifest_blob.data);
    manifest_blob.size = static_cast<int64_t>(manifest_blob.data.size());
    for (const auto& tag : item["RepoTags"]) {
      if (!tag.is_string()) continue;
      ArchiveImage image{.name = {}, .config = config, .layers = layers, .manifest = manifest_blob};
      ASSIGN_OR_RETURN(image.name, ImageName(files, tag.get<std::string>()));
      RETURN_IF_ERROR(CheckPlatform(files, image.config, tag.get<std::string>()));
      images.push_back(std::move(image));
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
    return Bad(path, "neither an OCI image layout (oci-layout, index.json) nor a Docker archive (manifest.json)");
  }
  if (images.empty()) {
    return Bad(path, "holds no image with a name (save it with one: `podman save IMAGE:TAG`, `docker save IMAGE:TAG`)");
  }
  return images;
}

}  // namespace berth::cluster

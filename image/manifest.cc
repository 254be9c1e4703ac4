#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "image/digest.h"

namespace berth::image {
namespace {

using nlohmann::json;

StatusOr<json> ParseObject(absl::string_view body, absl::string_view what) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  return doc;
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> StringList(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

StatusOr<Descriptor> ParseDescriptor(const json& obj, absl::string_view where) {
  if (!obj.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": descriptor is not an object"));
  Descriptor d;
  d.media_type = StringField(obj, "mediaType");
  d.digest = StringField(obj, "digest");
  Status valid = ValidateDigest(d.digest);
  if (!valid.ok()) return Annotate(valid, where);
  auto size = obj.find("size");
  if (size == obj.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": descriptor ", d.digest, " has no valid size"));
  }
  d.size = size->get<int64_t>();
  if (auto p = obj.find("platform"); p != obj.end() && p->is_object()) {
    d.platform = Platform{StringField(*p, "os"), StringField(*p, "architecture"),
                          StringField(*p, "variant")};
  }
  return d;
}

std::string NormalizedVariant(const Platform& p) {
  if (p.architecture == "arm64" && (p.variant.empty() || p.variant == "8")) return "v8";
  if (p.architecture == "arm" && p.variant.empty()) return "v7";
  if (p.architecture == "amd64" && p.variant == "v1") return "";
  return p.variant;
}

}  // namespace

std::string Platform::String() const {
  std::string out = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&out, "/", variant);
  return out;
}

Platform HostPlatform() {
  struct utsname u;
  ::uname(&u);
  absl::string_view machine = u.machine;
  Platform p;
  if (machine == "x86_64") p.architecture = "amd64";
  else if (machine == "aarch64") p.architecture = "arm64";
  else if (absl::StartsWith(machine, "armv7")) p = {"linux", "arm", "v7"};
  else if (absl::StartsWith(machine, "armv6")) p = {"linux", "arm", "v6"};
  else if (machine == "i686" || machine == "i386") p.architecture = "386";
  else p.architecture = std::string(machine);
  return p;
}

namespace {

bool IsIndexType(absl::string_view type) { return type == media_type::kOciIndex || type == media_type::kDockerList; }
bool IsManifestType(absl::string_view type) {
  return type == media_type::kOciManifest || type == media_type::kDockerManifest;
}

// A document that reads as an index and as a manifest (CVE-2021-41190) could be
// pulled as one and verified as the other: it is refused whatever it says it is.
Status CheckUnambiguous(const json& doc, absl::string_view header_type) {
  const bool index_fields = doc.contains("manifests");
  const bool manifest_fields = doc.contains("layers") || doc.contains("config");
  if (index_fields && manifest_fields) {
    return absl::InvalidArgumentError(
        "manifest is ambiguous: it has both an index's \"manifests\" and an image manifest's \"layers\"/\"config\"");
  }
  std::string declared = doc.contains("mediaType") && doc["mediaType"].is_string() ? doc["mediaType"].get<std::string>()
                                                                                     : "";
  if (!declared.empty() && (IsIndexType(header_type) || IsManifestType(header_type)) &&
      IsIndexType(declared) != IsIndexType(header_type)) {
    return absl::InvalidArgumentError(absl::StrCat("manifest is ambiguous: its mediaType is ", declared,
                                                   " but the registry served it as ", header_type));
  }
  if ((IsIndexType(declared) && manifest_fields) || (IsManifestType(declared) && index_fields)) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest is ambiguous: its mediaType is ", declared, " but it has the other kind's fields"));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<ManifestKind> ClassifyManifest(absl::string_view body, absl::string_view content_type) {
  ASSIGN_OR_RETURN(json doc, ParseObject(body, "manifest"));
  // Content-Type may carry parameters ("...; charset=utf-8").
  absl::string_view header_type = content_type.substr(0, content_type.find(';'));
  RETURN_IF_ERROR(CheckUnambiguous(doc, header_type));
  std::string type = StringField(doc, "mediaType");
  if (type.empty()) type = std::string(header_type);
  if (IsIndexType(type)) return ManifestKind::kIndex;
  if (IsManifestType(type)) return ManifestKind::kManifest;
  if (type == media_type::kDockerSchema1 || type == "application/vnd.docker.distribution.manifest.v1+json" ||
      (doc.contains("schemaVersion") && doc["schemaVersion"] == 1)) {
    return absl::FailedPreconditionError(
        "Docker schema 1 manifests are not supported (deprecated by Docker and Kubernetes)");
  }
  if (doc.contains("manifests")) return ManifestKind::kIndex;
  if (doc.contains("layers") && doc.contains("config")) return ManifestKind::kManifest;
  return absl::InvalidArgumentError(absl::StrCat("unknown manifest media type \"", type, "\""));
}

StatusOr<std::vector<Descriptor>> ParseIndex(absl::string_view body) {
  ASSIGN_OR_RETURN(json doc, ParseObject(body, "image index"));
  auto manifests = doc.find("manifests");
  if (manifests == doc.end() || !manifests->is_array()) {
    return absl::InvalidArgumentError("image index has no \"manifests\" list");
  }
  std::vector<Descriptor> out;
  for (const auto& entry : *manifests) {
    ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(entry, "image index entry"));
    out.push_back(std::move(d));
  }
  return out;
}

StatusOr<Descriptor> SelectPlatform(const std::vector<Descriptor>& entries, const Platform& platform) {
  std::vector<std::string> offered;
  for (const auto& entry : entries) {
    if (!entry.platform) continue;
    offered.push_back(entry.platform->String());
    if (entry.platform->os == platform.os && entry.platform->architecture == platform.architecture &&
        NormalizedVariant(*entry.platform) == NormalizedVariant(platform)) {
      return entry;
    }
  }
  return absl::NotFoundError(absl::StrCat("no image for platform ", platform.String(),
                                          " (the index offers: ", absl::StrJoin(offered, ", "), ")"));
}

StatusOr<ImageManifest> ParseManifest(absl::string_view body) {
  ASSIGN_OR_RETURN(json doc, ParseObject(body, "image manifest"));
  ImageManifest m;
  auto config = doc.find("config");
  if (config == doc.end()) return absl::InvalidArgumentError("image manifest has no config");
  ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "manifest config"));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) {
    return absl::InvalidArgumentError("image manifest has no \"layers\" list");
  }
  for (const auto& layer : *layers) {
    ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(layer, "manifest layer"));
    m.layers.push_back(std::move(d));
  }
  return m;
}

StatusOr<ImageConfig> ParseImageConfig(absl::string_view body) {
  ASSIGN_OR_RETURN(json doc, ParseObject(body, "image config"));
  ImageConfig c;
  c.raw = std::string(body);
  c.platform = Platform{StringField(doc, "os"), StringField(doc, "architecture"),
                        StringField(doc, "variant")};
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) {
    return absl::InvalidArgumentError("image config has no rootfs");
  }
  c.diff_ids = StringList(*rootfs, "diff_ids");
  for (const auto& id : c.diff_ids) {
    Status valid = ValidateDigest(id);
    if (!valid.ok()) return Annotate(valid, "image config diff_ids");
  }
  if (auto it = doc.find("config"); it != doc.end() && it->is_object()) {
    const json& cfg = *it;
    c.user = StringField(cfg, "User");
    c.env = StringList(cfg, "Env");
    c.entrypoint = StringList(cfg, "Entrypoint");
    c.cmd = StringList(cfg, "Cmd");
    c.working_dir = StringField(cfg, "WorkingDir");
    c.stop_signal = StringField(cfg, "StopSignal");
    if (auto labels = cfg.find("Labels"); labels != cfg.end() && labels->is_object()) {
      for (auto l = labels->begin(); l != labels->end(); ++l) {
        if (l->is_string()) c.labels[l.key()] = l->get<std::string>();
      }
    }
    if (auto volumes = cfg.find("Volumes"); volumes != cfg.end() && volumes->is_object()) {
      for (auto v = volumes->begin(); v != volumes->end(); ++v) c.volumes.push_back(v.key());
    }
  }
  return c;
}

StatusOr<Compression> LayerCompression(absl::string_view media_type) {
  if (absl::EndsWith(media_type, "+gzip") || absl::EndsWith(media_type, ".tar.gzip") ||
      media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return Compression::kGzip;
  }
  if (absl::EndsWith(media_type, "+zstd")) return Compression::kZstd;
  if (absl::EndsWith(media_type, ".tar") || media_type == "application/vnd.docker.image.rootfs.diff.tar") {
    return Compression::kNone;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported layer media type \"", media_type, "\""));
}

std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> chain;
  for (const auto& diff : diff_ids) {
    chain.push_back(chain.empty() ? diff : Sha256Of(absl::StrCat(chain.back(), " ", diff)));
  }
  return chain;
}

}  // namespace berth::image

#include "pods/checkpoint_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/file_util.h"
#include "base/json_field.h"
#include "base/unique_fd.h"
#include "image/layer_unpacker.h"

namespace berth::pods {
namespace {

struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveDiskDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<struct archive_entry, EntryDeleter>;

std::string Rfc3339(int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", absl::FromUnixNanos(unix_nanos), absl::UTCTimeZone());
}

int64_t ParseRfc3339(const std::string& text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return 0;
  return absl::ToUnixNanos(time);
}

// overlayfs keeps its bookkeeping in these xattrs ("trusted." as root, "user." in a
// user namespace); they describe the upper directory, not the container's files.
bool IsOverlayXattr(absl::string_view name) {
  return absl::StartsWith(name, "trusted.overlay.") || absl::StartsWith(name, "user.overlay.");
}

bool IsOpaqueDirectory(const std::string& path) {
  char value[2] = {};
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    if (::lgetxattr(path.c_str(), name, value, sizeof value) == 1 && value[0] == 'y') return true;
  }
  return false;
}

// A tar being written, entry by entry, from files on disk.
class TarWriter {
 public:
  Status Open(const std::string& path) {
    writer_.reset(archive_write_new());
    disk_.reset(archive_read_disk_new());
    if (!writer_ || !disk_) return absl::ResourceExhaustedError("libarchive: out of memory");
    // No user or group name lookups: numeric ids are what the container has.
    archive_write_set_format_pax_restricted(writer_.get());
    if (archive_write_open_filename(writer_.get(), path.c_str()) != ARCHIVE_OK) return Error("create " + path);
    return absl::OkStatus();
  }

  // The file at source, stored under name as it is on disk (xattrs too, less
  // overlayfs's own).
  Status AddFile(const std::string& source, const std::string& name) {
    Entry entry(archive_entry_new());
    archive_entry_copy_sourcepath(entry.get(), source.c_str());
    if (archive_read_disk_entry_from_file(disk_.get(), entry.get(), -1, nullptr) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("read ", source, ": ", archive_error_string(disk_.get())));
    }
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_uname(entry.get(), nullptr);
    archive_entry_set_gname(entry.get(), nullptr);
    DropOverlayXattrs(entry.get());
    if (archive_entry_filetype(entry.get()) == AE_IFSOCK) return absl::OkStatus();  // tar cannot hold one
    if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK) return Error("write " + name);
    if (archive_entry_filetype(entry.get()) != AE_IFREG || archive_entry_size(entry.get()) == 0) {
      return absl::OkStatus();
    }
    UniqueFd file(::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file) return ErrnoError("open " + source);
    char buffer[1 << 16];
    for (;;) {
      ssize_t n = ::read(file.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read " + source);
      if (n == 0) break;
      if (archive_write_data(writer_.get(), buffer, static_cast<size_t>(n)) != n) return Error("write " + name);
    }
    return absl::OkStatus();
  }

  // An empty regular file (OCI whiteouts are such files).
  Status AddMarker(const std::string& name) {
    Entry entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), 0);
    if (archive_write_header(writer_.get(), entry.get()) != ARCHIVE_OK) return Error("write " + name);
    return absl::OkStatus();
  }

  Status Close() {
    if (archive_write_close(writer_.get()) != ARCHIVE_OK) return Error("finish the tar");
    return absl::OkStatus();
  }

 private:
  static void DropOverlayXattrs(struct archive_entry* entry) {
    struct Xattr {
      std::string name;
      std::string value;
    };
    std::vector<Xattr> kept;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    archive_entry_xattr_reset(entry);
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      if (!IsOverlayXattr(name)) kept.push_back({name, std::string(static_cast<const char*>(value), size)});
    }
    archive_entry_xattr_clear(entry);
    for (const Xattr& x : kept) archive_entry_xattr_add_entry(entry, x.name.c_str(), x.value.data(), x.value.size());
  }

  Status Error(const std::string& what) {
    return absl::InternalError(absl::StrCat(what, ": ", archive_error_string(writer_.get())));
  }

  std::unique_ptr<struct archive, ArchiveWriteDeleter> writer_;
  std::unique_ptr<struct archive, ArchiveDiskDeleter> disk_;
};

// Every path under dir, relative, parents before children, in name order (the
// same tree always makes the same tar).
StatusOr<std::vector<std::string>> WalkTree(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(dir, std::filesystem::directory_options::none, error);
  if (error) return absl::InternalError(absl::StrCat("read ", dir, ": ", error.message()));
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (error) return absl::InternalError(absl::StrCat("read ", dir, ": ", error.message()));
    paths.push_back(std::filesystem::relative(it->path(), dir).string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

std::string CheckpointedContainerJson(const CheckpointedContainer& c) {
  nlohmann::json json = {
      {"id", c.id},
      {"name", c.name},
      {"rootfsImage", c.image},
      {"rootfsImageRef", c.image_ref},
      {"rootfsImageName", c.image_name},
      {"runtime", c.runtime},
      {"createdTime", Rfc3339(c.created_at)},
      {"checkpointedTime", Rfc3339(c.checkpointed_at)},
      {"restoredTime", "0001-01-01T00:00:00Z"},
      {"restored", false},
  };
  return json.dump(2);
}

StatusOr<CheckpointedContainer> ParseCheckpointedContainer(absl::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return absl::InvalidArgumentError("config.dump is not a JSON object");
  auto string_field = [&](const char* key) { return JsonString(json, key); };
  CheckpointedContainer c;
  c.id = string_field("id");
  c.name = string_field("name");
  c.image = string_field("rootfsImage");
  c.image_ref = string_field("rootfsImageRef");
  c.image_name = string_field("rootfsImageName");
  c.runtime = string_field("runtime");
  c.created_at = ParseRfc3339(string_field("createdTime"));
  c.checkpointed_at = ParseRfc3339(string_field("checkpointedTime"));
  if (c.image_ref.empty() && c.image.empty()) {
    return absl::InvalidArgumentError("config.dump names no image (rootfsImageRef or rootfsImage)");
  }
  return c;
}

std::string PodOptionsJson(const std::map<std::string, std::string>& archives) {
  return nlohmann::json({{"version", kPodCheckpointVersion}, {"containers", archives}}).dump(2);
}

StatusOr<std::map<std::string, std::string>> ParsePodOptions(absl::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  const nlohmann::json* containers = JsonMember(json, "containers");
  if (!containers || !containers->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(kPodOptionsFile, " lists no containers"));
  }
  if (JsonInteger<int>(json, "version") != kPodCheckpointVersion) {
    const nlohmann::json* version = JsonMember(json, "version");
    return absl::InvalidArgumentError(absl::StrCat(kPodOptionsFile, ": format version ",
                                                   version ? version->dump() : "(none)", " is not one berth reads (",
                                                   kPodCheckpointVersion, ")"));
  }
  std::map<std::string, std::string> archives;
  for (const auto& [name, file] : containers->items()) {
    std::string archive = file.is_string() ? file.get<std::string>() : "";
    // A plain file name in the checkpoint's directory, nothing that leads out of it.
    if (archive.empty() || archive[0] == '.' || archive.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(kPodOptionsFile, ": container ", name, " has no archive in the checkpoint directory"));
    }
    archives[name] = std::move(archive);
  }
  return archives;
}

StatusOr<std::vector<std::string>> WriteRootfsDiff(const std::string& upper_dir, const std::string& tar_path) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, WalkTree(upper_dir));
  TarWriter tar;
  RETURN_IF_ERROR(tar.Open(tar_path));
  std::vector<std::string> deleted;
  for (const std::string& path : paths) {
    const std::string source = upper_dir + "/" + path;
    struct stat st;
    if (::lstat(source.c_str(), &st) != 0) return ErrnoError("stat " + source);
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
      // overlayfs's whiteout: the image's file at this path was deleted.
      std::filesystem::path p(path);
      std::string parent = p.parent_path().string();
      RETURN_IF_ERROR(tar.AddMarker((parent.empty() ? "" : parent + "/") + ".wh." + p.filename().string()));
      deleted.push_back(path);
      continue;
    }
    RETURN_IF_ERROR(tar.AddFile(source, path));
    if (S_ISDIR(st.st_mode) && IsOpaqueDirectory(source)) {
      // Opaque: nothing of the image shows through below this directory.
      RETURN_IF_ERROR(tar.AddMarker(path + "/.wh..wh..opq"));
    }
  }
  RETURN_IF_ERROR(tar.Close());
  return deleted;
}

Status WriteArchive(const std::string& dir, const std::string& archive_path) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, WalkTree(dir));
  const std::string partial = archive_path + ".partial";
  TarWriter tar;
  Status written = tar.Open(partial);
  for (size_t i = 0; written.ok() && i < paths.size(); ++i) written = tar.AddFile(dir + "/" + paths[i], paths[i]);
  if (written.ok()) written = tar.Close();
  if (written.ok() && ::rename(partial.c_str(), archive_path.c_str()) != 0) {
    written = ErrnoError("rename " + partial + " to " + archive_path);
  }
  if (!written.ok()) ::unlink(partial.c_str());
  return written;
}

Status ExtractArchive(const std::string& archive_path, const std::string& dir) {
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  auto unpacked = image::UnpackLayer(archive_path, dir);
  if (!unpacked.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint archive ", archive_path, " cannot be unpacked: ", unpacked.status().message()));
  }
  for (const char* required : {kCheckpointConfigFile, kCheckpointSpecFile, kCheckpointImagesDir}) {
    struct stat st;
    if (::lstat((dir + "/" + required).c_str(), &st) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(archive_path, " is not a container checkpoint: it has no ", required));
    }
  }
  return absl::OkStatus();
}

bool NamesCheckpointArchive(const std::string& image) {
  if (image.empty() || image[0] != '/') return false;
  struct stat st;
  return ::stat(image.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace berth::pods

#include "cluster/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace berth::cluster {

namespace {

// 2024-01-01T00:00:00Z: a fixed mtime keeps digests stable.
constexpr int64_t kFixedMtime = 1704067200;

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Where the tar stream goes: a file, hashed on the way.
struct Sink {
  int fd = -1;
  image::Sha256 hash;
  int64_t size = 0;
  bool failed = false;
};

la_ssize_t WriteToSink(archive*, void* opaque, const void* buffer, size_t length) {
  auto* sink = static_cast<Sink*>(opaque);
  const char* bytes = static_cast<const char*>(buffer);
  for (size_t done = 0; done < length;) {
    ssize_t n = ::write(sink->fd, bytes + done, length - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      sink->failed = true;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  sink->hash.Update(buffer, length);
  sink->size += static_cast<int64_t>(length);
  return static_cast<la_ssize_t>(length);
}

Status ArchiveError(archive* a, const std::string& what) {
  const char* message = archive_error_string(a);
  return absl::InternalError(absl::StrCat(what, ": ", message ? message : "libarchive error"));
}

Status WriteEntry(archive* a, const LayerEntry& e) {
  std::unique_ptr<archive_entry, ArchiveFree> entry(archive_entry_new());
  archive_entry* ae = entry.get();
  archive_entry_copy_pathname(ae, e.path.c_str());
  archive_entry_set_perm(ae, e.mode & 07777);
  archive_entry_set_mtime(ae, kFixedMtime, 0);
  UniqueFd file;
  int64_t size = 0;
  switch (e.kind) {
    case LayerEntry::Kind::kDir:
      archive_entry_set_filetype(ae, AE_IFDIR);
      break;
    case LayerEntry::Kind::kSymlink:
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_copy_symlink(ae, e.target.c_str());
      break;
    case LayerEntry::Kind::kFile:
      archive_entry_set_filetype(ae, AE_IFREG);
      size = static_cast<int64_t>(e.content.size());
      if (!e.host_file.empty()) {
        file.Reset(::open(e.host_file.c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st;
        if (!file || ::fstat(file.get(), &st) != 0) return ErrnoError(absl::StrCat("open ", e.host_file));
        size = st.st_size;
      }
      archive_entry_set_size(ae, size);
      break;
  }
  if (archive_write_header(a, ae) != ARCHIVE_OK) return ArchiveError(a, absl::StrCat("tar entry ", e.path));
  if (e.kind != LayerEntry::Kind::kFile) return absl::OkStatus();
  auto write = [&](const char* data, size_t length) -> Status {
    while (length > 0) {
      la_ssize_t n = archive_write_data(a, data, length);
      if (n <= 0) return ArchiveError(a, absl::StrCat("tar entry ", e.path));
      data += n;
      length -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  };
  if (!file) return write(e.content.data(), e.content.size());
  std::string buffer(1 << 20, '\0');
  for (int64_t left = size; left > 0;) {
    ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError(absl::StrCat("read ", e.host_file));
    RETURN_IF_ERROR(write(buffer.data(), static_cast<size_t>(n)));
    left -= n;
  }
  return absl::OkStatus();
}

std::string Architecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

Blob JsonBlob(const std::string& media_type, const nlohmann::json& json) {
  Blob blob;
  blob.media_type = media_type;
  blob.data = json.dump();
  blob.digest = image::Sha256Of(blob.data);
  blob.size = static_cast<int64_t>(blob.data.size());
  return blob;
}

}  // namespace

LayerEntry DirEntry(std::string path, mode_t mode) {
  return {.kind = LayerEntry::Kind::kDir, .path = std::move(path), .mode = mode};
}
LayerEntry FileEntry(std::string path, std::string content, mode_t mode) {
  return {.kind = LayerEntry::Kind::kFile, .path = std::move(path), .content = std::move(content), .mode = mode};
}
LayerEntry HostFileEntry(std::string path, std::string host_file, mode_t mode) {
  return {.kind = LayerEntry::Kind::kFile, .path = std::move(path), .host_file = std::move(host_file), .mode = mode};
}
LayerEntry SymlinkEntry(std::string path, std::string target) {
  return {.kind = LayerEntry::Kind::kSymlink, .path = std::move(path), .target = std::move(target), .mode = 0777};
}

StatusOr<BuiltImage> BuildImage(const ImageContent& content, const std::string& work_dir) {
  static std::atomic<int> counter{0};
  BuiltImage image;
  image.layer.media_type = "application/vnd.oci.image.layer.v1.tar";
  image.layer.file = absl::StrCat(work_dir, "/", counter++, ".tar");
  UniqueFd out(::open(image.layer.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return ErrnoError(absl::StrCat("create ", image.layer.file));
  Sink sink;
  sink.fd = out.get();
  std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 10240);
  if (archive_write_open2(a.get(), &sink, nullptr, &WriteToSink, nullptr, nullptr) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open the layer");
  }
  for (const auto& entry : content.files) RETURN_IF_ERROR(WriteEntry(a.get(), entry));
  if (archive_write_close(a.get()) != ARCHIVE_OK || sink.failed) return ArchiveError(a.get(), "finish the layer");
  image.layer.digest = sink.hash.Finish();
  image.layer.size = sink.size;

  nlohmann::json config = {
      {"architecture", Architecture()},
      {"os", "linux"},
      {"created", "2024-01-01T00:00:00Z"},
      {"config", {{"Env", content.env}, {"Entrypoint", content.entrypoint}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {image.layer.digest}}}},
  };
  image.config = JsonBlob("application/vnd.oci.image.config.v1+json", config);
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", image.config.media_type}, {"digest", image.config.digest}, {"size", image.config.size}}},
      {"layers",
       {{{"mediaType", image.layer.media_type}, {"digest", image.layer.digest}, {"size", image.layer.size}}}},
  };
  image.manifest = JsonBlob("application/vnd.oci.image.manifest.v1+json", manifest);
  return image;
}

}  // namespace berth::cluster

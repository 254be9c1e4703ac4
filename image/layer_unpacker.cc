#include "image/layer_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zstd.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/unique_fd.h"
#include "image/digest.h"

namespace berth::image {
namespace {

constexpr size_t kChunk = 256 * 1024;

// ---------------------------------------------------------------- byte sources

// The uncompressed tar stream, whatever the compression; hashes what it yields.
class TarStream {
 public:
  TarStream(int fd, uint64_t max_bytes) : fd_(fd), max_bytes_(max_bytes), in_(kChunk), out_(kChunk) {}
  ~TarStream() {
    if (zstd_ != nullptr) ZSTD_freeDCtx(zstd_);
  }

  Status Init() {
    // The compression is read off the first bytes, not the media type: registries
    // are known to label plain tars as gzip.
    ASSIGN_OR_RETURN(size_t n, Fill());
    if (n >= 2 && static_cast<unsigned char>(in_[0]) == 0x1f && static_cast<unsigned char>(in_[1]) == 0x8b) {
      kind_ = Kind::kGzip;
      isal_inflate_init(&gzip_);
      gzip_.crc_flag = ISAL_GZIP;
    } else if (n >= 4 && static_cast<unsigned char>(in_[0]) == 0x28 &&
               static_cast<unsigned char>(in_[1]) == 0xb5 && static_cast<unsigned char>(in_[2]) == 0x2f &&
               static_cast<unsigned char>(in_[3]) == 0xfd) {
      kind_ = Kind::kZstd;
      zstd_ = ZSTD_createDCtx();
      if (zstd_ == nullptr) return absl::ResourceExhaustedError("ZSTD_createDCtx failed");
    }
    return absl::OkStatus();
  }

  // Next chunk of the tar stream; empty at the end.
  StatusOr<absl::string_view> Next() {
    absl::string_view chunk;
    switch (kind_) {
      case Kind::kNone: {
        if (in_pos_ == in_len_) {
          ASSIGN_OR_RETURN(size_t n, Fill());
          if (n == 0) return absl::string_view();
        }
        chunk = absl::string_view(in_.data() + in_pos_, in_len_ - in_pos_);
        in_pos_ = in_len_;
        break;
      }
      case Kind::kGzip: {
        ASSIGN_OR_RETURN(chunk, NextGzip());
        break;
      }
      case Kind::kZstd: {
        ASSIGN_OR_RETURN(chunk, NextZstd());
        break;
      }
    }
    yielded_ += chunk.size();
    if (max_bytes_ > 0 && yielded_ > max_bytes_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("layer expands to more than ", max_bytes_, " bytes (images.max_layer_bytes)"));
    }
    hasher_.Update(chunk);
    return chunk;
  }

  std::string Digest() { return hasher_.Finish(); }

 private:
  enum class Kind { kNone, kGzip, kZstd };

  // Reads more compressed input; returns bytes now available.
  StatusOr<size_t> Fill() {
    if (in_pos_ < in_len_) return in_len_ - in_pos_;
    for (;;) {
      ssize_t n = ::read(fd_, in_.data(), in_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read layer blob");
      in_pos_ = 0;
      in_len_ = static_cast<size_t>(n);
      return in_len_;
    }
  }

  StatusOr<absl::string_view> NextGzip() {
    for (;;) {
      if (gzip_.block_state == ISAL_BLOCK_FINISH) {
        // Concatenated gzip members form one stream.
        uint8_t* next = gzip_.next_in;
        uint32_t avail = gzip_.avail_in;
        if (avail == 0) {
          ASSIGN_OR_RETURN(size_t n, Fill());
          if (n == 0) return absl::string_view();
          next = reinterpret_cast<uint8_t*>(in_.data() + in_pos_);
          avail = static_cast<uint32_t>(n);
          in_pos_ = in_len_;
        }
        isal_inflate_reset(&gzip_);
        gzip_.crc_flag = ISAL_GZIP;
        gzip_.next_in = next;
        gzip_.avail_in = avail;
      }
      if (gzip_.avail_in == 0) {
        ASSIGN_OR_RETURN(size_t n, Fill());
        if (n == 0) return absl::InvalidArgumentError("layer's gzip stream is truncated");
        gzip_.next_in = reinterpret_cast<uint8_t*>(in_.data() + in_pos_);
        gzip_.avail_in = static_cast<uint32_t>(n);
        in_pos_ = in_len_;
      }
      gzip_.next_out = reinterpret_cast<uint8_t*>(out_.data());
      gzip_.avail_out = static_cast<uint32_t>(out_.size());
      int rc = isal_inflate(&gzip_);
      if (rc != ISAL_DECOMP_OK) {
        return absl::InvalidArgumentError(absl::StrCat("layer's gzip stream is corrupt (isa-l error ", rc, ")"));
      }
      size_t produced = out_.size() - gzip_.avail_out;
      if (produced > 0) return absl::string_view(out_.data(), produced);
    }
  }

  StatusOr<absl::string_view> NextZstd() {
    for (;;) {
      if (zstd_in_.pos == zstd_in_.size) {
        ASSIGN_OR_RETURN(size_t n, Fill());
        if (n == 0) {
          if (zstd_last_ != 0) return absl::InvalidArgumentError("layer's zstd stream is truncated");
          return absl::string_view();
        }
        zstd_in_ = {in_.data() + in_pos_, n, 0};
        in_pos_ = in_len_;
      }
      ZSTD_outBuffer out = {out_.data(), out_.size(), 0};
      zstd_last_ = ZSTD_decompressStream(zstd_, &out, &zstd_in_);
      if (ZSTD_isError(zstd_last_)) {
        return absl::InvalidArgumentError(
            absl::StrCat("layer's zstd stream is corrupt: ", ZSTD_getErrorName(zstd_last_)));
      }
      if (out.pos > 0) return absl::string_view(out_.data(), out.pos);
    }
  }

  int fd_;
  uint64_t max_bytes_;     // 0: no cap
  uint64_t yielded_ = 0;   // uncompressed bytes handed out so far
  Kind kind_ = Kind::kNone;
  std::vector<char> in_;
  size_t in_pos_ = 0, in_len_ = 0;
  std::vector<char> out_;
  inflate_state gzip_{};
  ZSTD_DCtx* zstd_ = nullptr;
  ZSTD_inBuffer zstd_in_{nullptr, 0, 0};
  size_t zstd_last_ = 0;
  Sha256 hasher_;
};

struct ReadContext {
  TarStream* stream;
  Status error;
};

la_ssize_t ReadCallback(struct archive* a, void* user, const void** buffer) {
  auto* ctx = static_cast<ReadContext*>(user);
  auto chunk = ctx->stream->Next();
  if (!chunk.ok()) {
    ctx->error = chunk.status();
    archive_set_error(a, EIO, "%s", std::string(chunk.status().message()).c_str());
    return -1;
  }
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// ---------------------------------------------------------------- safe paths

Status Hostile(absl::string_view entry, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("refusing layer: entry \"", entry, "\" ", why));
}

// An entry's path as components below the layer root; "" is the root itself.
StatusOr<std::string> CleanPath(absl::string_view raw) {
  if (raw.empty()) return Hostile(raw, "has an empty name");
  if (raw.front() == '/') return Hostile(raw, "has an absolute path");
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(raw, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return Hostile(raw, "contains \"..\"");
    parts.push_back(part);
  }
  return absl::StrJoin(parts, "/");
}

int OpenAt2(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

class LayerWriter {
 public:
  explicit LayerWriter(UniqueFd root) : root_(std::move(root)) {}

  Status Apply(struct archive* a, struct archive_entry* entry, uint64_t* file_bytes);
  Status FinishDirectoryTimes();

 private:
  // The directory rel (created with its parents if missing), opened O_PATH.
  StatusOr<UniqueFd> OpenDir(const std::string& rel, absl::string_view entry);
  // Removes whatever is at parent/name (recursively for a directory).
  Status RemoveAt(int parent, const std::string& name);
  Status SetMetadata(int fd, struct archive_entry* entry, absl::string_view name);
  Status SetXattrs(int fd, struct archive_entry* entry, absl::string_view name);

  UniqueFd root_;
  struct DirTimes {
    std::string rel;
    struct timespec times[2];
  };
  std::vector<DirTimes> dir_times_;
};

StatusOr<UniqueFd> LayerWriter::OpenDir(const std::string& rel, absl::string_view entry) {
  if (rel.empty()) {
    UniqueFd fd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return ErrnoError("dup layer root");
    return fd;
  }
  UniqueFd fd(OpenAt2(root_.get(), rel, O_PATH | O_DIRECTORY, kBeneath));
  if (fd) return fd;
  if (errno == EXDEV || errno == ELOOP) {
    return Hostile(entry, "goes through a symlink that leaves the layer");
  }
  if (errno == ENOTDIR) {
    return absl::InvalidArgumentError(absl::StrCat("layer entry \"", entry, "\": \"", rel, "\" is not a directory"));
  }
  if (errno != ENOENT) return ErrnoError(absl::StrCat("open ", rel, " in layer"));
  size_t slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  ASSIGN_OR_RETURN(UniqueFd parent_fd, OpenDir(parent, entry));
  if (::mkdirat(parent_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(absl::StrCat("mkdir ", rel, " in layer"));
  }
  UniqueFd created(OpenAt2(root_.get(), rel, O_PATH | O_DIRECTORY, kBeneath));
  if (!created) {
    if (errno == EXDEV || errno == ELOOP) return Hostile(entry, "goes through a symlink that leaves the layer");
    return ErrnoError(absl::StrCat("open ", rel, " in layer"));
  }
  return created;
}

Status LayerWriter::RemoveAt(int parent, const std::string& name) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? absl::OkStatus() : ErrnoError(absl::StrCat("stat ", name));
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoError(absl::StrCat("open ", name));
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return ErrnoError(absl::StrCat("read ", name));
    }
    std::vector<std::string> children;
    while (struct dirent* d = ::readdir(dir)) {
      std::string child = d->d_name;
      if (child != "." && child != "..") children.push_back(child);
    }
    Status status;
    for (const auto& child : children) {
      status = RemoveAt(::dirfd(dir), child);
      if (!status.ok()) break;
    }
    ::closedir(dir);
    RETURN_IF_ERROR(status);
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) return ErrnoError(absl::StrCat("rmdir ", name));
    return absl::OkStatus();
  }
  if (::unlinkat(parent, name.c_str(), 0) != 0) return ErrnoError(absl::StrCat("unlink ", name));
  return absl::OkStatus();
}

Status LayerWriter::SetXattrs(int fd, struct archive_entry* entry, absl::string_view name) {
  const char* key;
  const void* value;
  size_t size;
  archive_entry_xattr_reset(entry);
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    absl::string_view k = key;
    // Overlay's own attributes would let a layer forge whiteouts, redirects or
    // opaque directories that it did not declare the OCI way.
    if (absl::StartsWith(k, "trusted.overlay.") || absl::StartsWith(k, "user.overlay.")) {
      return Hostile(name, absl::StrCat("sets the overlayfs attribute ", k));
    }
    // SELinux labels are the host policy's business, not the image's.
    if (!absl::StartsWith(k, "user.") && !absl::StartsWith(k, "trusted.") && k != "security.capability") continue;
    if (::fsetxattr(fd, key, value, size, 0) != 0 && errno != ENOTSUP) {
      return ErrnoError(absl::StrCat("set xattr ", k, " on ", name));
    }
  }
  return absl::OkStatus();
}

Status LayerWriter::SetMetadata(int fd, struct archive_entry* entry, absl::string_view name) {
  if (::fchown(fd, static_cast<uid_t>(archive_entry_uid(entry)), static_cast<gid_t>(archive_entry_gid(entry))) != 0) {
    return ErrnoError(absl::StrCat("chown ", name));
  }
  // After chown, which clears set-id bits.
  if (::fchmod(fd, archive_entry_perm(entry) & 07777) != 0) return ErrnoError(absl::StrCat("chmod ", name));
  return SetXattrs(fd, entry, name);
}

Status LayerWriter::Apply(struct archive* a, struct archive_entry* entry, uint64_t* file_bytes) {
  const char* raw_name = archive_entry_pathname(entry);
  absl::string_view raw = raw_name ? raw_name : "";
  ASSIGN_OR_RETURN(std::string rel, CleanPath(raw));
  mode_t type = archive_entry_filetype(entry);
  const char* hardlink = archive_entry_hardlink(entry);
  if (rel.empty()) {
    // The root entry ("./") carries nothing a layer may change, and must not try to
    // be anything but a directory.
    if (type != AE_IFDIR || hardlink != nullptr) return Hostile(raw, "tries to replace the layer root");
    return absl::OkStatus();
  }

  size_t slash = rel.rfind('/');
  std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);

  // OCI whiteouts.
  if (absl::StartsWith(base, ".wh.")) {
    ASSIGN_OR_RETURN(UniqueFd parent_fd, OpenDir(parent, raw));
    if (base == ".wh..wh..opq") {
      UniqueFd dir(OpenAt2(parent_fd.get(), ".", O_RDONLY | O_DIRECTORY, kBeneath));
      if (!dir) return ErrnoError(absl::StrCat("open ", parent));
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return ErrnoError(absl::StrCat("mark ", parent, " opaque"));
      }
      return absl::OkStatus();
    }
    std::string victim = base.substr(4);
    if (victim.empty() || victim == "." || victim == ".." || absl::StartsWith(victim, ".wh.")) {
      return Hostile(raw, "is a whiteout of an invalid name");
    }
    RETURN_IF_ERROR(RemoveAt(parent_fd.get(), victim));
    if (::mknodat(parent_fd.get(), victim.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return ErrnoError(absl::StrCat("create whiteout for ", rel));
    }
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(UniqueFd parent_fd, OpenDir(parent, raw));
  const int pfd = parent_fd.get();
  struct timespec times[2] = {{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)},
                              {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};

  if (hardlink != nullptr) {
    ASSIGN_OR_RETURN(std::string target, CleanPath(hardlink));
    if (target.empty()) return Hostile(raw, "is a hard link to the layer root");
    UniqueFd target_fd(OpenAt2(root_.get(), target, O_PATH | O_NOFOLLOW, kBeneath));
    if (!target_fd) {
      if (errno == EXDEV || errno == ELOOP) return Hostile(raw, "is a hard link through a symlink that leaves the layer");
      return ErrnoError(absl::StrCat("hard link ", rel, " -> ", target));
    }
    RETURN_IF_ERROR(RemoveAt(pfd, base));
    if (::linkat(target_fd.get(), "", pfd, base.c_str(), AT_EMPTY_PATH) != 0) {
      return ErrnoError(absl::StrCat("hard link ", rel, " -> ", target));
    }
    return absl::OkStatus();
  }

  switch (type) {
    case AE_IFDIR: {
      struct stat st;
      bool is_dir = ::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      if (!is_dir) {
        RETURN_IF_ERROR(RemoveAt(pfd, base));
        if (::mkdirat(pfd, base.c_str(), 0700) != 0) return ErrnoError(absl::StrCat("mkdir ", rel));
      }
      UniqueFd dir(::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir) return ErrnoError(absl::StrCat("open ", rel));
      RETURN_IF_ERROR(SetMetadata(dir.get(), entry, rel));
      // Children written later would bump the mtime: set it once all are in.
      dir_times_.push_back({rel, {times[0], times[1]}});
      return absl::OkStatus();
    }
    case AE_IFREG: {
      RETURN_IF_ERROR(RemoveAt(pfd, base));
      UniqueFd file(::openat(pfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!file) return ErrnoError(absl::StrCat("create ", rel));
      const void* block;
      size_t size;
      la_int64_t offset;
      int rc;
      while ((rc = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
        const char* p = static_cast<const char*>(block);
        while (size > 0) {
          ssize_t n = ::pwrite(file.get(), p, size, offset);
          if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError(absl::StrCat("write ", rel));
          }
          p += n;
          size -= static_cast<size_t>(n);
          offset += n;
        }
      }
      if (rc != ARCHIVE_EOF) {
        return absl::InvalidArgumentError(absl::StrCat("layer entry \"", raw, "\": ", archive_error_string(a)));
      }
      // Sparse files end in a hole that no block covers.
      la_int64_t declared = archive_entry_size(entry);
      if (::ftruncate(file.get(), declared) != 0) return ErrnoError(absl::StrCat("truncate ", rel));
      *file_bytes += static_cast<uint64_t>(declared);
      RETURN_IF_ERROR(SetMetadata(file.get(), entry, rel));
      if (::futimens(file.get(), times) != 0) return ErrnoError(absl::StrCat("set times of ", rel));
      return absl::OkStatus();
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr || *target == '\0') return Hostile(raw, "is a symlink with no target");
      RETURN_IF_ERROR(RemoveAt(pfd, base));
      // A symlink's target is only text here; nothing below ever follows it out.
      if (::symlinkat(target, pfd, base.c_str()) != 0) return ErrnoError(absl::StrCat("symlink ", rel));
      if (::fchownat(pfd, base.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                     static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoError(absl::StrCat("chown ", rel));
      }
      if (::utimensat(pfd, base.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoError(absl::StrCat("set times of ", rel));
      }
      return absl::OkStatus();
    }
    case AE_IFIFO: {
      RETURN_IF_ERROR(RemoveAt(pfd, base));
      if (::mknodat(pfd, base.c_str(), S_IFIFO | 0600, 0) != 0) return ErrnoError(absl::StrCat("mkfifo ", rel));
      if (::fchownat(pfd, base.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                     static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) != 0 ||
          ::fchmodat(pfd, base.c_str(), archive_entry_perm(entry) & 07777, 0) != 0) {
        return ErrnoError(absl::StrCat("set owner and mode of ", rel));
      }
      return absl::OkStatus();
    }
    case AE_IFCHR:
    case AE_IFBLK:
      // Device nodes belong to the runtime's /dev, never to an image.
      return Hostile(raw, "is a device node");
    case AE_IFSOCK:
      return absl::OkStatus();
    default:
      return Hostile(raw, absl::StrCat("has unknown file type ", type));
  }
}

Status LayerWriter::FinishDirectoryTimes() {
  for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
    UniqueFd dir(OpenAt2(root_.get(), it->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, kBeneath));
    // A directory removed by a later entry has no times to keep.
    if (!dir) continue;
    if (::futimens(dir.get(), it->times) != 0) return ErrnoError(absl::StrCat("set times of ", it->rel));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<UnpackedLayer> UnpackLayer(const std::string& blob_path, const std::string& target_dir,
                                    uint64_t max_bytes) {
  UniqueFd blob(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!blob) return ErrnoError(absl::StrCat("open layer blob ", blob_path));
  UniqueFd root(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return ErrnoError(absl::StrCat("open layer directory ", target_dir));

  TarStream stream(blob.get(), max_bytes);
  RETURN_IF_ERROR(stream.Init());
  ReadContext ctx{&stream, absl::OkStatus()};
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open(a.get(), &ctx, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    if (!ctx.error.ok()) return ctx.error;
    return absl::InvalidArgumentError(absl::StrCat("layer is not a tar archive: ", archive_error_string(a.get())));
  }
  LayerWriter writer(std::move(root));
  UnpackedLayer result;
  for (;;) {
    struct archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      if (!ctx.error.ok()) return ctx.error;
      return absl::InvalidArgumentError(absl::StrCat("layer tar is malformed: ", archive_error_string(a.get())));
    }
    Status applied = writer.Apply(a.get(), entry, &result.file_bytes);
    // A failure of the stream itself (a cap, a read error) is the cause, not the entry.
    if (!applied.ok()) return ctx.error.ok() ? applied : ctx.error;
  }
  RETURN_IF_ERROR(writer.FinishDirectoryTimes());
  // The diff ID covers the whole stream, including padding after the last entry.
  for (;;) {
    ASSIGN_OR_RETURN(absl::string_view chunk, stream.Next());
    if (chunk.empty()) break;
  }
  result.diff_id = stream.Digest();
  return result;
}

}  // namespace berth::image

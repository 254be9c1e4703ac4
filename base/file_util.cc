#include "base/file_util.h"

#include "base/mount_points.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/cleanup/cleanup.h"
#include "base/unique_fd.h"

namespace berth {

StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", path));
  std::string data;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("read ", path));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

namespace {

Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write ", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, absl::string_view data, mode_t mode, Durability durability) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  std::string tmp = absl::StrCat(path, ".tmp-XXXXXX");
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("create temporary file for ", path));
  bool renamed = false;
  absl::Cleanup remove_tmp = [&] {
    if (!renamed) ::unlink(tmp.c_str());
  };
  if (::fchmod(fd.get(), mode) != 0) return ErrnoError(absl::StrCat("chmod ", tmp));
  RETURN_IF_ERROR(WriteAll(fd.get(), data, tmp));
  const bool sync = durability == Durability::kPowerLoss;
  if (sync && ::fsync(fd.get()) != 0) return ErrnoError(absl::StrCat("fsync ", tmp));
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(absl::StrCat("rename to ", path));
  renamed = true;
  if (!sync) return absl::OkStatus();
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd) ::fsync(dirfd.get());
  return absl::OkStatus();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path current;
  for (const auto& part : p) {
    current /= part;
    if (::mkdir(current.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoError(absl::StrCat("mkdir ", current.string()));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat ", path));
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::OkStatus();
}

Status RemoveAll(const std::string& path) {
  // Removing across a mount point would delete what the mount shows (a volume's
  // files, a host directory): refused, whoever forgot to unmount.
  auto mounted = MountPointsUnder(path);
  if (mounted.ok() && !mounted->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("remove ", path, ": ", mounted->back(), " is still mounted under it"));
  }
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                        absl::StrCat("remove ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

StatusOr<UniqueFd> SealedCopy(int fd, const char* name) {
  UniqueFd copy(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return ErrnoError("memfd_create");
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError(absl::StrCat("stat ", name));
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(copy.get(), fd, &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError(absl::StrCat("copy ", name));
  }
  // The kernel refuses F_SEAL_WRITE (EBUSY) while pages of the file are still pinned,
  // and sendfile's pipe may hold a few for a moment after it returns; it waits for
  // them only briefly itself, so on a loaded machine the seal is asked for again.
  for (int attempt = 0;; ++attempt) {
    if (::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0) break;
    if (errno != EBUSY || attempt == 50) return ErrnoError(absl::StrCat("seal ", name));
    ::usleep(2000);
  }
  return copy;
}

StatusOr<UniqueFd> LockFileExclusively(const std::string& path, absl::string_view in_use_message) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return ErrnoError(absl::StrCat("open ", path));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return absl::AlreadyExistsError(in_use_message);
    return ErrnoError(absl::StrCat("lock ", path));
  }
  return fd;
}

}  // namespace berth

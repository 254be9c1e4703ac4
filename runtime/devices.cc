#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/mounts.h"

namespace berth::runtime {

namespace {

std::vector<Device> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    Device d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"/", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Status CreateDevice(int root_fd, const Device& device) {
  auto [dir, name] = SplitPath(device.path);
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("bad device path ", device.path));
  }
  ASSIGN_OR_RETURN(UniqueFd parent, OpenInRoot(root_fd, dir, Create::kDirectory));
  mode_t type = device.type == 'b' ? S_IFBLK : device.type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = device.file_mode.value_or(0666) & 07777;
  if (::unlinkat(parent.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("replace ", device.path));
  }
  dev_t number = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
  if (::mknodat(parent.get(), name.c_str(), type | perm, number) != 0) {
    if (errno != EPERM) return ErrnoError(absl::StrCat("mknod ", device.path));
    // Without mknod (say, a nodev mount), bind the host's node instead.
    UniqueFd file(::openat(parent.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file) return ErrnoError(absl::StrCat("create ", device.path));
    ASSIGN_OR_RETURN(UniqueFd target, OpenInRoot(root_fd, device.path, Create::kNo));
    if (::mount(device.path.c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return ErrnoError(absl::StrCat("bind device ", device.path));
    }
    return absl::OkStatus();
  }
  if (::fchmodat(parent.get(), name.c_str(), perm, 0) != 0) {
    return ErrnoError(absl::StrCat("chmod ", device.path));
  }
  if (::fchownat(parent.get(), name.c_str(), device.uid.value_or(0), device.gid.value_or(0),
                 AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(absl::StrCat("chown ", device.path));
  }
  return absl::OkStatus();
}

}  // namespace

Status CreateDevices(int root_fd, const Spec& spec) {
  for (const auto& device : DefaultDevices()) {
    bool overridden = false;
    for (const auto& d : spec.devices) overridden |= d.path == device.path;
    if (!overridden) RETURN_IF_ERROR(CreateDevice(root_fd, device));
  }
  for (const auto& device : spec.devices) RETURN_IF_ERROR(CreateDevice(root_fd, device));
  return absl::OkStatus();
}

Status CreateDevSymlinks(int root_fd) {
  ASSIGN_OR_RETURN(UniqueFd dev, OpenInRoot(root_fd, "/dev", Create::kDirectory));
  const std::pair<const char*, const char*> links[] = {
      {"fd", "/proc/self/fd"},        {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
      {"stderr", "/proc/self/fd/2"},  {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
  };
  for (const auto& [name, target] : links) {
    if (::symlinkat(target, dev.get(), name) != 0 && errno != EEXIST) {
      return ErrnoError(absl::StrCat("symlink /dev/", name));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime

#include "runtime/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"

namespace berth::runtime {

std::string IdMapText(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) absl::StrAppend(&text, m.container_id, " ", m.host_id, " ", m.length, "\n");
  return text;
}

std::optional<uint32_t> HostId(const std::vector<IdMapping>& mappings, uint32_t container_id) {
  for (const auto& m : mappings) {
    if (container_id >= m.container_id && container_id - m.container_id < m.length) {
      return m.host_id + (container_id - m.container_id);
    }
  }
  return std::nullopt;
}

Status CheckIdMappings(const std::vector<IdMapping>& mappings, const char* what) {
  for (const auto& m : mappings) {
    if (m.length == 0) return absl::InvalidArgumentError(absl::StrCat(what, " mapping has length 0"));
    uint64_t end = std::max<uint64_t>(uint64_t{m.container_id} + m.length, uint64_t{m.host_id} + m.length);
    if (end > uint64_t{UINT32_MAX}) {
      return absl::InvalidArgumentError(absl::StrCat(what, " mapping ", m.container_id, " ", m.host_id, " ", m.length,
                                                     " runs past the last id (4294967294)"));
    }
  }
  return absl::OkStatus();
}

StatusOr<NamespaceHolder> NamespaceHolder::Spawn(int flags) {
  int release[2];
  if (::pipe2(release, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd read_end(release[0]), write_end(release[1]);
  // A raw clone, like fork without glibc's atfork handlers: the child makes only
  // system calls, so it is safe whatever the other threads held.
  long pid = ::syscall(SYS_clone, static_cast<unsigned long>(CLONE_NEWUSER | flags | SIGCHLD), nullptr, nullptr,
                       nullptr, 0UL);
  if (pid < 0) return ErrnoError("clone a process in new namespaces");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::close(release[1]);
    char byte;
    while (::read(release[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  return NamespaceHolder(static_cast<pid_t>(pid), std::move(write_end));
}

NamespaceHolder::NamespaceHolder(NamespaceHolder&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), release_(std::move(other.release_)) {}

NamespaceHolder::~NamespaceHolder() {
  if (pid_ <= 0) return;
  release_.Reset();
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

Status NamespaceHolder::MapIds(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
  RETURN_IF_ERROR(CheckIdMappings(uids, "uid"));
  RETURN_IF_ERROR(CheckIdMappings(gids, "gid"));
  // One write each: the kernel takes a map file's whole content at once, and only once.
  for (auto [file, mappings] : {std::pair{"uid_map", &uids}, std::pair{"gid_map", &gids}}) {
    std::string path = absl::StrCat("/proc/", pid_, "/", file);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    std::string text = IdMapText(*mappings);
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return ErrnoError(absl::StrCat("write ", file, " \"", absl::StripTrailingAsciiWhitespace(text), "\""));
    }
  }
  return absl::OkStatus();
}

std::string NamespaceHolder::NamespacePath(const char* kind) const {
  return absl::StrCat("/proc/", pid_, "/ns/", kind);
}

StatusOr<UniqueFd> NamespaceHolder::OpenNamespace(const char* kind) const {
  std::string path = NamespacePath(kind);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", path));
  return fd;
}

StatusOr<UniqueFd> NewUserNamespace(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids) {
  ASSIGN_OR_RETURN(NamespaceHolder holder, NamespaceHolder::Spawn(0));
  RETURN_IF_ERROR(holder.MapIds(uids, gids));
  return holder.OpenNamespace("user");
}

namespace {

StatusOr<UniqueFd> CloneIdmapped(const std::string& source, int userns_fd, bool recursive) {
  unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), tree_flags));
  if (!tree) return ErrnoError(absl::StrCat("clone the mount at ", source));
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) != 0) {
    return ErrnoError(absl::StrCat("idmap the mount of ", source, " (its filesystem may not support idmapped mounts)"));
  }
  return tree;
}

Status Attach(int tree, const std::string& target) {
  if (::move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return ErrnoError(absl::StrCat("attach an idmapped mount at ", target));
  }
  return absl::OkStatus();
}

}  // namespace

Status MountIdmapped(const std::string& source, int userns_fd, const std::string& target, bool recursive) {
  ASSIGN_OR_RETURN(UniqueFd tree, CloneIdmapped(source, userns_fd, recursive));
  return Attach(tree.get(), target);
}

Status MountIdmappedOverlay(const IdmappedOverlay& overlay, int userns_fd, const std::string& staging_dir,
                            const std::string& target) {
  RETURN_IF_ERROR(MakeDirs(staging_dir, 0700));
  if (::chown(overlay.upper_dir.c_str(), overlay.upper_owner, overlay.upper_group) != 0) {
    return ErrnoError(absl::StrCat("give the writable layer ", overlay.upper_dir, " to the pod's root"));
  }
  std::vector<std::string> attached;
  absl::Cleanup detach = [&] {
    for (const std::string& path : attached) (void)::umount2(path.c_str(), MNT_DETACH);
  };
  auto attach = [&](const std::string& source, const std::string& name) -> StatusOr<std::string> {
    std::string point = absl::StrCat(staging_dir, "/", name);
    if (::mkdir(point.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError(absl::StrCat("mkdir ", point));
    RETURN_IF_ERROR(MountIdmapped(source, userns_fd, point, /*recursive=*/false));
    attached.push_back(point);
    return point;
  };
  std::vector<std::string> lowers;
  for (size_t i = 0; i < overlay.lower_dirs.size(); ++i) {
    ASSIGN_OR_RETURN(std::string lower, attach(overlay.lower_dirs[i], absl::StrCat(i)));
    lowers.push_back(lower);
  }
  std::string data = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"), ",upperdir=", overlay.upper_dir,
                                  ",workdir=", overlay.work_dir);
  if (!overlay.options.empty()) absl::StrAppend(&data, ",", overlay.options);
  if (::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) != 0) {
    return ErrnoError(absl::StrCat("mount an overlay of idmapped layers at ", target));
  }
  return absl::OkStatus();
}

bool SupportsIdmappedMounts(const std::string& dir) {
  const std::vector<IdMapping> probe_map = {{0, 65536, 65536}};
  auto userns = NewUserNamespace(probe_map, probe_map);
  if (!userns.ok()) return false;
  std::string probe = dir + "/.idmap-probe-XXXXXX";
  if (::mkdtemp(probe.data()) == nullptr) return false;
  for (const char* sub : {"/lower", "/upper", "/work", "/merged"}) (void)::mkdir((probe + sub).c_str(), 0755);
  IdmappedOverlay overlay;
  overlay.lower_dirs = {probe + "/lower"};
  overlay.upper_dir = probe + "/upper";
  overlay.work_dir = probe + "/work";
  overlay.upper_owner = overlay.upper_group = 65536;
  std::string merged = probe + "/merged";
  bool supported = MountIdmappedOverlay(overlay, userns->get(), probe + "/staging", merged).ok();
  if (supported) (void)::umount2(merged.c_str(), MNT_DETACH);
  (void)RemoveAll(probe);
  return supported;
}

}  // namespace berth::runtime

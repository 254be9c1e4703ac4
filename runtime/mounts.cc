#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "runtime/devices.h"
#include "runtime/sysctl.h"

namespace berth::runtime {

namespace {

int Openat2(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how)));
}

constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

struct MountOptions {
  unsigned long flags = 0;
  std::vector<unsigned long> propagation;
  std::vector<std::string> data;
  bool bind = false;
  bool recursive = false;
  // rro / rrw: read-only (or read-write) for every mount below the target too.
  bool recursive_readonly = false;
  bool recursive_readwrite = false;
  std::string unsupported;  // the first option berth-runtime recognises but cannot honour
};

MountOptions ParseOptions(const std::vector<std::string>& options) {
  struct Flag {
    bool clear;
    unsigned long flag;
  };
  static const std::map<std::string, Flag> kFlags = {
      {"ro", {false, MS_RDONLY}},        {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},    {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},      {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},    {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}}, {"async", {true, MS_SYNCHRONOUS}},
      {"dirsync", {false, MS_DIRSYNC}},  {"remount", {false, MS_REMOUNT}},
      {"mand", {false, MS_MANDLOCK}},    {"nomand", {true, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},  {"atime", {true, MS_NOATIME}},
      {"nodiratime", {false, MS_NODIRATIME}}, {"diratime", {true, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}}, {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}}, {"nostrictatime", {true, MS_STRICTATIME}},
  };
  static const std::map<std::string, unsigned long> kPropagation = {
      {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},     {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},       {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  MountOptions out;
  for (const auto& option : options) {
    if (option == "bind") {
      out.bind = true;
    } else if (option == "rbind") {
      out.bind = out.recursive = true;
    } else if (auto f = kFlags.find(option); f != kFlags.end()) {
      if (f->second.clear) {
        out.flags &= ~f->second.flag;
      } else {
        out.flags |= f->second.flag;
      }
    } else if (auto p = kPropagation.find(option); p != kPropagation.end()) {
      out.propagation.push_back(p->second);
    } else if (option == "rro") {
      out.recursive_readonly = true;
      out.recursive_readwrite = false;
    } else if (option == "rrw") {
      out.recursive_readwrite = true;
      out.recursive_readonly = false;
    } else if (option == "tmpcopyup" || option == "idmap" || option == "ridmap") {
      // Refused rather than ignored: the mount would not be what the spec says.
      if (out.unsupported.empty()) out.unsupported = option;
    } else {
      out.data.push_back(option);
    }
  }
  return out;
}

// Flags the kernel keeps on a bind remount only if restated.
unsigned long LockedFlags(const std::string& path) {
  struct statvfs s;
  if (::statvfs(path.c_str(), &s) != 0) return 0;
  unsigned long flags = 0;
  if (s.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

Status DoMount(const std::string& source, const std::string& target, const char* type,
               unsigned long flags, const std::string& data, absl::string_view what) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoError(what);
  }
  return absl::OkStatus();
}

constexpr unsigned long kRemountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                       MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
                                       MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK;

// Mounts one spec entry on its destination inside the rootfs.
Status MountEntry(const RootfsContext& context, int root_fd, const Mount& m) {
  MountOptions opts = ParseOptions(m.options);
  if (!opts.unsupported.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mount option \"", opts.unsupported, "\" on ", m.destination,
                     " is not supported by berth-runtime"));
  }
  bool bind = opts.bind || m.type == "bind";
  std::string what = absl::StrCat("mount ", m.type.empty() ? "bind" : m.type, " ", m.source,
                                  " on ", m.destination);
  Create kind = Create::kDirectory;
  if (bind) {
    struct stat st;
    if (::stat(m.source.c_str(), &st) != 0) return ErrnoError(absl::StrCat(what, ": source"));
    if (!S_ISDIR(st.st_mode)) kind = Create::kFile;
  }
  ASSIGN_OR_RETURN(UniqueFd target_fd, OpenInRoot(root_fd, m.destination, kind));
  std::string target = FdPath(target_fd.get());
  auto reopen = [&]() -> Status {
    // The old fd names the covered directory; re-resolve to reach the new mount.
    ASSIGN_OR_RETURN(target_fd, OpenInRoot(root_fd, m.destination, Create::kNo));
    target = FdPath(target_fd.get());
    return absl::OkStatus();
  };

  if (m.type == "cgroup" && !context.cgroup_v2_host) {
    // v1: a tmpfs holding a bind of each hierarchy's container cgroup, as runc does.
    unsigned long flags = opts.flags & kRemountable;
    RETURN_IF_ERROR(DoMount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", what));
    RETURN_IF_ERROR(reopen());
    for (const auto& [name, dir] : context.cgroup_dirs) {
      if (::mkdirat(target_fd.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat(what, ": mkdir ", name));
      }
      ASSIGN_OR_RETURN(UniqueFd sub, OpenInRoot(root_fd, absl::StrCat(m.destination, "/", name), Create::kNo));
      RETURN_IF_ERROR(DoMount(dir, FdPath(sub.get()), nullptr, MS_BIND | MS_REC, "", what));
      ASSIGN_OR_RETURN(sub, OpenInRoot(root_fd, absl::StrCat(m.destination, "/", name), Create::kNo));
      RETURN_IF_ERROR(DoMount("", FdPath(sub.get()), nullptr,
                              MS_BIND | MS_REMOUNT | flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, "", what));
    }
    if (flags & MS_RDONLY) {
      RETURN_IF_ERROR(DoMount("", target, nullptr,
                              MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", what));
    }
    return absl::OkStatus();
  }

  if (bind) {
    RETURN_IF_ERROR(DoMount(m.source, target, nullptr, MS_BIND | (opts.recursive ? MS_REC : 0), "", what));
    unsigned long remount = opts.flags & kRemountable;
    if (remount != 0) {
      RETURN_IF_ERROR(reopen());
      RETURN_IF_ERROR(DoMount("", target, nullptr,
                              MS_BIND | MS_REMOUNT | remount | LockedFlags(m.source), "",
                              absl::StrCat(what, ": remount")));
    }
  } else {
    const char* type = m.type == "cgroup" ? "cgroup2" : m.type.c_str();
    std::string source = m.source.empty() ? m.type : m.source;
    RETURN_IF_ERROR(DoMount(source, target, type, opts.flags, absl::StrJoin(opts.data, ","), what));
  }
  for (unsigned long propagation : opts.propagation) {
    RETURN_IF_ERROR(reopen());
    RETURN_IF_ERROR(DoMount("", target, nullptr, propagation, "", absl::StrCat(what, ": propagation")));
  }
  if (opts.recursive_readonly || opts.recursive_readwrite) {
    // A remount only changes the top mount; mount_setattr (Linux 5.12) reaches the
    // mounts below it as well, such as a tmpfs mounted inside a host directory.
    RETURN_IF_ERROR(reopen());
    struct mount_attr attr = {};
    if (opts.recursive_readonly) attr.attr_set = MOUNT_ATTR_RDONLY;
    if (opts.recursive_readwrite) attr.attr_clr = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(target_fd.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
      return ErrnoError(absl::StrCat(what, errno == ENOSYS ? ": recursive read-only mounts need Linux 5.12"
                                                           : ": make recursively read-only"));
    }
  }
  return absl::OkStatus();
}

Status PivotRoot(const std::string& root) {
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root) return ErrnoError("open /");
  UniqueFd new_root(::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!new_root) return ErrnoError(absl::StrCat("open ", root));
  if (::fchdir(new_root.get()) != 0) return ErrnoError("fchdir rootfs");
  // pivot_root(".", ".") stacks the old root on top of the new one; it is then
  // detached, after being made a slave so the unmount cannot reach the host.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoError(absl::StrCat("pivot_root ", root));
  if (::fchdir(old_root.get()) != 0) return ErrnoError("fchdir old root");
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) return ErrnoError("make old root rslave");
  if (::umount2(".", MNT_DETACH) != 0) return ErrnoError("detach old root");
  if (::chdir("/") != 0) return ErrnoError("chdir /");
  return absl::OkStatus();
}

// The mount point path sits on: the longest mount point that is a prefix of it.
StatusOr<std::string> MountPointOf(const std::string& path) {
  ASSIGN_OR_RETURN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  std::string best = "/";
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    // Octal escapes (\040 for a space) are rare in mount points; those paths simply
    // never match, and the root's mount is used.
    std::string point(fields[4]);
    bool prefix = point == "/" || path == point || absl::StartsWith(path, point + "/");
    if (prefix && point.size() > best.size()) best = point;
  }
  return best;
}

// The container's /dev/null, opened without following a link and checked to be the
// null device. Where /dev is a volume, /dev/null may be a link to anything (a host
// control file such as /proc/sys/kernel/core_pattern); bound over a masked path, that
// would make the file writable in the container (CVE-2025-31133).
StatusOr<UniqueFd> OpenNullDevice() {
  UniqueFd null(::open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!null) return ErrnoError("open the container's /dev/null to mask paths with");
  struct stat st;
  if (::fstat(null.get(), &st) != 0) return ErrnoError("stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    return absl::FailedPreconditionError(
        "the container's /dev/null is not the null device (is /dev a volume?): masked paths cannot be masked with it");
  }
  return null;
}

// After pivot_root every path is inside the container, so plain paths are safe.
Status MaskPath(const std::string& path, int null_fd) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("stat masked path ", path));
  }
  if (S_ISDIR(st.st_mode)) {
    return DoMount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k", absl::StrCat("mask ", path));
  }
  return DoMount(FdPath(null_fd), path, nullptr, MS_BIND, "", absl::StrCat("mask ", path));
}

Status ReadonlyPath(const std::string& path) {
  if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("bind read-only path ", path));
  }
  return DoMount("", path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | LockedFlags(path), "",
                 absl::StrCat("remount read-only ", path));
}

Status WriteSysctls(const Spec& spec) {
  if (spec.sysctl.empty()) return absl::OkStatus();
  // Create has refused every sysctl outside the container's own namespaces
  // (CheckHostIsolation). Each is written through the container's procfs and nothing
  // mounted over it: a volume at /proc/sys/... (a host file bound over a sysctl, say)
  // would otherwise take the write (the CVE-2025-52881 class). openat2 refuses to
  // cross a mount or follow a link below /proc.
  UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct statfs fs;
  if (!proc || ::fstatfs(proc.get(), &fs) != 0) return ErrnoError("open /proc to write sysctls");
  if (fs.f_type != PROC_SUPER_MAGIC) {
    return absl::FailedPreconditionError("the container's /proc is not procfs: its sysctls cannot be written");
  }
  for (const auto& [key, value] : spec.sysctl) {
    ASSIGN_OR_RETURN(std::string relative, SysctlPath(key));
    UniqueFd fd(Openat2(proc.get(), "sys/" + relative, O_WRONLY | O_CLOEXEC,
                        RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
    if (!fd && errno == EXDEV) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sysctl ", key, ": something is mounted over /proc/sys/", relative, " in the container; not written"));
    }
    // The value is written whole, as one write: never split.
    if (!fd || ::write(fd.get(), value.data(), value.size()) < 0) {
      return ErrnoError(absl::StrCat("sysctl ", key, "=", value));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

namespace {

StatusOr<UniqueFd> OpenInRootImpl(int root_fd, const std::string& path, Create create, int depth) {
  if (depth > 40) return ErrnoError(ELOOP, absl::StrCat("open ", path, " in rootfs"));
  size_t start = path.find_first_not_of('/');
  std::string rel = start == std::string::npos ? std::string(".") : path.substr(start);
  int fd = Openat2(root_fd, rel, O_PATH | O_CLOEXEC, kResolve);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT || create == Create::kNo) return ErrnoError(absl::StrCat("open ", path, " in rootfs"));
  std::vector<std::string> parts = absl::StrSplit(rel, '/', absl::SkipEmpty());
  UniqueFd current(Openat2(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, kResolve));
  if (!current) return ErrnoError("open rootfs");
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string parent = prefix;
    prefix = prefix.empty() ? parts[i] : absl::StrCat(prefix, "/", parts[i]);
    int next = Openat2(root_fd, prefix, O_PATH | O_CLOEXEC, kResolve);
    if (next < 0 && errno == ENOENT) {
      bool last = i + 1 == parts.size();
      char link[PATH_MAX];
      ssize_t n = ::readlinkat(current.get(), parts[i].c_str(), link, sizeof(link) - 1);
      if (n > 0) {
        // A dangling symlink: create its target, still inside the rootfs.
        std::string target(link, n);
        std::string rest;
        for (size_t j = i + 1; j < parts.size(); ++j) absl::StrAppend(&rest, "/", parts[j]);
        std::string resolved = target[0] == '/' ? target : absl::StrCat("/", parent, "/", target);
        return OpenInRootImpl(root_fd, resolved + rest, create, depth + 1);
      }
      if (last && create == Create::kFile) {
        UniqueFd file(::openat(current.get(), parts[i].c_str(),
                               O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!file && errno != EEXIST) return ErrnoError(absl::StrCat("create /", prefix, " in rootfs"));
      } else if (::mkdirat(current.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat("mkdir /", prefix, " in rootfs"));
      }
      next = Openat2(root_fd, prefix, O_PATH | O_CLOEXEC, kResolve);
    }
    if (next < 0) return ErrnoError(absl::StrCat("open /", prefix, " in rootfs"));
    current.Reset(next);
  }
  return current;
}

}  // namespace

StatusOr<UniqueFd> OpenInRoot(int root_fd, const std::string& path, Create create) {
  return OpenInRootImpl(root_fd, path, create, 0);
}

Status SetupRootfs(const RootfsContext& context) {
  const Spec& spec = *context.spec;
  unsigned long propagation = MS_PRIVATE | MS_REC;
  bool shared = spec.rootfs_propagation == "shared" || spec.rootfs_propagation == "rshared";
  if (spec.rootfs_propagation == "slave" || spec.rootfs_propagation == "rslave") {
    propagation = MS_SLAVE | MS_REC;
  }
  if (shared) propagation = MS_SHARED | MS_REC;
  if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0) {
    return ErrnoError(absl::StrCat("set the propagation of / to ", spec.rootfs_propagation));
  }
  if (shared) {
    // A shared tree is what lets a bidirectional volume's mounts reach the host; but
    // the runtime's own mounts (the rootfs, /proc, /dev...) must not, and pivot_root
    // refuses a new root whose parent is shared. So the mount the rootfs sits on (its
    // own overlay, as berthd mounts it) is made private, not recursively, as runc
    // does: what is mounted under it stays in the container. / stays shared (only its
    // parent, the namespace's hidden root, matters to pivot_root), so a volume whose
    // host directory is on / (kubelet's emptyDir, say) is a peer of the host's and
    // what the container mounts in it reaches the host.
    char real[PATH_MAX];
    if (::realpath(spec.root_path.c_str(), real) == nullptr) {
      return ErrnoError(absl::StrCat("resolve ", spec.root_path));
    }
    ASSIGN_OR_RETURN(std::string parent, MountPointOf(real));
    if (::mount(nullptr, parent.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
      return ErrnoError(absl::StrCat("make ", parent, " private for pivot_root"));
    }
  }

  // The rootfs is either an overlay described as a mount on "/", or a directory
  // (possibly already mounted by the caller) bound onto itself so it can be pivoted to.
  const Mount* root_mount = nullptr;
  for (const auto& m : spec.mounts) {
    if (m.destination == "/") root_mount = &m;
  }
  if (root_mount != nullptr) {
    MountOptions opts = ParseOptions(root_mount->options);
    RETURN_IF_ERROR(DoMount(root_mount->source.empty() ? root_mount->type : root_mount->source,
                            spec.root_path, root_mount->type.c_str(), opts.flags & ~MS_RDONLY,
                            absl::StrJoin(opts.data, ","),
                            absl::StrCat("mount ", root_mount->type, " rootfs on ", spec.root_path)));
  } else {
    RETURN_IF_ERROR(DoMount(spec.root_path, spec.root_path, nullptr, MS_BIND | MS_REC, "",
                            absl::StrCat("bind rootfs ", spec.root_path)));
  }
  {
    UniqueFd root_fd(::open(spec.root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) return ErrnoError(absl::StrCat("open rootfs ", spec.root_path));
    bool dev_bound = false;
    for (const auto& m : spec.mounts) {
      if (&m == root_mount) continue;
      RETURN_IF_ERROR(MountEntry(context, root_fd.get(), m));
      if (absl::StripSuffix(m.destination, "/") == "/dev" && (m.type == "bind" || ParseOptions(m.options).bind)) {
        dev_bound = true;
      }
    }
    if (!dev_bound) {
      RETURN_IF_ERROR(CreateDevices(root_fd.get(), spec));
      RETURN_IF_ERROR(CreateDevSymlinks(root_fd.get()));
    }
  }
  if (context.before_pivot) RETURN_IF_ERROR(context.before_pivot());
  RETURN_IF_ERROR(PivotRoot(spec.root_path));
  RETURN_IF_ERROR(WriteSysctls(spec));
  for (const auto& path : spec.readonly_paths) RETURN_IF_ERROR(ReadonlyPath(path));
  if (!spec.masked_paths.empty()) {
    ASSIGN_OR_RETURN(UniqueFd null, OpenNullDevice());
    for (const auto& path : spec.masked_paths) RETURN_IF_ERROR(MaskPath(path, null.get()));
  }
  struct stat st;
  if (::stat(spec.process.cwd.c_str(), &st) != 0 && errno == ENOENT) {
    RETURN_IF_ERROR(MakeDirs(spec.process.cwd, 0755));
  }
  if (spec.root_readonly) {
    RETURN_IF_ERROR(DoMount("", "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | LockedFlags("/"), "",
                            "remount rootfs read-only"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SupportedMountOptions() {
  std::vector<std::string> options = {"bind", "rbind", "rro", "rrw"};
  for (const char* name : {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async",
                           "dirsync", "remount", "mand", "nomand", "noatime", "atime", "nodiratime", "diratime",
                           "relatime", "norelatime", "strictatime", "nostrictatime", "private", "rprivate",
                           "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"}) {
    options.push_back(name);
  }
  return options;
}

}  // namespace berth::runtime

#include "runtime/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "runtime/sysctl.h"

namespace berth::runtime {

namespace {

struct NamespaceKind {
  const char* type;   // OCI name
  const char* proc;   // /proc/PID/ns/<proc>
  int flag;
  bool supported;     // can a container have one (time: not yet; user: joined by path only)
};

constexpr NamespaceKind kKinds[] = {
    {"pid", "pid", CLONE_NEWPID, true},       {"network", "net", CLONE_NEWNET, true},
    {"mount", "mnt", CLONE_NEWNS, true},      {"ipc", "ipc", CLONE_NEWIPC, true},
    {"uts", "uts", CLONE_NEWUTS, true},       {"cgroup", "cgroup", CLONE_NEWCGROUP, true},
    {"user", "user", CLONE_NEWUSER, true},   {"time", "time", CLONE_NEWTIME, false},
};

bool Supported(absl::string_view type) {
  for (const auto& kind : kKinds) {
    if (kind.type == type) return kind.supported;
  }
  return false;
}

Status Join(const Namespace& ns, int flag) {
  UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", ns.type, " namespace ", ns.path));
  if (::setns(fd.get(), flag) != 0) {
    return ErrnoError(absl::StrCat("join ", ns.type, " namespace ", ns.path));
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<int> NamespaceFlag(absl::string_view type) {
  for (const auto& kind : kKinds) {
    if (type == kind.type) return kind.flag;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown namespace type ", type));
}

Status PreparePidNamespace(const Spec& spec) {
  const Namespace* ns = spec.FindNamespace("pid");
  if (ns == nullptr) return absl::OkStatus();
  if (!ns->path.empty()) return Join(*ns, CLONE_NEWPID);
  if (::unshare(CLONE_NEWPID) != 0) return ErrnoError("unshare pid namespace");
  return absl::OkStatus();
}

Status EnterNamespaces(const Spec& spec) {
  int unshare_flags = 0;
  for (const auto& ns : spec.namespaces) {
    if (ns.type == "pid" || ns.type == "cgroup" || ns.type == "user") continue;
    if (!Supported(ns.type)) {
      return absl::UnimplementedError(absl::StrCat(ns.type, " namespaces are not supported"));
    }
    ASSIGN_OR_RETURN(int flag, NamespaceFlag(ns.type));
    if (ns.path.empty()) {
      unshare_flags |= flag;
    } else {
      RETURN_IF_ERROR(Join(ns, flag));
    }
  }
  if (unshare_flags != 0 && ::unshare(unshare_flags) != 0) return ErrnoError("unshare namespaces");
  return absl::OkStatus();
}

Status CheckUserNamespace(const Spec& spec) {
  const Namespace* ns = spec.FindNamespace("user");
  if (ns == nullptr) {
    if (!spec.uid_mappings.empty() || !spec.gid_mappings.empty()) {
      return absl::InvalidArgumentError("linux.uidMappings and gidMappings need a user namespace");
    }
    return absl::OkStatus();
  }
  if (ns->path.empty()) {
    return absl::UnimplementedError("berth-runtime joins an existing user namespace only: give it a path");
  }
  if (spec.uid_mappings.empty() || spec.gid_mappings.empty()) {
    return absl::InvalidArgumentError("a user namespace needs linux.uidMappings and gidMappings (what it maps)");
  }
  RETURN_IF_ERROR(CheckIdMappings(spec.uid_mappings, "uid"));
  return CheckIdMappings(spec.gid_mappings, "gid");
}

StatusOr<UniqueFd> OpenUserNamespace(const Spec& spec) {
  const Namespace* ns = spec.FindNamespace("user");
  if (ns == nullptr) return UniqueFd();
  UniqueFd fd(::open(ns->path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open user namespace ", ns->path));
  return fd;
}

Status EnterUserNamespace(const UniqueFd& userns) {
  if (userns && ::setns(userns.get(), CLONE_NEWUSER) != 0) return ErrnoError("join the container's user namespace");
  return absl::OkStatus();
}

bool InOtherUserNamespace(pid_t pid) {
  struct stat theirs, ours;
  if (::stat(absl::StrCat("/proc/", pid, "/ns/user").c_str(), &theirs) != 0 ||
      ::stat("/proc/self/ns/user", &ours) != 0) {
    return false;
  }
  return theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
}

Status UnshareCgroupNamespace(const Spec& spec) {
  const Namespace* ns = spec.FindNamespace("cgroup");
  if (ns == nullptr) return absl::OkStatus();
  if (!ns->path.empty()) return Join(*ns, CLONE_NEWCGROUP);
  if (::unshare(CLONE_NEWCGROUP) != 0) return ErrnoError("unshare cgroup namespace");
  return absl::OkStatus();
}

Status SetHostnames(const Spec& spec) {
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    return ErrnoError(absl::StrCat("sethostname ", spec.hostname));
  }
  if (!spec.domainname.empty() &&
      ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0) {
    return ErrnoError(absl::StrCat("setdomainname ", spec.domainname));
  }
  return absl::OkStatus();
}

bool HasPrivateNamespace(const Spec& spec, absl::string_view type) {
  const Namespace* ns = spec.FindNamespace(type);
  if (ns == nullptr) return false;
  if (ns->path.empty()) return true;
  const char* proc = nullptr;
  for (const auto& kind : kKinds) {
    if (type == kind.type) proc = kind.proc;
  }
  if (proc == nullptr) return false;
  struct stat theirs, ours;
  // What cannot be compared counts as shared: the safe answer.
  if (::stat(ns->path.c_str(), &theirs) != 0 || ::stat(absl::StrCat("/proc/self/ns/", proc).c_str(), &ours) != 0) {
    return false;
  }
  return theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
}

Status CheckHostIsolation(const Spec& spec) {
  PrivateNamespaces owned;
  owned.ipc = HasPrivateNamespace(spec, "ipc");
  owned.network = HasPrivateNamespace(spec, "network");
  owned.uts = HasPrivateNamespace(spec, "uts");
  for (const auto& [key, value] : spec.sysctl) RETURN_IF_ERROR(CheckSysctl(key, owned));
  if ((!spec.hostname.empty() || !spec.domainname.empty()) && !owned.uts) {
    return absl::InvalidArgumentError(
        "hostname and domainname need a private UTS namespace; this one shares the host's");
  }
  if (!spec.net_devices.empty() && !owned.network) {
    return absl::InvalidArgumentError(
        "linux.netDevices needs a private network namespace; this one shares the host's");
  }
  return absl::OkStatus();
}

StatusOr<int> NamespacesToJoin(pid_t pid) {
  int flags = 0;
  for (const auto& kind : kKinds) {
    if (kind.flag == CLONE_NEWPID || kind.flag == CLONE_NEWUSER || kind.flag == CLONE_NEWTIME) continue;
    struct stat theirs, ours;
    std::string path = absl::StrCat("/proc/", pid, "/ns/", kind.proc);
    if (::stat(path.c_str(), &theirs) != 0) {
      if (errno == ENOENT && kind.flag == CLONE_NEWCGROUP) continue;
      return ErrnoError(absl::StrCat("stat ", path));
    }
    if (::stat(absl::StrCat("/proc/self/ns/", kind.proc).c_str(), &ours) != 0) {
      return ErrnoError(absl::StrCat("stat /proc/self/ns/", kind.proc));
    }
    if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) flags |= kind.flag;
  }
  return flags;
}

std::vector<std::string> SupportedNamespaceTypes() {
  std::vector<std::string> types;
  for (const auto& kind : kKinds) {
    if (kind.supported) types.push_back(kind.type);
  }
  return types;
}

}  // namespace berth::runtime

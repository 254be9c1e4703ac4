#include "pods/pinned_namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>
#include <tuple>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "runtime/idmap.h"

namespace berth::pods {
namespace {

Status BringUpLoopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("socket in the pod's network namespace");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoError("read loopback flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return ErrnoError("bring loopback up");
  return absl::OkStatus();
}

Status Pin(const std::string& source, const std::string& target) {
  UniqueFd file(::open(target.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return ErrnoError(absl::StrCat("create ", target));
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Status status = ErrnoError(absl::StrCat("pin the namespace ", source, " at ", target));
    ::unlink(target.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace

Status UnpinNamespace(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount ", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(absl::StrCat("remove ", path));
  return absl::OkStatus();
}

namespace {

// The namespaces' settings, from a thread that has joined them (or made them).
Status Configure(const NamespaceRequest& request) {
  if (request.uts && !request.hostname.empty() &&
      ::sethostname(request.hostname.data(), request.hostname.size()) != 0) {
    return ErrnoError(absl::StrCat("set hostname \"", request.hostname, "\""));
  }
  if (request.net) return BringUpLoopback();
  return absl::OkStatus();
}

void UnpinAll(const PinnedNamespaces& pinned) {
  for (const std::string* path : {&pinned.user, &pinned.net, &pinned.ipc, &pinned.uts}) (void)UnpinNamespace(*path);
}

// The namespaces requested, each pinned at dir/<kind> from source(kind).
Status PinEach(const std::string& dir, const NamespaceRequest& request,
               const std::function<std::string(const char*)>& source, PinnedNamespaces& pinned) {
  bool user = request.userns.mode == NamespaceMode::kPod;
  for (auto [wanted, kind, path] : {std::tuple{user, "user", &pinned.user}, std::tuple{request.net, "net", &pinned.net},
                                    std::tuple{request.ipc, "ipc", &pinned.ipc},
                                    std::tuple{request.uts, "uts", &pinned.uts}}) {
    if (!wanted) continue;
    std::string target = absl::StrCat(dir, "/", kind);
    RETURN_IF_ERROR(Pin(source(kind), target));
    *path = target;
  }
  return absl::OkStatus();
}

int CloneFlags(const NamespaceRequest& request) {
  return (request.net ? CLONE_NEWNET : 0) | (request.ipc ? CLONE_NEWIPC : 0) | (request.uts ? CLONE_NEWUTS : 0);
}

StatusOr<PinnedNamespaces> PinInOwnUserNamespace(const std::string& dir, const NamespaceRequest& request) {
  ASSIGN_OR_RETURN(runtime::NamespaceHolder holder, runtime::NamespaceHolder::Spawn(CloneFlags(request)));
  RETURN_IF_ERROR(holder.MapIds(request.userns.uids, request.userns.gids));
  PinnedNamespaces pinned;
  Status result;
  // The host's root may join namespaces its descendant user namespace owns; a
  // thread does (setns of net and uts works per thread), as for a pod without one.
  std::thread worker([&] {
    for (auto [wanted, kind, flag] : {std::tuple{request.net, "net", CLONE_NEWNET},
                                      std::tuple{request.uts, "uts", CLONE_NEWUTS}}) {
      if (!wanted) continue;
      auto fd = holder.OpenNamespace(kind);
      if (!fd.ok()) {
        result = fd.status();
        return;
      }
      if (::setns(fd->get(), flag) != 0) {
        result = ErrnoError(absl::StrCat("join the pod's new ", kind, " namespace"));
        return;
      }
    }
    result = Configure(request);
  });
  worker.join();
  if (result.ok()) {
    result = PinEach(dir, request, [&](const char* kind) { return holder.NamespacePath(kind); }, pinned);
  }
  if (!result.ok()) {
    UnpinAll(pinned);
    return result;
  }
  return pinned;
}

}  // namespace

StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, const NamespaceRequest& request) {
  RETURN_IF_ERROR(MakeDirs(dir, 0711));
  if (request.userns.mode == NamespaceMode::kPod) return PinInOwnUserNamespace(dir, request);
  PinnedNamespaces pinned;
  Status result;
  // unshare() of these namespaces changes only the calling thread; a thread made
  // for the purpose leaves the daemon's own threads where they were.
  std::thread worker([&] {
    int flags = CloneFlags(request);
    if (flags == 0) return;
    if (::unshare(flags) != 0) {
      result = ErrnoError("unshare pod namespaces");
      return;
    }
    result = Configure(request);
    if (!result.ok()) return;
    result = PinEach(dir, request, [](const char* kind) { return absl::StrCat("/proc/thread-self/ns/", kind); },
                     pinned);
  });
  worker.join();
  if (!result.ok()) {
    UnpinAll(pinned);
    return result;
  }
  return pinned;
}

}  // namespace berth::pods

#include "pods/pinned_namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/file_util.h"
#include "base/unique_fd.h"

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

Status Pin(const char* kind, const std::string& target) {
  UniqueFd file(::open(target.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return ErrnoError(absl::StrCat("create ", target));
  std::string source = absl::StrCat("/proc/thread-self/ns/", kind);
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    Status status = ErrnoError(absl::StrCat("pin ", kind, " namespace at ", target));
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

StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, bool net, bool ipc, bool uts,
                                         const std::string& hostname) {
  RETURN_IF_ERROR(MakeDirs(dir, 0711));
  PinnedNamespaces pinned;
  Status result;
  // unshare() of these namespaces changes only the calling thread; a thread made
  // for the purpose leaves the daemon's own threads where they were.
  std::thread worker([&] {
    int flags = (net ? CLONE_NEWNET : 0) | (ipc ? CLONE_NEWIPC : 0) | (uts ? CLONE_NEWUTS : 0);
    if (flags == 0) return;
    if (::unshare(flags) != 0) {
      result = ErrnoError("unshare pod namespaces");
      return;
    }
    if (uts && !hostname.empty() && ::sethostname(hostname.data(), hostname.size()) != 0) {
      result = ErrnoError(absl::StrCat("set hostname \"", hostname, "\""));
      return;
    }
    if (net) {
      result = BringUpLoopback();
      if (!result.ok()) return;
    }
    for (auto [wanted, kind, path] : {std::tuple{net, "net", &pinned.net}, std::tuple{ipc, "ipc", &pinned.ipc},
                                      std::tuple{uts, "uts", &pinned.uts}}) {
      if (!wanted) continue;
      std::string target = absl::StrCat(dir, "/", kind);
      result = Pin(kind, target);
      if (!result.ok()) return;
      *path = target;
    }
  });
  worker.join();
  if (!result.ok()) {
    for (const std::string* path : {&pinned.net, &pinned.ipc, &pinned.uts}) (void)UnpinNamespace(*path);
    return result;
  }
  return pinned;
}

}  // namespace berth::pods

// The container's filesystem: rootfs, spec mounts, /dev, pivot_root, masked and
// read-only paths, sysctls. Runs in the init, inside its new mount namespace, so
// nothing it mounts is visible on the host or outlives the container.
//
// Before pivot_root every mount target is resolved inside the rootfs with
// openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd/N, so a symlink in the
// image cannot redirect a mount onto the host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "runtime/spec.h"

namespace berth::runtime {

struct RootfsContext {
  const Spec* spec = nullptr;
  // The container's cgroup leaves on the host, for "cgroup" mounts on v1 hosts:
  // hierarchy name ("memory") -> directory.
  std::vector<std::pair<std::string, std::string>> cgroup_dirs;
  bool cgroup_v2_host = false;
  // Run once every mount is in place, before pivot_root: the moment of the OCI
  // hooks that see the container's mounts from the host's root (hooks.h).
  std::function<Status()> before_pivot;
};

// Everything up to and including pivot_root and the final read-only remount of /.
Status SetupRootfs(const RootfsContext& context);

// Opens path (absolute or relative) inside root as O_PATH, resolving symlinks as if
// root were "/". With create, missing directories are made, and a missing last
// component becomes a directory (dir=true) or an empty file.
enum class Create { kNo, kDirectory, kFile };
StatusOr<UniqueFd> OpenInRoot(int root_fd, const std::string& path, Create create);

// The mount options MountEntry honours, for `berth-runtime features`.
std::vector<std::string> SupportedMountOptions();

// "/proc/self/fd/N", the name mount(2) takes for an fd.
std::string FdPath(int fd);

}  // namespace berth::runtime

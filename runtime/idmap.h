// User namespace id mappings and idmapped mounts (mount_setattr with
// MOUNT_ATTR_IDMAP): how a pod whose root is an unprivileged host uid still sees
// image files and volumes owned by root as its own, with nothing chowned.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::runtime {

// One line of /proc/PID/uid_map: ids [container_id, container_id+length) inside
// the namespace are [host_id, host_id+length) outside it.
struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t length = 0;

  bool operator==(const IdMapping&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(IdMapping, container_id, host_id, length)

// The text written to uid_map or gid_map.
std::string IdMapText(const std::vector<IdMapping>& mappings);

// The host id a container id maps to; nullopt when no mapping covers it.
std::optional<uint32_t> HostId(const std::vector<IdMapping>& mappings, uint32_t container_id);

// INVALID_ARGUMENT unless every mapping has a length and stays within 32 bits.
Status CheckIdMappings(const std::vector<IdMapping>& mappings, const char* what);

// A child process parked in new namespaces (CLONE_NEWUSER and any of the
// CLONE_NEW* in flags, all owned by the new user namespace) until the holder is
// destroyed; made with a raw clone so that it is safe from a threaded daemon.
class NamespaceHolder {
 public:
  static StatusOr<NamespaceHolder> Spawn(int flags);
  NamespaceHolder(NamespaceHolder&& other) noexcept;
  NamespaceHolder& operator=(NamespaceHolder&&) = delete;
  ~NamespaceHolder();

  // Writes the child's uid_map and gid_map (once, before anything uses them).
  Status MapIds(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);
  // /proc/PID/ns/<kind> of the child ("user", "net", ...).
  std::string NamespacePath(const char* kind) const;
  StatusOr<UniqueFd> OpenNamespace(const char* kind) const;

 private:
  NamespaceHolder(pid_t pid, UniqueFd release) : pid_(pid), release_(std::move(release)) {}
  pid_t pid_ = -1;
  UniqueFd release_;  // closing it lets the child exit
};

// A new user namespace with these mappings, as an fd that keeps it alive.
StatusOr<UniqueFd> NewUserNamespace(const std::vector<IdMapping>& uids, const std::vector<IdMapping>& gids);

// Attaches at target (which exists, of the same kind: file or directory) a copy of
// the mount tree at source whose ids are seen through userns_fd's mappings: a file
// owned by host uid 0 appears owned by the uid the namespace maps to 0, and what
// that uid creates is stored as 0. recursive: the mounts below source come along.
Status MountIdmapped(const std::string& source, int userns_fd, const std::string& target, bool recursive);

// An overlay at target whose read-only layers are idmapped (overlayfs itself
// cannot be): each lower dir is attached idmapped under staging_dir (made here,
// left empty), the overlay is mounted over those, and they are detached again (the
// overlay keeps them). The writable layer cannot be idmapped (overlayfs works in it
// as the host's root, whom the mapping lacks), so its new, empty upper dir is given
// to the host ids the namespace's root maps to: what the pod's root writes there is
// that uid's on disk, as on a volume without mappings.
struct IdmappedOverlay {
  std::vector<std::string> lower_dirs;  // top first
  std::string upper_dir;
  std::string work_dir;
  std::string options;  // more overlay options ("volatile"), or empty
  uid_t upper_owner = 0;
  gid_t upper_group = 0;
};
Status MountIdmappedOverlay(const IdmappedOverlay& overlay, int userns_fd, const std::string& staging_dir,
                            const std::string& target);

// Whether idmapped mounts work for the filesystem of dir and for an overlay of
// idmapped layers on it (what a container's rootfs is then); the probe mounts and
// unmounts under dir.
bool SupportsIdmappedMounts(const std::string& dir);

}  // namespace berth::runtime

// berth-runtime's checkpoint and restore, through CRIU, with runc's verbs and flags
// (`checkpoint --image-path --work-path --leave-running`, `restore --detach`), so
// that berthd drives it as it drives runc.
//
// CRIU dumps what lives inside the container; what the container sees of the host
// it must be told about, and told again at restore, where the host side differs (a
// new pod, a new cgroup):
//   - bind mounts from the host (the spec's, and on cgroup v1 the container's cgroup
//     directories) are "external", keyed by where the container sees them; the keys
//     are kept beside CRIU's images (berth-mounts.json) and mapped at restore to the
//     new spec's sources and the new cgroup's directories;
//   - a network namespace joined by path is external: the restore is handed the new
//     one's; IPC and UTS namespaces joined by path are joined again by path;
//   - stdio pipes are the shim's: their identities are kept (descriptors.json, as runc
//     names it) and the restore is handed the new shim's pipes in their place.
// Cgroups are berth-runtime's: CRIU leaves them alone, the restore runs inside the
// new container's cgroup so that what it makes is born there.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// A mount CRIU must be told about: key is the container's path, kind "bind" (the
// source is the spec's) or "cgroup" (the source is the container's cgroup directory
// of the hierarchy named in detail).
struct ExternalMount {
  std::string key;
  std::string kind;
  std::string detail;  // the v1 hierarchy's directory name, for kind "cgroup"
};
std::string ExternalMountsJson(const std::vector<ExternalMount>& mounts);
StatusOr<std::vector<ExternalMount>> ParseExternalMounts(const std::string& json);

// The external mounts of a container created from spec, with its cgroup v1
// hierarchies (their directory names under /sys/fs/cgroup; none on v2).
std::vector<ExternalMount> ExternalMountsOf(const Spec& spec, const std::vector<std::string>& cgroup_hierarchies);

struct CheckpointOptions {
  std::string id;
  std::string criu;  // the CRIU binary
  std::string image_path;
  std::string work_path;
  bool leave_running = false;
  bool tcp_established = false;
};

struct RestoreOptions {
  std::string id;
  std::string criu;
  std::string bundle;
  std::string image_path;
  std::string work_path;
  std::string pid_file;
  bool tcp_established = false;
};

// CRIU's command lines, built from what each needs (pure: unit-tested).
struct DumpPlan {
  std::string criu;
  pid_t pid = 0;
  std::string image_path, work_path, root, freezer_dir;
  std::vector<ExternalMount> mounts;
  std::string netns_inode;  // "" when the container has a network namespace of its own
  bool leave_running = false;
  bool tcp_established = false;
};
std::vector<std::string> CriuDumpArgs(const DumpPlan& plan);

struct RestorePlan {
  std::string criu;
  std::string image_path, work_path, root, pid_file;
  // key -> host path, for every external mount of the dump.
  std::vector<std::pair<std::string, std::string>> mounts;
  int netns_fd = -1;  // the new network namespace, inherited by CRIU
  std::vector<std::pair<std::string, std::string>> join_namespaces;  // type, path
  std::vector<std::pair<int, std::string>> inherited_pipes;         // fd, "pipe:[ino]"
  bool tcp_established = false;
};
std::vector<std::string> CriuRestoreArgs(const RestorePlan& plan);

// The host path an external mount of the dump has in a container made from spec,
// whose cgroup v1 directories are cgroup_dirs (hierarchy name, directory);
// FAILED_PRECONDITION naming it when the new spec has no such mount.
StatusOr<std::string> RestoreSource(const ExternalMount& mount, const Spec& spec,
                                    const std::vector<std::pair<std::string, std::string>>& cgroup_dirs);

}  // namespace berth::runtime

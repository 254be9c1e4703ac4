// What a pod and a container are made of, in berth's own terms. cri/ translates
// CRI messages into these; everything in pods/ works on them, so lifecycle code
// never depends on the wire format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_optional.h"
#include "base/status.h"
#include "runtime/idmap.h"

namespace berth::pods {

// How a namespace is had: its own per pod, its own per container, the host's, or
// another container's.
enum class NamespaceMode { kPod = 0, kContainer = 1, kNode = 2, kTarget = 3 };

// A pod's user namespace (KEP-127): the host's (kNode), or its own (kPod), which
// maps exactly one uid range and one gid range, container id 0 included.
struct UserNamespaceSpec {
  NamespaceMode mode = NamespaceMode::kNode;
  std::vector<runtime::IdMapping> uids;
  std::vector<runtime::IdMapping> gids;

  bool operator==(const UserNamespaceSpec&) const = default;
};

struct DnsSpec {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

struct PortSpec {
  std::string protocol = "TCP";
  int32_t container_port = 0;
  int32_t host_port = 0;
  std::string host_ip;
};

struct PodSpec {
  std::string name;
  std::string uid;
  std::string namespace_name;
  uint32_t attempt = 0;
  std::string hostname;
  std::string log_directory;
  std::string cgroup_parent;
  std::string runtime_handler;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> sysctls;
  std::optional<DnsSpec> dns;
  std::vector<PortSpec> ports;
  NamespaceMode network = NamespaceMode::kPod;
  NamespaceMode pid = NamespaceMode::kContainer;
  NamespaceMode ipc = NamespaceMode::kPod;
  UserNamespaceSpec userns;
  bool privileged = false;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::vector<int64_t> supplemental_groups;
  // SupplementalGroupsPolicy Strict: only the groups asked for, none from the image's /etc/group.
  bool strict_supplemental_groups = false;
  bool readonly_rootfs = false;

  // The name kubelet reserves for a pod: unique per node.
  std::string ReservationKey() const;
};

struct MountSpec {
  std::string container_path;
  std::string host_path;
  bool readonly = false;
  // 0 private, 1 host-to-container (rslave), 2 bidirectional (rshared).
  int propagation = 0;
  // Read-only all the way down: mounts below host_path too (needs readonly, private).
  bool recursive_readonly = false;
  // Given (kubelet gives the pod's) in a pod with its own user namespace: the
  // volume is idmapped, so the pod's root sees the host's root-owned files as its own.
  std::vector<runtime::IdMapping> uid_mappings;
  std::vector<runtime::IdMapping> gid_mappings;
  // An image volume (KEP-4639): the image (an id or a reference) whose files are
  // mounted, read-only, instead of a host path; image_sub_path is a directory in it.
  std::string image;
  std::string image_sub_path;
  // The image's id, once CreateContainer has found it (ContainerStatus reports it).
  std::string image_ref;

  static MountSpec Bind(std::string container_path, std::string host_path, bool readonly, int propagation = 0,
                        bool recursive_readonly = false) {
    MountSpec m;
    m.container_path = std::move(container_path);
    m.host_path = std::move(host_path);
    m.readonly = readonly;
    m.propagation = propagation;
    m.recursive_readonly = recursive_readonly;
    return m;
  }
};

struct DeviceSpec {
  std::string container_path;
  std::string host_path;
  std::string permissions = "rwm";
};

struct ResourcesSpec {
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_shares = 0;
  int64_t memory_limit = 0;
  int64_t memory_swap_limit = 0;
  int64_t oom_score_adj = 0;
  int64_t pids_limit = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::map<std::string, uint64_t> hugepage_limits;  // page size ("2MB") -> bytes
  std::map<std::string, std::string> unified;
};

// A seccomp or AppArmor profile as kubelet names it.
struct SecurityProfileSpec {
  // "unconfined", "runtime/default" or "localhost"; empty when kubelet sent none
  // (seccomp: unconfined, as kubelet defines it; AppArmor: the runtime default, as
  // containerd reads it).
  std::string type;
  // localhost: the seccomp profile's path, or the loaded AppArmor profile's name.
  std::string localhost_ref;
};

struct SecuritySpec {
  bool privileged = false;
  std::vector<std::string> add_capabilities;
  std::vector<std::string> drop_capabilities;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::string run_as_username;
  std::vector<int64_t> supplemental_groups;
  // SupplementalGroupsPolicy Strict: only the groups asked for, none from the image's /etc/group.
  bool strict_supplemental_groups = false;
  bool readonly_rootfs = false;
  bool no_new_privs = false;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  SecurityProfileSpec seccomp;
  SecurityProfileSpec apparmor;
  NamespaceMode pid = NamespaceMode::kContainer;
  std::string target_container_id;
  // As the container's config gave it; it must be the pod's.
  std::optional<UserNamespaceSpec> userns;
};

struct ContainerSpec {
  std::string name;
  uint32_t attempt = 0;
  std::string image;  // as the user named it
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<MountSpec> mounts;
  std::vector<DeviceSpec> devices;
  // CDI devices by fully qualified name ("vendor.com/class=name"), as CRI asks.
  std::vector<std::string> cdi_devices;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string log_path;  // relative to the pod's log directory
  bool stdin = false;
  bool stdin_once = false;
  bool tty = false;
  ResourcesSpec resources;
  SecuritySpec security;
  std::string stop_signal;
};

// A Kubernetes resource quantity ("10M", "1Gi", "500k", "1.5G", "2e3") as a whole
// number; INVALID_ARGUMENT for anything else, negative values included.
StatusOr<uint64_t> ParseQuantity(const std::string& text);

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(UserNamespaceSpec, mode, uids, gids)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DnsSpec, servers, searches, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PortSpec, protocol, container_port, host_port, host_ip)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MountSpec, container_path, host_path, readonly, propagation,
                                                recursive_readonly, uid_mappings, gid_mappings, image,
                                                image_sub_path, image_ref)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceSpec, container_path, host_path, permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ResourcesSpec, cpu_period, cpu_quota, cpu_shares, memory_limit,
                                                memory_swap_limit, oom_score_adj, pids_limit, cpuset_cpus,
                                                cpuset_mems, hugepage_limits, unified)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecurityProfileSpec, type, localhost_ref)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PodSpec, name, uid, namespace_name, attempt, hostname, log_directory,
                                                cgroup_parent, runtime_handler, labels, annotations, sysctls, ports,
                                                dns, network, pid, ipc, userns, privileged, run_as_user, run_as_group,
                                                supplemental_groups, strict_supplemental_groups, readonly_rootfs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecuritySpec, privileged, add_capabilities, drop_capabilities,
                                                run_as_user, run_as_group, run_as_username, supplemental_groups,
                                                strict_supplemental_groups, readonly_rootfs, no_new_privs,
                                                masked_paths, readonly_paths, seccomp, apparmor, pid,
                                                target_container_id, userns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerSpec, name, attempt, image, command, args, working_dir, env,
                                                mounts, devices, cdi_devices, labels, annotations, log_path, stdin,
                                                stdin_once, tty, resources, security, stop_signal)

}  // namespace berth::pods

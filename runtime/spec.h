// The OCI runtime-spec config.json as plain structs: the subset that berth uses,
// both where berthd builds a container's spec (and writes it for whichever runtime
// handler runs it) and where berth-runtime reads one. Unknown fields are ignored
// when parsing, as runc does; fields that berth-runtime cannot honour (user
// namespaces, terminal=true) are refused at create.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cgroups/resources.h"
#include "runtime/hooks.h"
#include "runtime/idmap.h"

namespace berth::runtime {

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<gid_t> additional_gids;
};

// process.ioPriority: the I/O scheduling class and level (ioprio_set).
struct IoPriority {
  std::string io_class;  // IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
  int priority = 0;      // 0 (highest) to 7
};

// process.scheduler: the CPU scheduling policy (sched_setattr).
struct Scheduler {
  std::string policy;  // SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE
  int nice = 0;
  int priority = 0;
  std::vector<std::string> flags;  // SCHED_FLAG_RESET_ON_FORK, ...
  uint64_t runtime = 0;            // SCHED_DEADLINE's, in ns
  uint64_t deadline = 0;
  uint64_t period = 0;
};

struct Process {
  bool terminal = false;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;  // empty: none
  std::optional<IoPriority> io_priority;
  std::optional<Scheduler> scheduler;
};

// linux.memoryPolicy: the NUMA policy of the container's memory (set_mempolicy).
struct MemoryPolicy {
  std::string mode;                // MPOL_BIND, MPOL_INTERLEAVE, ...
  std::string nodes;               // "0-3,7"; empty for MPOL_DEFAULT and MPOL_LOCAL
  std::vector<std::string> flags;  // MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, cgroup, user, time
  std::string path;  // empty: create a new one
};

struct Device {
  std::string path;
  char type = 'c';  // c, u, b, p
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<mode_t> file_mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_EQ, ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::vector<SeccompSyscall> syscalls;
  // Where the fd of an SCMP_ACT_NOTIFY filter is sent (a seccomp agent's unix
  // socket), with this opaque text for the agent.
  std::string listener_path;
  std::string listener_metadata;
};

// A linux.netDevices entry (keyed by the link's name on the host).
struct NetDevice {
  std::string name;  // in the container; empty: the host's name
};

// The runtime-spec version berthd writes.
inline constexpr char kOciVersion[] = "1.0.2";

struct Spec {
  std::string oci_version;
  std::string root_path;  // absolute after parsing; as written (relative to the bundle) otherwise
  bool root_readonly = false;
  Process process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::vector<Namespace> namespaces;
  // linux.uidMappings and gidMappings: the user namespace's (which a container
  // joins by path; the mappings say what that namespace is, for idmapping).
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<cgroups::Resources> resources;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string rootfs_propagation;
  std::optional<Seccomp> seccomp;
  std::optional<MemoryPolicy> memory_policy;
  std::map<std::string, NetDevice> net_devices;
  std::map<std::string, std::string> annotations;
  Hooks hooks;

  const Namespace* FindNamespace(absl::string_view type) const;
};

// Orders mounts by the depth of their destination (stably), so that a mount below
// another's destination is made after it: what plugins and devices add comes last.
void SortMountsByDepth(std::vector<Mount>& mounts);

// Parses config.json; bundle (absolute) resolves a relative root.path and bind sources.
StatusOr<Spec> ParseSpec(absl::string_view json, const std::string& bundle);
// Parses a lone OCI "process" object (exec --process).
StatusOr<Process> ParseProcess(absl::string_view json);
// Parses a lone OCI "linux.resources" object (update --resources).
StatusOr<cgroups::Resources> ParseResources(absl::string_view json);
// Parses a lone OCI "linux.seccomp" object (a localhost seccomp profile).
StatusOr<Seccomp> ParseSeccomp(absl::string_view json);

// The other way: config.json for a bundle (indented, for people reading it), a
// process for `exec --process`, resources for `update --resources`.
std::string SpecJson(const Spec& spec);
std::string ProcessJson(const Process& process);
std::string ResourcesJson(const cgroups::Resources& resources);

}  // namespace berth::runtime

#include "pods/oci_spec.h"

#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "base/file_util.h"
#include "pods/apparmor.h"
#include "pods/container_resources.h"
#include "pods/container_user.h"
#include "pods/seccomp_default.h"

namespace berth::pods {
namespace {

using runtime::Mount;

// containerd's default capability set for unprivileged containers.
const std::vector<std::string> kDefaultCapabilities = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE"};

const std::vector<std::string> kDefaultMaskedPaths = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
const std::vector<std::string> kDefaultReadonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                        "/proc/sysrq-trigger"};

std::string CapName(std::string name) {
  name = absl::AsciiStrToUpper(name);
  return absl::StartsWith(name, "CAP_") ? name : "CAP_" + name;
}

// Capabilities in this process's bounding set: what a privileged container can have.
std::vector<std::string> HostCapabilities() {
  std::vector<std::string> caps;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (cap_get_bound(static_cast<cap_value_t>(cap)) != 1) continue;
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    if (name == nullptr) continue;
    caps.push_back(CapName(name));
    cap_free(name);
  }
  return caps;
}

std::vector<std::string> MergeEnv(const image::ImageConfig& image, const ContainerSpec& c, const std::string& hostname) {
  std::vector<std::string> env;
  auto set = [&](const std::string& key, const std::string& value) {
    std::string entry = key + "=" + value;
    for (auto& e : env) {
      if (e.compare(0, key.size() + 1, key + "=") == 0) {
        e = entry;
        return;
      }
    }
    env.push_back(entry);
  };
  bool has_path = false;
  for (const auto& e : image.env) {
    size_t eq = e.find('=');
    if (eq == std::string::npos) continue;
    if (e.compare(0, 5, "PATH=") == 0) has_path = true;
    set(e.substr(0, eq), e.substr(eq + 1));
  }
  if (!has_path) set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (!hostname.empty()) set("HOSTNAME", hostname);
  for (const auto& [k, v] : c.env) set(k, v);
  return env;
}

Mount BindMount(const std::string& destination, const std::string& source, bool readonly,
                const std::string& propagation = "rprivate", bool recursive_readonly = false) {
  Mount mount{.destination = destination, .type = "bind", .source = source,
              .options = {"rbind", propagation, readonly ? "ro" : "rw"}};
  if (recursive_readonly) mount.options.push_back("rro");
  return mount;
}

// containerd's 1048576 open files, or as many as berthd itself may have when it
// cannot raise its hard limit (no CAP_SYS_RESOURCE).
uint64_t NofileLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (cap_get_bound(CAP_SYS_RESOURCE) == 1) return 1048576;
  return std::min<uint64_t>(1048576, limit.rlim_max);
}

int64_t ClampOomScoreAdj(int64_t wanted) {
  // Without CAP_SYS_RESOURCE nothing can go below berthd's own score (containerd's
  // restrict_oom_score_adj); asking would fail the container.
  auto own = ReadFile("/proc/self/oom_score_adj");
  int64_t current = 0;
  if (own.ok()) (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*own), &current);
  if (wanted < current && cap_get_bound(CAP_SYS_RESOURCE) != 1) return current;
  return std::clamp<int64_t>(wanted, -1000, 1000);
}

// Every device node under the host's /dev, which containerd also gives privileged
// containers (unless told otherwise): a CSI node plugin or a device manager running
// privileged expects to find the host's disks and devices there. Left out: what the
// container has its own of (pts, shm, mqueue, fd; console; ptmx, a link to its pts).
std::vector<std::string> HostDevicePaths() {
  namespace fs = std::filesystem;
  static const std::set<std::string> kOwn = {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd", "/dev/console",
                                             "/dev/ptmx"};
  std::vector<std::string> paths;
  std::error_code ec;
  fs::recursive_directory_iterator it("/dev", fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    if (kOwn.count(path)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::character || type == fs::file_type::block) paths.push_back(path);
  }
  return paths;
}

// linux.devices and (for an unprivileged container) the devices cgroup rule for
// the device node at host_path, seen in the container at container_path.
Status AddDevice(const std::string& host_path, const std::string& container_path, const std::string& permissions,
                 bool privileged, runtime::Spec& spec) {
  struct stat st;
  if (::stat(host_path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    return absl::InvalidArgumentError(absl::StrCat("device \"", host_path, "\" is not a device on this host"));
  }
  if (container_path.empty() || container_path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("device container path \"", container_path, "\" must be absolute"));
  }
  if (permissions.find_first_not_of("rwm") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("device \"", host_path, "\": permissions \"", permissions, "\" are not a subset of \"rwm\""));
  }
  const char type = S_ISCHR(st.st_mode) ? 'c' : 'b';
  // A device asked for by path wins over the host's at that path.
  std::erase_if(spec.devices, [&](const runtime::Device& d) { return d.path == container_path; });
  spec.devices.push_back({.path = container_path, .type = type, .major = major(st.st_rdev),
                          .minor = minor(st.st_rdev), .file_mode = st.st_mode & 0777, .uid = st.st_uid,
                          .gid = st.st_gid});
  // Privileged containers may use every device already.
  if (!privileged) {
    spec.resources->devices.push_back({.allow = true, .type = type, .major = major(st.st_rdev),
                                       .minor = minor(st.st_rdev),
                                       .access = permissions.empty() ? "rwm" : permissions});
  }
  return absl::OkStatus();
}

// capabilities: the container's (bounding set), which widen RuntimeDefault.
StatusOr<std::optional<runtime::Seccomp>> SeccompProfile(const SecuritySpec& sec,
                                                         const std::vector<std::string>& capabilities) {
  if (sec.privileged) return std::nullopt;
  const std::string& type = sec.seccomp.type;
  if (type.empty() || type == "unconfined") return std::nullopt;
  if (type == "runtime/default") {
    return RuntimeDefaultSeccompProfile(capabilities);
  }
  if (type == "localhost") {
    if (sec.seccomp.localhost_ref.empty() || sec.seccomp.localhost_ref[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("seccomp localhost profile path \"", sec.seccomp.localhost_ref,
                                                     "\" must be absolute"));
    }
    auto data = ReadFile(sec.seccomp.localhost_ref);
    if (!data.ok()) return Annotate(data.status(), "read seccomp profile");
    auto profile = runtime::ParseSeccomp(*data);
    if (!profile.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("seccomp profile ", sec.seccomp.localhost_ref,
                                                     " is not an OCI seccomp profile: ", profile.status().message()));
    }
    return *profile;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown seccomp profile type \"", type, "\""));
}

}  // namespace

std::vector<std::string> ContainerCapabilities(const SecuritySpec& sec) {
  if (sec.privileged) return HostCapabilities();
  std::vector<std::string> caps = kDefaultCapabilities;
  auto has = [](const std::vector<std::string>& list, const char* what) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& c) { return absl::EqualsIgnoreCase(c, what); });
  };
  if (has(sec.drop_capabilities, "ALL")) caps.clear();
  for (const auto& drop : sec.drop_capabilities) {
    caps.erase(std::remove(caps.begin(), caps.end(), CapName(drop)), caps.end());
  }
  if (has(sec.add_capabilities, "ALL")) {
    caps = HostCapabilities();
  } else {
    for (const auto& add : sec.add_capabilities) {
      std::string name = CapName(add);
      if (std::find(caps.begin(), caps.end(), name) == caps.end()) caps.push_back(name);
    }
  }
  // A capability the host itself lacks cannot be granted: leave it out rather than fail.
  std::vector<std::string> host = HostCapabilities();
  caps.erase(std::remove_if(caps.begin(), caps.end(),
                            [&](const std::string& c) { return std::find(host.begin(), host.end(), c) == host.end(); }),
             caps.end());
  return caps;
}

StatusOr<std::vector<std::string>> ResolveArgs(const ContainerSpec& c, const image::ImageConfig& image) {
  std::vector<std::string> argv;
  if (!c.command.empty()) {
    argv = c.command;
    argv.insert(argv.end(), c.args.begin(), c.args.end());
  } else {
    argv = image.entrypoint;
    const auto& rest = c.args.empty() ? image.cmd : c.args;
    argv.insert(argv.end(), rest.begin(), rest.end());
  }
  if (argv.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("container \"", c.name,
                                                   "\" has no command: the config and the image give none"));
  }
  return argv;
}

runtime::Process ProcessForExec(const runtime::Spec& container_spec, const std::vector<std::string>& args,
                                bool tty) {
  runtime::Process process = container_spec.process;
  process.args = args;
  process.terminal = tty;
  process.oom_score_adj.reset();  // the container's own score already covers its cgroup's processes
  return process;
}

StatusOr<runtime::Spec> BuildOciSpec(const SpecInputs& in) {
  const PodSpec& pod = in.pod->spec;
  const ContainerSpec& c = *in.container;
  const SecuritySpec& sec = c.security;
  ASSIGN_OR_RETURN(std::vector<std::string> args, ResolveArgs(c, *in.image));
  ASSIGN_OR_RETURN(ContainerUser user, ResolveContainerUser(in.rootfs, in.image->user, sec, pod));
  std::vector<std::string> caps = ContainerCapabilities(sec);

  runtime::Spec spec;
  spec.oci_version = runtime::kOciVersion;
  spec.root_path = "rootfs";
  spec.root_readonly = sec.readonly_rootfs;
  runtime::Process& process = spec.process;
  process.terminal = c.tty;
  process.user.uid = static_cast<uid_t>(user.uid);
  process.user.gid = static_cast<gid_t>(user.gid);
  for (int64_t gid : user.additional_gids) process.user.additional_gids.push_back(static_cast<gid_t>(gid));
  process.args = std::move(args);
  process.env = MergeEnv(*in.image, c, pod.hostname);
  process.cwd = !c.working_dir.empty() ? c.working_dir : (!in.image->working_dir.empty() ? in.image->working_dir : "/");
  process.capabilities.emplace();
  process.capabilities->bounding = process.capabilities->effective = process.capabilities->permitted = caps;
  process.no_new_privileges = sec.no_new_privs;
  process.rlimits = {{"RLIMIT_NOFILE", NofileLimit(), NofileLimit()}};
  if (c.resources.oom_score_adj != 0) process.oom_score_adj = ClampOomScoreAdj(c.resources.oom_score_adj);
  ASSIGN_OR_RETURN(process.apparmor_profile, AppArmorProfileFor(sec));

  const char* sys_access = sec.privileged ? "rw" : "ro";
  spec.mounts = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_access}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", sys_access}},
  };
  // The pod's shared files, unless the container brings its own.
  auto user_mounts = [&](const std::string& destination) {
    return std::any_of(c.mounts.begin(), c.mounts.end(),
                       [&](const MountSpec& m) { return m.container_path == destination; });
  };
  const std::string& dir = in.pod->dir;
  for (auto [file, destination] : {std::pair{"hosts", "/etc/hosts"}, std::pair{"resolv.conf", "/etc/resolv.conf"},
                                   std::pair{"hostname", "/etc/hostname"}}) {
    if (!user_mounts(destination)) spec.mounts.push_back(BindMount(destination, dir + "/" + file, sec.readonly_rootfs));
  }
  if (!user_mounts("/dev/shm")) {
    std::string shm = pod.ipc == NamespaceMode::kNode ? "/dev/shm" : in.pod->shm_path;
    spec.mounts.push_back(BindMount("/dev/shm", shm, false));
  }
  for (const auto& m : c.mounts) {
    if (m.container_path.empty() || m.container_path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("mount destination \"", m.container_path, "\" must be absolute"));
    }
    if (m.host_path.empty() || m.host_path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("mount source \"", m.host_path, "\" must be an absolute host path"));
    }
    if (m.recursive_readonly && !m.readonly) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount on ", m.container_path, ": recursive read-only needs readonly set as well"));
    }
    if (m.recursive_readonly && m.propagation != 0) {
      // Mounts arriving later from the host could not be made read-only.
      return absl::InvalidArgumentError(
          absl::StrCat("mount on ", m.container_path, ": recursive read-only needs private propagation"));
    }
    const char* propagation = m.propagation == 2 ? "rshared" : m.propagation == 1 ? "rslave" : "rprivate";
    spec.mounts.push_back(BindMount(m.container_path, m.host_path, m.readonly, propagation, m.recursive_readonly));
  }

  spec.namespaces.push_back({"mount", ""});
  if (!in.pod->userns_path.empty()) {
    spec.namespaces.push_back({"user", in.pod->userns_path});
    spec.uid_mappings = pod.userns.uids;
    spec.gid_mappings = pod.userns.gids;
  }
  auto join_or_new = [&](const char* type, const std::string& path) { spec.namespaces.push_back({type, path}); };
  if (pod.network != NamespaceMode::kNode) join_or_new("network", in.pod->netns_path);
  if (pod.ipc != NamespaceMode::kNode) join_or_new("ipc", in.pod->ipcns_path);
  if (pod.network != NamespaceMode::kNode) join_or_new("uts", in.pod->utsns_path);
  NamespaceMode pid_mode = sec.pid;
  if (pid_mode == NamespaceMode::kTarget) {
    if (in.target_pid_ns.empty()) return absl::FailedPreconditionError("target container for the PID namespace is not running");
    join_or_new("pid", in.target_pid_ns);
  } else if (pid_mode != NamespaceMode::kNode) {
    if (pid_mode == NamespaceMode::kPod) {
      if (in.pod->init_pid <= 0) return absl::FailedPreconditionError("the pod has no shared PID namespace");
      join_or_new("pid", absl::StrCat("/proc/", in.pod->init_pid, "/ns/pid"));
    } else {
      join_or_new("pid", "");
    }
  }

  spec.cgroups_path = in.cgroup_path;
  spec.resources = ContainerResources(c.resources, in.cgroup_controllers, in.cgroup_v2);
  // Every device denied, then those the container is given allowed (privileged: all).
  spec.resources->devices = {{.allow = sec.privileged, .type = 'a', .major = -1, .minor = -1, .access = "rwm"}};
  spec.sysctl = pod.sysctls;
  if (!sec.privileged) {
    spec.masked_paths = sec.masked_paths.empty() ? kDefaultMaskedPaths : sec.masked_paths;
    spec.readonly_paths = sec.readonly_paths.empty() ? kDefaultReadonlyPaths : sec.readonly_paths;
  }
  ASSIGN_OR_RETURN(spec.seccomp, SeccompProfile(sec, caps));
  if (sec.privileged) {
    // A node can vanish between the listing and the stat (a hot-unplugged disk).
    for (const std::string& path : HostDevicePaths()) (void)AddDevice(path, path, "rwm", true, spec);
  }
  for (const auto& d : c.devices) {
    RETURN_IF_ERROR(AddDevice(d.host_path, d.container_path, d.permissions, sec.privileged, spec));
  }
  spec.annotations = c.annotations;
  if (pod.network != NamespaceMode::kNode && !pod.hostname.empty()) spec.hostname = pod.hostname;
  // Mounts that propagate need the container's root to propagate too.
  int widest = 0;
  for (const auto& m : c.mounts) widest = std::max(widest, m.propagation);
  if (widest == 2) spec.rootfs_propagation = "rshared";
  if (widest == 1) spec.rootfs_propagation = "rslave";
  return spec;
}

}  // namespace berth::pods

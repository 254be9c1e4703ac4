#include "pods/oci_spec.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "pods/apparmor.h"
#include "pods/seccomp_default.h"

namespace berth::pods {
namespace {

using nlohmann::json;

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

int OpenInRoot(const std::string& root, const std::string& path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return -1;
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir.get(), path.c_str(), &how, sizeof how));
}

// A colon-separated database (/etc/passwd, /etc/group) of the image, read within the
// rootfs so that a symlinked /etc cannot point berthd at host files.
std::vector<std::vector<std::string>> ReadDb(const std::string& rootfs, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  UniqueFd fd(OpenInRoot(rootfs, path));
  if (!fd) return rows;
  std::string data;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && data.size() < (4 << 20)) data.append(buf, n);
  for (absl::string_view line : absl::StrSplit(data, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    rows.push_back(absl::StrSplit(line, ':'));
  }
  return rows;
}

struct User {
  int64_t uid = 0;
  int64_t gid = 0;
  std::string name;
  std::vector<int64_t> additional_gids;
};

StatusOr<User> ResolveUser(const SpecInputs& in) {
  const SecuritySpec& sec = in.container->security;
  auto passwd = ReadDb(in.rootfs, "/etc/passwd");
  User user;
  bool have_gid = false;
  auto by_uid = [&](int64_t uid) {
    for (const auto& row : passwd) {
      int64_t id;
      if (row.size() >= 4 && absl::SimpleAtoi(row[2], &id) && id == uid) return &row;
    }
    return static_cast<const std::vector<std::string>*>(nullptr);
  };
  auto by_name = [&](const std::string& name) {
    for (const auto& row : passwd) {
      if (row.size() >= 4 && row[0] == name) return &row;
    }
    return static_cast<const std::vector<std::string>*>(nullptr);
  };
  std::string image_user = in.image->user;
  std::string image_group;
  if (size_t colon = image_user.find(':'); colon != std::string::npos) {
    image_group = image_user.substr(colon + 1);
    image_user = image_user.substr(0, colon);
  }
  if (sec.run_as_user) {
    user.uid = *sec.run_as_user;
  } else {
    std::string name = !sec.run_as_username.empty() ? sec.run_as_username : image_user;
    int64_t numeric;
    if (name.empty()) {
      user.uid = 0;
    } else if (absl::SimpleAtoi(name, &numeric)) {
      user.uid = numeric;
    } else {
      const auto* row = by_name(name);
      if (row == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("user \"", name, "\" is not in the image's /etc/passwd"));
      }
      (void)absl::SimpleAtoi((*row)[2], &user.uid);
      (void)absl::SimpleAtoi((*row)[3], &user.gid);
      have_gid = true;
    }
  }
  if (const auto* row = by_uid(user.uid)) {
    user.name = (*row)[0];
    if (!have_gid) have_gid = absl::SimpleAtoi((*row)[3], &user.gid);
  }
  if (sec.run_as_group) {
    user.gid = *sec.run_as_group;
  } else if (!image_group.empty() && !sec.run_as_user && sec.run_as_username.empty()) {
    int64_t numeric;
    if (absl::SimpleAtoi(image_group, &numeric)) {
      user.gid = numeric;
    } else {
      for (const auto& row : ReadDb(in.rootfs, "/etc/group")) {
        if (row.size() >= 3 && row[0] == image_group) (void)absl::SimpleAtoi(row[2], &user.gid);
      }
    }
  }
  // The primary group first (as containerd lists it), then the groups the image's
  // /etc/group puts the user in (unless the pod or container is Strict about it),
  // then the pod's and container's.
  user.additional_gids.push_back(user.gid);
  const bool strict = sec.strict_supplemental_groups || in.pod->spec.strict_supplemental_groups;
  if (!user.name.empty() && !strict) {
    for (const auto& row : ReadDb(in.rootfs, "/etc/group")) {
      if (row.size() < 4) continue;
      for (absl::string_view member : absl::StrSplit(row[3], ',', absl::SkipEmpty())) {
        int64_t gid;
        if (member == user.name && absl::SimpleAtoi(row[2], &gid)) user.additional_gids.push_back(gid);
      }
    }
  }
  for (int64_t gid : in.pod->spec.supplemental_groups) user.additional_gids.push_back(gid);
  for (int64_t gid : sec.supplemental_groups) user.additional_gids.push_back(gid);
  std::sort(user.additional_gids.begin(), user.additional_gids.end());
  user.additional_gids.erase(std::unique(user.additional_gids.begin(), user.additional_gids.end()),
                             user.additional_gids.end());
  return user;
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

json BindMount(const std::string& destination, const std::string& source, bool readonly,
               const std::string& propagation = "rprivate", bool recursive_readonly = false) {
  json options = {"rbind", propagation, readonly ? "ro" : "rw"};
  if (recursive_readonly) options.push_back("rro");
  return {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}};
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
                 bool privileged, json& linux) {
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
  const char* type = S_ISCHR(st.st_mode) ? "c" : "b";
  json& devices = linux["devices"];
  for (auto it = devices.begin(); it != devices.end(); ++it) {
    if ((*it)["path"] == container_path) {
      devices.erase(it);  // a device asked for by path wins over the host's at that path
      break;
    }
  }
  devices.push_back({{"path", container_path}, {"type", type}, {"major", major(st.st_rdev)},
                     {"minor", minor(st.st_rdev)}, {"fileMode", st.st_mode & 0777}, {"uid", st.st_uid},
                     {"gid", st.st_gid}});
  // Privileged containers may use every device already.
  if (!privileged) {
    linux["resources"]["devices"].push_back({{"allow", true}, {"type", type}, {"major", major(st.st_rdev)},
                                             {"minor", minor(st.st_rdev)},
                                             {"access", permissions.empty() ? "rwm" : permissions}});
  }
  return absl::OkStatus();
}

// capabilities: the container's (bounding set), which widen RuntimeDefault.
StatusOr<json> SeccompProfile(const SecuritySpec& sec, const std::vector<std::string>& capabilities) {
  if (sec.privileged) return json();
  const std::string& type = sec.seccomp.type;
  if (type.empty() || type == "unconfined") return json();
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
    json profile = json::parse(*data, nullptr, false);
    if (profile.is_discarded() || !profile.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("seccomp profile ", sec.seccomp.localhost_ref, " is not JSON"));
    }
    return profile;
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

json ExecProcess(const json& container_spec, const std::vector<std::string>& args) {
  json process = container_spec.at("process");
  process["args"] = args;
  process["terminal"] = false;
  process.erase("oomScoreAdj");
  return process;
}

StatusOr<json> BuildOciSpec(const SpecInputs& in) {
  const PodSpec& pod = in.pod->spec;
  const ContainerSpec& c = *in.container;
  const SecuritySpec& sec = c.security;
  ASSIGN_OR_RETURN(std::vector<std::string> args, ResolveArgs(c, *in.image));
  ASSIGN_OR_RETURN(User user, ResolveUser(in));
  std::vector<std::string> caps = ContainerCapabilities(sec);

  json process = {
      {"terminal", c.tty},
      {"user", {{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", user.additional_gids}}},
      {"args", args},
      {"env", MergeEnv(*in.image, c, pod.hostname)},
      {"cwd", !c.working_dir.empty() ? c.working_dir : (!in.image->working_dir.empty() ? in.image->working_dir : "/")},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", sec.no_new_privs},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", NofileLimit()}, {"soft", NofileLimit()}}}},
  };
  if (c.resources.oom_score_adj != 0) process["oomScoreAdj"] = ClampOomScoreAdj(c.resources.oom_score_adj);
  ASSIGN_OR_RETURN(std::string apparmor, AppArmorProfileFor(sec));
  if (!apparmor.empty()) process["apparmorProfile"] = apparmor;

  json mounts = json::array();
  mounts.push_back({{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"},
                    {"options", {"nosuid", "noexec", "nodev"}}});
  mounts.push_back({{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                    {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}});
  mounts.push_back({{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
                    {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}});
  mounts.push_back({{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
                    {"options", {"nosuid", "noexec", "nodev"}}});
  mounts.push_back({{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
                    {"options", {"nosuid", "noexec", "nodev", sec.privileged ? "rw" : "ro"}}});
  mounts.push_back({{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"},
                    {"options", {"nosuid", "noexec", "nodev", "relatime", sec.privileged ? "rw" : "ro"}}});
  // The pod's shared files, unless the container brings its own.
  auto user_mounts = [&](const std::string& destination) {
    return std::any_of(c.mounts.begin(), c.mounts.end(),
                       [&](const MountSpec& m) { return m.container_path == destination; });
  };
  const std::string& dir = in.pod->dir;
  for (auto [file, destination] : {std::pair{"hosts", "/etc/hosts"}, std::pair{"resolv.conf", "/etc/resolv.conf"},
                                   std::pair{"hostname", "/etc/hostname"}}) {
    if (!user_mounts(destination)) mounts.push_back(BindMount(destination, dir + "/" + file, sec.readonly_rootfs));
  }
  if (!user_mounts("/dev/shm")) {
    std::string shm = pod.ipc == NamespaceMode::kNode ? "/dev/shm" : in.pod->shm_path;
    mounts.push_back(BindMount("/dev/shm", shm, false));
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
    mounts.push_back(BindMount(m.container_path, m.host_path, m.readonly, propagation, m.recursive_readonly));
  }

  json namespaces = json::array();
  namespaces.push_back({{"type", "mount"}});
  auto join_or_new = [&](const char* type, const std::string& path) {
    namespaces.push_back(path.empty() ? json{{"type", type}} : json{{"type", type}, {"path", path}});
  };
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

  json resources = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  if (sec.privileged) resources["devices"] = {{{"allow", true}, {"access", "rwm"}}};
  const ResourcesSpec& r = c.resources;
  json memory = json::object();
  if (r.memory_limit > 0) memory["limit"] = r.memory_limit;
  if (r.memory_swap_limit > 0) memory["swap"] = r.memory_swap_limit;
  if (!memory.empty() && in.cgroup_controllers.count("memory")) resources["memory"] = memory;
  json cpu = json::object();
  if (r.cpu_shares > 0) cpu["shares"] = r.cpu_shares;
  if (r.cpu_quota > 0) cpu["quota"] = r.cpu_quota;
  if (r.cpu_period > 0) cpu["period"] = r.cpu_period;
  if (!r.cpuset_cpus.empty()) cpu["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) cpu["mems"] = r.cpuset_mems;
  if (!cpu.empty()) resources["cpu"] = cpu;
  if (r.pids_limit > 0 && in.cgroup_controllers.count("pids")) resources["pids"] = {{"limit", r.pids_limit}};
  if (in.cgroup_controllers.count("hugetlb")) {
    json pages = json::array();
    for (const auto& [size, limit] : r.hugepage_limits) pages.push_back({{"pageSize", size}, {"limit", limit}});
    if (!pages.empty()) resources["hugepageLimits"] = pages;
  }
  if (in.cgroup_v2 && !r.unified.empty()) resources["unified"] = r.unified;

  json linux = {{"namespaces", namespaces}, {"cgroupsPath", in.cgroup_path}, {"resources", resources}};
  if (!pod.sysctls.empty()) linux["sysctl"] = pod.sysctls;
  if (!sec.privileged) {
    linux["maskedPaths"] = sec.masked_paths.empty() ? kDefaultMaskedPaths : sec.masked_paths;
    linux["readonlyPaths"] = sec.readonly_paths.empty() ? kDefaultReadonlyPaths : sec.readonly_paths;
  }
  ASSIGN_OR_RETURN(json seccomp, SeccompProfile(sec, caps));
  if (!seccomp.is_null()) linux["seccomp"] = seccomp;
  linux["devices"] = json::array();
  if (sec.privileged) {
    // A node can vanish between the listing and the stat (a hot-unplugged disk).
    for (const std::string& path : HostDevicePaths()) (void)AddDevice(path, path, "rwm", true, linux);
  }
  for (const auto& d : c.devices) {
    RETURN_IF_ERROR(AddDevice(d.host_path, d.container_path, d.permissions, sec.privileged, linux));
  }
  if (linux["devices"].empty()) linux.erase("devices");

  json spec = {{"ociVersion", "1.0.2"},
               {"process", process},
               {"root", {{"path", "rootfs"}, {"readonly", sec.readonly_rootfs}}},
               {"mounts", mounts},
               {"linux", linux},
               {"annotations", c.annotations}};
  if (pod.network != NamespaceMode::kNode && !pod.hostname.empty()) spec["hostname"] = pod.hostname;
  // Mounts that propagate need the container's root to propagate too.
  int widest = 0;
  for (const auto& m : c.mounts) widest = std::max(widest, m.propagation);
  if (widest == 2) spec["linux"]["rootfsPropagation"] = "rshared";
  if (widest == 1) spec["linux"]["rootfsPropagation"] = "rslave";
  return spec;
}

}  // namespace berth::pods

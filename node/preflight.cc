#include "node/preflight.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"

namespace berth::node {

namespace {

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

bool HasCapability(cap_value_t cap) {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t value = CAP_CLEAR;
  cap_get_flag(caps, cap, CAP_EFFECTIVE, &value);
  cap_free(caps);
  return value == CAP_SET;
}

bool ReadOnly(const char* path) {
  struct statvfs fs;
  return ::statvfs(path, &fs) != 0 || (fs.f_flag & ST_RDONLY) != 0;
}

void CheckPrivileges(std::vector<Finding>& findings) {
  const char* advice = "run the node container privileged";
  if (::geteuid() != 0) findings.push_back({true, absl::StrCat("berth-node must run as root: ", advice)});
  for (auto [cap, name] : {std::pair{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}, std::pair{CAP_NET_ADMIN, "CAP_NET_ADMIN"}}) {
    if (!HasCapability(cap)) findings.push_back({true, absl::StrCat(name, " is missing: ", advice)});
  }
  for (const char* path : {"/sys", "/proc/sys"}) {
    if (ReadOnly(path)) {
      findings.push_back({true, absl::StrCat(path, " is read-only (kubelet and CNI plugins write to it): ", advice)});
    }
  }
}

void CheckCgroups(std::vector<Finding>& findings) {
  auto layout = cgroups::DetectLayout(kCgroupRoot);
  if (!layout.ok()) {
    findings.push_back({true, absl::StrCat("no usable cgroups at ", kCgroupRoot, ": ", layout.status().message())});
    return;
  }
  const bool v2 = layout->mode == cgroups::Mode::kUnified;
  std::vector<std::string> needed = v2 ? std::vector<std::string>{"cpu", "memory", "pids"}
                                       : std::vector<std::string>{"cpu", "cpuacct", "cpuset", "memory", "pids",
                                                                  "devices"};
  std::vector<std::string> missing;
  for (const auto& controller : needed) {
    if (!layout->controllers.count(controller)) missing.push_back(controller);
  }
  if (!missing.empty()) {
    findings.push_back({true, v2 ? absl::StrCat("cgroup v2 lacks the ", absl::StrJoin(missing, ", "),
                                                " controller(s) in ", kCgroupRoot,
                                                "/cgroup.controllers: the outer runtime must delegate them")
                                 : absl::StrCat("cgroup v1 hierarchies missing at ", kCgroupRoot, ": ",
                                                absl::StrJoin(missing, ", "))});
  }
  std::vector<std::string> dirs;
  if (v2) {
    dirs.push_back(kCgroupRoot);
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(kCgroupRoot, ec)) {
      if (!entry.is_symlink(ec) && entry.is_directory(ec)) dirs.push_back(entry.path().string());
    }
  }
  for (const auto& dir : dirs) {
    if (ReadOnly(dir.c_str()) || ::access(dir.c_str(), W_OK) != 0) {
      findings.push_back({true, absl::StrCat(dir, " is not writable: the node container needs its cgroups "
                                                  "read-write (run it privileged)")});
    }
  }
}

void CheckNetwork(const NodeConfig& config, std::vector<Finding>& findings) {
  bool has_link = false;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net", ec)) {
    if (entry.path().filename() != "lo") has_link = true;
  }
  if (!has_link) {
    findings.push_back({true, "the node has no network link but lo: give the node container a network "
                              "namespace on a bridge (a pod network)"});
  }
  struct stat own;
  if (::stat("/proc/self/ns/net", &own) != 0) return;
  for (const auto& forward : config.forward) {
    struct stat other;
    if (::stat(forward.netns.c_str(), &other) != 0) {
      findings.push_back({true, absl::StrCat("forward of port ", forward.port, ": cannot open ", forward.netns,
                                             " (bind-mount the target's /proc/PID/ns/net there)")});
    } else if (other.st_ino == own.st_ino && other.st_dev == own.st_dev) {
      findings.push_back({true, absl::StrCat(forward.netns, " is the node's own network namespace: the node "
                                                            "container needs one of its own")});
    }
  }
}

void CheckStateDirs(const NodeConfig& config, std::vector<Finding>& findings) {
  for (const auto& dir : config.state_dirs) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    struct statfs fs;
    if (::statfs(dir.c_str(), &fs) != 0) {
      findings.push_back({true, absl::StrCat("state directory ", dir, ": ", ec ? ec.message() : "cannot statfs")});
    } else if (fs.f_type == OVERLAYFS_SUPER_MAGIC) {
      findings.push_back({true, absl::StrCat("state directory ", dir, " is on overlayfs (the container's rootfs); "
                                             "image layers cannot be overlay-mounted from there: mount a volume "
                                             "(a host directory) at ", dir)});
    } else if (ReadOnly(dir.c_str())) {
      findings.push_back({true, absl::StrCat("state directory ", dir, " is read-only")});
    }
  }
}

void CheckKmsg(std::vector<Finding>& findings) {
  if (::access("/dev/kmsg", R_OK) == 0) return;
  if (::symlink("/dev/console", "/dev/kmsg") == 0) {
    findings.push_back({false, "/dev/kmsg is missing: linked it to /dev/console, so kubelet's OOM watcher "
                               "starts but sees no kernel OOM reports"});
  } else {
    findings.push_back({true, "/dev/kmsg is missing and cannot be made (kubelet's OOM watcher reads it)"});
  }
}

Status WriteText(const std::string& path, absl::string_view text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", path));
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return ErrnoError(absl::StrCat("write ", path));
  }
  return absl::OkStatus();
}

// cgroup v2's "no internal processes" rule: a cgroup with processes cannot hand
// controllers to children. berth-node moves itself to init/ and enables every
// controller at the root for berthd's cgroups.
Status DelegateV2() {
  const std::string root = kCgroupRoot;
  if (::mkdir((root + "/init").c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir init cgroup");
  RETURN_IF_ERROR(WriteText(root + "/init/cgroup.procs", absl::StrCat(::getpid())));
  ASSIGN_OR_RETURN(std::string controllers, ReadFile(root + "/cgroup.controllers"));
  std::string enable;
  for (auto name : absl::StrSplit(controllers, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    absl::StrAppend(&enable, enable.empty() ? "" : " ", "+", name);
  }
  if (enable.empty()) return absl::OkStatus();
  return WriteText(root + "/cgroup.subtree_control", enable);
}

// The host-wide kernel knobs kubelet sets when they differ from what it wants
// (protectKernelDefaults off, its default): they are not the node's to change.
constexpr std::pair<const char*, const char*> kKubeletTunables[] = {
    {"vm/overcommit_memory", "1"}, {"vm/panic_on_oom", "0"},
    {"kernel/panic", "10"},        {"kernel/panic_on_oops", "1"},
    {"kernel/keys/root_maxkeys", "1000000"}, {"kernel/keys/root_maxbytes", "25000000"},
};

// Each knob whose host value differs from kubelet's gets a read-only file over it in
// the node's /proc/sys saying kubelet's value: kubelet reads it, finds nothing to
// change, and the host keeps its own.
Status ShieldHostTunables() {
  const std::string dir = "/run/berth-node/sysctl";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  for (auto [knob, wanted] : kKubeletTunables) {
    const std::string path = absl::StrCat("/proc/sys/", knob);
    auto current = ReadFile(path);
    if (!current.ok() || absl::StripAsciiWhitespace(*current) == wanted) continue;
    std::string stand_in = absl::StrCat(dir, "/", knob);
    std::replace(stand_in.begin() + static_cast<long>(dir.size()) + 1, stand_in.end(), '/', '.');
    UniqueFd fd(::open(stand_in.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444));
    const std::string text = absl::StrCat(wanted, "\n");
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return ErrnoError(absl::StrCat("write ", stand_in));
    }
    if (::mount(stand_in.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount("", path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      return ErrnoError(absl::StrCat("cover ", path));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Finding> CheckNode(const NodeConfig& config) {
  std::vector<Finding> findings;
  CheckPrivileges(findings);
  CheckCgroups(findings);
  CheckNetwork(config, findings);
  CheckStateDirs(config, findings);
  CheckKmsg(findings);
  return findings;
}

Status PrepareNode() {
  auto layout = cgroups::DetectLayout(kCgroupRoot);
  if (!layout.ok()) return layout.status();
  // The namespace's root is the cgroup berth-node is in when it unshares: the node
  // container's, before v2's move to init/.
  if (::unshare(CLONE_NEWCGROUP) != 0) return ErrnoError("unshare the cgroup namespace");
  if (layout->mode == cgroups::Mode::kUnified) RETURN_IF_ERROR(DelegateV2());
  if (::mount("", "/", nullptr, MS_REC | MS_SHARED, nullptr) != 0) return ErrnoError("make / shared");
  RETURN_IF_ERROR(WriteText("/proc/sys/net/ipv4/ip_forward", "1"));
  // IPv6 may be off in the node's namespace; pods then have none either.
  (void)WriteText("/proc/sys/net/ipv6/conf/all/forwarding", "1");
  return ShieldHostTunables();
}

}  // namespace berth::node

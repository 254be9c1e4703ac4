#include "node/preflight.h"

#include <linux/magic.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

void CheckStateDirs(const NodeConfig& config, bool repair, std::vector<Finding>& findings) {
  for (const auto& dir : config.state_dirs) {
    std::error_code ec;
    if (repair) std::filesystem::create_directories(dir, ec);
    // Not made yet (--check): the filesystem it would be made on.
    std::filesystem::path probe = dir;
    while (!repair && !std::filesystem::exists(probe, ec) && probe.has_parent_path() && probe != "/") {
      probe = probe.parent_path();
    }
    struct statfs fs;
    if (::statfs(probe.c_str(), &fs) != 0) {
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

void CheckKmsg(bool repair, std::vector<Finding>& findings) {
  if (::access("/dev/kmsg", R_OK) == 0) return;
  if (!repair) {
    findings.push_back({false, "/dev/kmsg is missing: berth-node links it to /dev/console as it starts"});
    return;
  }
  if (::symlink("/dev/console", "/dev/kmsg") == 0) {
    findings.push_back({false, "/dev/kmsg is missing: linked it to /dev/console, so kubelet's OOM watcher "
                               "starts but sees no kernel OOM reports"});
  } else {
    findings.push_back({true, "/dev/kmsg is missing and cannot be made (kubelet's OOM watcher reads it)"});
  }
}

}  // namespace

std::vector<Finding> CheckNode(const NodeConfig& config, bool repair) {
  std::vector<Finding> findings;
  CheckPrivileges(findings);
  CheckCgroups(findings);
  CheckNetwork(config, findings);
  CheckStateDirs(config, repair, findings);
  CheckKmsg(repair, findings);
  return findings;
}

}  // namespace berth::node

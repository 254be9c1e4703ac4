#include "node/node_setup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"

namespace berth::node {

namespace {

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

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

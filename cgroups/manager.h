// A container's cgroup: one directory per v1 hierarchy, or one v2 directory.
//
//   ASSIGN_OR_RETURN(auto cg, Manager::Create(layout, "/kubepods/pod1/ctr"));
//   RETURN_IF_ERROR(cg.Apply(resources));
//   RETURN_IF_ERROR(cg.AddPid(pid));
//   ... later: cg.Remove();
//
// The path is absolute under each hierarchy's root ("/kubepods/pod1/ctr" lives at
// /sys/fs/cgroup/memory/kubepods/pod1/ctr on v1 and /sys/fs/cgroup/kubepods/pod1/ctr
// on v2). Parents are created as needed and left in place; Remove() removes only the
// leaf, which belongs to the container. Limits for controllers the host lacks (hugetlb
// here) are skipped.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cgroups/cgroups.h"
#include "cgroups/resources.h"

namespace berth::cgroups {

class Manager {
 public:
  // Creates the leaf in every hierarchy (an existing leaf is reused).
  static StatusOr<Manager> Create(const Layout& layout, const std::string& path);
  // Refers to an existing cgroup without touching the filesystem.
  static Manager Open(const Layout& layout, const std::string& path);

  const std::string& path() const { return path_; }
  // The leaf directories, one per hierarchy ("/sys/fs/cgroup/memory/kubepods/...").
  const std::vector<std::string>& dirs() const { return dirs_; }
  // Each leaf with its hierarchy's directory name under the root ("memory",
  // "cpu,cpuacct"; the v2 leaf is named ""): what a container sees at
  // /sys/fs/cgroup/NAME on v1.
  std::vector<std::pair<std::string, std::string>> HierarchyDirs() const;
  // The leaf of one v1 controller, or the v2 leaf; empty if the host lacks it.
  std::string DirFor(absl::string_view controller) const;

  Status Apply(const Resources& resources) const;
  // Only the device rules (v1: devices.allow/deny; v2: an eBPF program). Apply()
  // includes them; a create applies them on their own, once the container's /dev
  // nodes exist (making a node needs the 'm' access a rule may not give).
  Status ApplyDevices(const std::vector<DeviceRule>& rules) const;
  Status AddPid(pid_t pid) const;
  // Every process in the cgroup and in the cgroups below it (union over hierarchies).
  StatusOr<std::vector<pid_t>> Pids() const;
  // Freezes (or thaws) every process in the cgroup and returns once the kernel says
  // they are: v1's freezer.state, v2's cgroup.freeze and cgroup.events.
  // FAILED_PRECONDITION when the host has no freezer.
  Status SetFrozen(bool frozen) const;
  // The directory the freezer works on (CRIU's --freeze-cgroup); empty without one.
  std::string FreezerDir() const { return DirFor(layout_.mode == Mode::kUnified ? "" : "freezer"); }
  // Removes the leaf directories and the cgroups below them (a nested runtime's); they
  // must be empty. Missing leaves are fine.
  Status Remove() const;

 private:
  Manager(Layout layout, std::string path, std::vector<std::string> dirs)
      : layout_(std::move(layout)), path_(std::move(path)), dirs_(std::move(dirs)) {}

  Status ApplyV1(const Resources& r) const;
  Status ApplyV2(const Resources& r) const;

  Layout layout_;
  std::string path_;
  std::vector<std::string> dirs_;
};

// Normalises an OCI cgroupsPath: relative paths are taken from the root, "" becomes
// "/berth/<id>", and ".." components are refused.
StatusOr<std::string> NormalizePath(absl::string_view path, absl::string_view default_name);

}  // namespace berth::cgroups

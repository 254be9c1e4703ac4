#include "cgroups/manager.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cgroups/device_filter.h"

namespace berth::cgroups {

namespace {

// The mounted hierarchies under root, by directory name ("memory", "cpu,cpuacct",
// "systemd", "unified"); symlinked aliases are skipped.
std::vector<std::string> V1Hierarchies(const Layout& layout) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout.root, ec)) {
    if (entry.is_symlink(ec)) continue;
    struct statfs fs;
    if (::statfs(entry.path().c_str(), &fs) != 0) continue;
    if (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status WriteValue(const std::string& dir, absl::string_view file, absl::string_view value) {
  std::string path = absl::StrCat(dir, "/", file);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(absl::StrCat("open ", path));
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return ErrnoError(absl::StrCat("write \"", value, "\" to ", path));
  return absl::OkStatus();
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

// v1 cpuset refuses tasks until cpus and mems are set; new directories start empty.
Status InheritCpuset(const std::string& dir) {
  std::string parent = std::filesystem::path(dir).parent_path().string();
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto own = ReadFile(absl::StrCat(dir, "/", file));
    if (!own.ok()) return own.status();
    if (!Trim(*own).empty()) continue;
    ASSIGN_OR_RETURN(std::string value, ReadFile(absl::StrCat(parent, "/", file)));
    RETURN_IF_ERROR(WriteValue(dir, file, Trim(value)));
  }
  return absl::OkStatus();
}

Status MakeCgroupDirs(const std::string& base, const std::string& path, bool cpuset) {
  // A parent can vanish between our mkdir and the child's: the last pod leaving
  // removes berth's default parent while another pod's container is being made.
  // Starting over recreates it; a few rounds are plenty.
  for (int attempt = 0;; ++attempt) {
    std::string current = base;
    bool vanished = false;
    for (auto part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
      current = absl::StrCat(current, "/", part);
      if (::mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) {
        if (errno == ENOENT && attempt < 3) {
          vanished = true;
          break;
        }
        return ErrnoError(absl::StrCat("mkdir ", current));
      }
      if (cpuset) RETURN_IF_ERROR(InheritCpuset(current));
    }
    if (!vanished) return absl::OkStatus();
  }
}

std::string DeviceNumber(int64_t n) { return n < 0 ? "*" : absl::StrCat(n); }

std::string DeviceRuleText(const DeviceRule& rule) {
  if (rule.type == 'a') return "a";
  return absl::StrCat(std::string(1, rule.type), " ", DeviceNumber(rule.major), ":",
                      DeviceNumber(rule.minor), " ", rule.access);
}

// The devices every container gets, as runc and crun grant them.
std::vector<DeviceRule> DefaultDeviceRules() {
  std::vector<DeviceRule> rules;
  auto add = [&](char type, int64_t major, int64_t minor) {
    rules.push_back({true, type, major, minor, "rwm"});
  };
  add('c', 1, 3);    // null
  add('c', 1, 5);    // zero
  add('c', 1, 7);    // full
  add('c', 1, 8);    // random
  add('c', 1, 9);    // urandom
  add('c', 5, 0);    // tty
  add('c', 5, 1);    // console
  add('c', 5, 2);    // ptmx
  add('c', 136, -1); // pts/*
  return rules;
}

// The rules a container's devices are checked against: the spec's, then the
// defaults (which a spec cannot take away, as with runc).
std::vector<DeviceRule> WithDefaultDevices(const std::vector<DeviceRule>& spec_rules) {
  std::vector<DeviceRule> rules = spec_rules;
  for (const auto& rule : DefaultDeviceRules()) rules.push_back(rule);
  return rules;
}

// OCI shares (2..262144) to v2 weight (1..10000), the conversion runc and crun use.
uint64_t SharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::string HugepageV1Name(const std::string& size) {
  // OCI "2MB" is v1's "hugetlb.2MB.limit_in_bytes".
  return absl::StrCat("hugetlb.", size, ".limit_in_bytes");
}

}  // namespace

StatusOr<std::string> NormalizePath(absl::string_view path, absl::string_view default_name) {
  if (path.empty()) return absl::StrCat("/berth/", default_name);
  std::vector<std::string> parts;
  for (auto part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == "." ) continue;
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("cgroupsPath ", path, " contains \"..\""));
    }
    parts.emplace_back(part);
  }
  if (parts.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cgroupsPath \"", path, "\" names the root"));
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

Manager Manager::Open(const Layout& layout, const std::string& path) {
  std::vector<std::string> dirs;
  if (layout.mode == Mode::kUnified) {
    dirs.push_back(layout.root + path);
  } else {
    for (const auto& name : V1Hierarchies(layout)) {
      dirs.push_back(absl::StrCat(layout.root, "/", name, path));
    }
  }
  return Manager(layout, path, std::move(dirs));
}

StatusOr<Manager> Manager::Create(const Layout& layout, const std::string& path) {
  Manager manager = Open(layout, path);
  std::vector<std::string> created;
  for (const auto& dir : manager.dirs_) {
    std::string base = dir.substr(0, dir.size() - path.size());
    bool existed = Exists(dir);
    bool cpuset = layout.mode != Mode::kUnified &&
                  std::filesystem::path(base).filename().string().find("cpuset") != std::string::npos;
    Status status = MakeCgroupDirs(base, path, cpuset);
    if (!status.ok()) {
      for (const auto& c : created) ::rmdir(c.c_str());
      return Annotate(status, absl::StrCat("create cgroup ", path));
    }
    if (!existed) created.push_back(dir);
  }
  if (layout.mode == Mode::kUnified) {
    // Enable the root's controllers down to the leaf's parent so limits can be set.
    std::string controllers;
    for (const auto& c : layout.controllers) absl::StrAppend(&controllers, "+", c, " ");
    std::string current = layout.root;
    std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
    for (size_t i = 0; i < parts.size(); ++i) {
      (void)WriteValue(current, "cgroup.subtree_control", controllers);
      current = absl::StrCat(current, "/", parts[i]);
    }
  }
  return manager;
}

std::vector<std::pair<std::string, std::string>> Manager::HierarchyDirs() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& dir : dirs_) {
    std::string rest = dir.substr(layout_.root.size() + 1);
    out.emplace_back(layout_.mode == Mode::kUnified ? "" : rest.substr(0, rest.find('/')), dir);
  }
  return out;
}

std::string Manager::DirFor(absl::string_view controller) const {
  if (layout_.mode == Mode::kUnified) return dirs_.empty() ? "" : dirs_.front();
  for (const auto& dir : dirs_) {
    std::string rest = dir.substr(layout_.root.size() + 1);
    std::string name = rest.substr(0, rest.find('/'));
    for (auto c : absl::StrSplit(name, ',')) {
      if (c == controller) return dir;
    }
  }
  return "";
}

Status Manager::Apply(const Resources& r) const {
  Status status = layout_.mode == Mode::kUnified ? ApplyV2(r) : ApplyV1(r);
  if (status.ok()) status = ApplyDevices(r.devices);
  return Annotate(status, absl::StrCat("apply resources to cgroup ", path_));
}

Status Manager::ApplyDevices(const std::vector<DeviceRule>& rules) const {
  if (rules.empty()) return absl::OkStatus();  // an update without rules leaves them as they are
  if (layout_.mode == Mode::kUnified) return AttachDeviceFilter(dirs_.front(), WithDefaultDevices(rules));
  std::string dir = DirFor("devices");
  if (dir.empty()) return absl::OkStatus();
  // Deny everything, then allow what the spec and the defaults list, in order.
  RETURN_IF_ERROR(WriteValue(dir, "devices.deny", "a"));
  for (const auto& rule : WithDefaultDevices(rules)) {
    if (rule.type == 'a' && !rule.allow) continue;  // already denied
    RETURN_IF_ERROR(WriteValue(dir, rule.allow ? "devices.allow" : "devices.deny", DeviceRuleText(rule)));
  }
  return absl::OkStatus();
}

Status Manager::ApplyV1(const Resources& r) const {
  if (!r.unified.empty()) {
    return absl::InvalidArgumentError("linux.resources.unified needs a cgroup v2 host");
  }
  if (std::string dir = DirFor("memory"); !dir.empty()) {
    if (r.memory_reservation) {
      RETURN_IF_ERROR(WriteValue(dir, "memory.soft_limit_in_bytes", absl::StrCat(*r.memory_reservation)));
    }
    bool has_swap_file = Exists(dir + "/memory.memsw.limit_in_bytes");
    if (r.memory_limit && r.memory_swap && has_swap_file) {
      // memsw must stay >= limit at every step, so the order depends on the direction.
      Status first = WriteValue(dir, "memory.limit_in_bytes", absl::StrCat(*r.memory_limit));
      RETURN_IF_ERROR(WriteValue(dir, "memory.memsw.limit_in_bytes", absl::StrCat(*r.memory_swap)));
      if (!first.ok()) {
        RETURN_IF_ERROR(WriteValue(dir, "memory.limit_in_bytes", absl::StrCat(*r.memory_limit)));
      }
    } else {
      if (r.memory_limit) {
        RETURN_IF_ERROR(WriteValue(dir, "memory.limit_in_bytes", absl::StrCat(*r.memory_limit)));
      }
      if (r.memory_swap && has_swap_file) {
        RETURN_IF_ERROR(WriteValue(dir, "memory.memsw.limit_in_bytes", absl::StrCat(*r.memory_swap)));
      }
    }
  }
  if (std::string dir = DirFor("cpu"); !dir.empty()) {
    if (r.cpu_shares && *r.cpu_shares != 0) {
      RETURN_IF_ERROR(WriteValue(dir, "cpu.shares", absl::StrCat(*r.cpu_shares)));
    }
    if (r.cpu_period && *r.cpu_period != 0) {
      RETURN_IF_ERROR(WriteValue(dir, "cpu.cfs_period_us", absl::StrCat(*r.cpu_period)));
    }
    if (r.cpu_quota && *r.cpu_quota != 0) {
      RETURN_IF_ERROR(WriteValue(dir, "cpu.cfs_quota_us", absl::StrCat(*r.cpu_quota)));
    }
  }
  if (std::string dir = DirFor("cpuset"); !dir.empty()) {
    if (r.cpuset_cpus && !r.cpuset_cpus->empty()) {
      RETURN_IF_ERROR(WriteValue(dir, "cpuset.cpus", *r.cpuset_cpus));
    }
    if (r.cpuset_mems && !r.cpuset_mems->empty()) {
      RETURN_IF_ERROR(WriteValue(dir, "cpuset.mems", *r.cpuset_mems));
    }
  }
  if (std::string dir = DirFor("pids"); !dir.empty() && r.pids_limit) {
    RETURN_IF_ERROR(WriteValue(dir, "pids.max",
                               *r.pids_limit > 0 ? absl::StrCat(*r.pids_limit) : "max"));
  }
  if (std::string dir = DirFor("hugetlb"); !dir.empty()) {
    for (const auto& h : r.hugepage_limits) {
      RETURN_IF_ERROR(WriteValue(dir, HugepageV1Name(h.page_size), absl::StrCat(h.limit)));
    }
  }
  if (std::string dir = DirFor("blkio"); !dir.empty()) {
    if (r.blkio_weight && *r.blkio_weight != 0) {
      std::string file = Exists(dir + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
      RETURN_IF_ERROR(WriteValue(dir, file, absl::StrCat(*r.blkio_weight)));
    }
    for (const auto& d : r.blkio_weight_devices) {
      if (!d.weight) continue;
      std::string file = Exists(dir + "/blkio.weight_device") ? "blkio.weight_device"
                                                              : "blkio.bfq.weight_device";
      RETURN_IF_ERROR(WriteValue(dir, file, absl::StrCat(d.major, ":", d.minor, " ", *d.weight)));
    }
    auto throttle = [&](const std::vector<BlockIoThrottleDevice>& devices, const char* file) {
      for (const auto& d : devices) {
        RETURN_IF_ERROR(WriteValue(dir, file, absl::StrCat(d.major, ":", d.minor, " ", d.rate)));
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(throttle(r.throttle_read_bps, "blkio.throttle.read_bps_device"));
    RETURN_IF_ERROR(throttle(r.throttle_write_bps, "blkio.throttle.write_bps_device"));
    RETURN_IF_ERROR(throttle(r.throttle_read_iops, "blkio.throttle.read_iops_device"));
    RETURN_IF_ERROR(throttle(r.throttle_write_iops, "blkio.throttle.write_iops_device"));
  }
  return absl::OkStatus();
}

Status Manager::ApplyV2(const Resources& r) const {
  const std::string& dir = dirs_.front();
  auto has = [&](const char* controller) { return layout_.controllers.count(controller) > 0; };
  if (has("memory")) {
    if (r.memory_reservation) {
      RETURN_IF_ERROR(WriteValue(dir, "memory.low", absl::StrCat(*r.memory_reservation)));
    }
    if (r.memory_limit) {
      RETURN_IF_ERROR(WriteValue(dir, "memory.max",
                                 *r.memory_limit < 0 ? "max" : absl::StrCat(*r.memory_limit)));
    }
    if (r.memory_swap && Exists(dir + "/memory.swap.max")) {
      std::string swap = "max";
      if (*r.memory_swap >= 0 && r.memory_limit && *r.memory_limit >= 0) {
        swap = absl::StrCat(std::max<int64_t>(0, *r.memory_swap - *r.memory_limit));
      }
      RETURN_IF_ERROR(WriteValue(dir, "memory.swap.max", swap));
    }
  }
  if (has("cpu")) {
    if (r.cpu_shares && *r.cpu_shares != 0) {
      RETURN_IF_ERROR(WriteValue(dir, "cpu.weight", absl::StrCat(SharesToWeight(*r.cpu_shares))));
    }
    if ((r.cpu_quota && *r.cpu_quota != 0) || (r.cpu_period && *r.cpu_period != 0)) {
      std::string quota = r.cpu_quota && *r.cpu_quota > 0 ? absl::StrCat(*r.cpu_quota) : "max";
      uint64_t period = r.cpu_period && *r.cpu_period ? *r.cpu_period : 100000;
      RETURN_IF_ERROR(WriteValue(dir, "cpu.max", absl::StrCat(quota, " ", period)));
    }
  }
  if (has("cpuset")) {
    if (r.cpuset_cpus && !r.cpuset_cpus->empty()) RETURN_IF_ERROR(WriteValue(dir, "cpuset.cpus", *r.cpuset_cpus));
    if (r.cpuset_mems && !r.cpuset_mems->empty()) RETURN_IF_ERROR(WriteValue(dir, "cpuset.mems", *r.cpuset_mems));
  }
  if (has("pids") && r.pids_limit) {
    RETURN_IF_ERROR(WriteValue(dir, "pids.max", *r.pids_limit > 0 ? absl::StrCat(*r.pids_limit) : "max"));
  }
  if (has("hugetlb")) {
    for (const auto& h : r.hugepage_limits) {
      RETURN_IF_ERROR(WriteValue(dir, absl::StrCat("hugetlb.", h.page_size, ".max"), absl::StrCat(h.limit)));
    }
  }
  if (has("io")) {
    if (r.blkio_weight && *r.blkio_weight != 0) {
      // v1 weights are 10..1000, v2's 1..10000.
      uint64_t weight = 1 + (static_cast<uint64_t>(*r.blkio_weight) - 10) * 9999 / 990;
      RETURN_IF_ERROR(WriteValue(dir, "io.weight", absl::StrCat("default ", weight)));
    }
    auto throttle = [&](const std::vector<BlockIoThrottleDevice>& devices, const char* key) {
      for (const auto& d : devices) {
        RETURN_IF_ERROR(WriteValue(dir, "io.max", absl::StrCat(d.major, ":", d.minor, " ", key, "=", d.rate)));
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(throttle(r.throttle_read_bps, "rbps"));
    RETURN_IF_ERROR(throttle(r.throttle_write_bps, "wbps"));
    RETURN_IF_ERROR(throttle(r.throttle_read_iops, "riops"));
    RETURN_IF_ERROR(throttle(r.throttle_write_iops, "wiops"));
  }
  for (const auto& [file, value] : r.unified) {
    if (file.find('/') != std::string::npos || file.find("..") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad unified key ", file));
    }
    RETURN_IF_ERROR(WriteValue(dir, file, value));
  }
  return absl::OkStatus();
}

Status Manager::AddPid(pid_t pid) const {
  for (const auto& dir : dirs_) {
    RETURN_IF_ERROR(Annotate(WriteValue(dir, "cgroup.procs", absl::StrCat(pid)),
                             absl::StrCat("add pid ", pid, " to cgroup")));
  }
  return absl::OkStatus();
}

Status Manager::SetFrozen(bool frozen) const {
  const std::string dir = FreezerDir();
  if (dir.empty()) return absl::FailedPreconditionError("this host's cgroups have no freezer");
  const bool v2 = layout_.mode == Mode::kUnified;
  if (v2) {
    RETURN_IF_ERROR(WriteValue(dir, "cgroup.freeze", frozen ? "1" : "0"));
  } else {
    RETURN_IF_ERROR(WriteValue(dir, "freezer.state", frozen ? "FROZEN" : "THAWED"));
  }
  // The kernel freezes task by task; the state says when all are (v1 reads FREEZING
  // meanwhile, and a write again nudges tasks that were busy in the kernel).
  for (int attempt = 0; attempt < 2000; ++attempt) {
    if (v2) {
      auto events = ReadFile(dir + "/cgroup.events");
      if (!events.ok()) return events.status();
      if (absl::StrContains(*events, frozen ? "frozen 1" : "frozen 0")) return absl::OkStatus();
    } else {
      auto state = ReadFile(dir + "/freezer.state");
      if (!state.ok()) return state.status();
      if (absl::StartsWith(*state, frozen ? "FROZEN" : "THAWED")) return absl::OkStatus();
      if (frozen && attempt % 10 == 9) RETURN_IF_ERROR(WriteValue(dir, "freezer.state", "FROZEN"));
    }
    ::usleep(1000);
  }
  return absl::DeadlineExceededError(absl::StrCat("cgroup ", path_, " did not ", frozen ? "freeze" : "thaw",
                                                  " within 2 s"));
}

namespace {

// dir and every cgroup below it, parents before children. A container that runs a
// runtime of its own (a berth node) has cgroups of its own below its leaf.
std::vector<std::string> Subtree(const std::string& dir) {
  std::vector<std::string> dirs = {dir};
  for (size_t i = 0; i < dirs.size(); ++i) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dirs[i], ec)) {
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) dirs.push_back(entry.path().string());
    }
  }
  return dirs;
}

}  // namespace

StatusOr<std::vector<pid_t>> Manager::Pids() const {
  std::set<pid_t> pids;
  for (const auto& leaf : dirs_) {
    for (const auto& dir : Subtree(leaf)) {
      auto content = ReadFile(dir + "/cgroup.procs");
      if (!content.ok()) {
        if (absl::IsNotFound(content.status())) continue;
        return content.status();
      }
      for (auto line : absl::StrSplit(*content, '\n', absl::SkipEmpty())) {
        pid_t pid;
        if (absl::SimpleAtoi(line, &pid)) pids.insert(pid);
      }
    }
  }
  return std::vector<pid_t>(pids.begin(), pids.end());
}

Status Manager::Remove() const {
  Status result;
  for (const auto& leaf : dirs_) {
    std::vector<std::string> dirs = Subtree(leaf);
    // Children before their parents: rmdir takes only a cgroup without children.
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (::rmdir(it->c_str()) != 0 && errno != ENOENT) {
        result.Update(ErrnoError(absl::StrCat("rmdir ", *it)));
      }
    }
  }
  return result;
}

}  // namespace berth::cgroups

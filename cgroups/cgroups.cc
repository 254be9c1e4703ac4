#include "cgroups/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"

namespace berth::cgroups {

absl::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kLegacy: return "v1";
    case Mode::kHybrid: return "hybrid";
    case Mode::kUnified: return "v2";
  }
  return "v1";
}

namespace {

bool IsCgroup2(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// cgroup.procs of berthd's own cgroup in one hierarchy (v2, or v1's pids or
// memory), "" if none is found.
std::string OwnProcsFile(const Layout& layout) {
  auto own = ReadFile("/proc/self/cgroup");
  if (!own.ok()) return "";
  for (absl::string_view line : absl::StrSplit(*own, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    const std::string path(fields[2]);
    if (layout.mode == Mode::kUnified) {
      if (fields[0] == "0") return absl::StrCat(layout.root, path, "/cgroup.procs");
      continue;
    }
    for (absl::string_view controller : absl::StrSplit(fields[1], ',')) {
      if (controller == "pids" || controller == "memory") {
        return absl::StrCat(layout.root, "/", controller, path, "/cgroup.procs");
      }
    }
  }
  return "";
}

}  // namespace

void PrimeMigration(const Layout& layout) {
  std::string procs = OwnProcsFile(layout);
  if (procs.empty()) return;
  std::thread([procs = std::move(procs)] {
    UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    const std::string pid = absl::StrCat(::getpid());
    if (fd && ::write(fd.get(), pid.data(), pid.size()) < 0) {
      // Nothing lost: the container's own move waits for the whole grace period.
    }
  }).detach();
}

void RemoveIfEmpty(const Layout& layout, const std::string& path) {
  if (layout.mode == Mode::kUnified) {
    ::rmdir((layout.root + path).c_str());
    return;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout.root, ec)) {
    if (entry.is_symlink(ec)) continue;
    ::rmdir((entry.path().string() + path).c_str());
  }
}

int KillAll(const Layout& layout, const std::string& path) {
  // Every hierarchy holds every process of the cgroup: one that has the cgroup is
  // enough (v1: the first found; they are all alike).
  std::vector<std::string> procs_files;
  if (layout.mode == Mode::kUnified) {
    procs_files.push_back(layout.root + path + "/cgroup.procs");
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(layout.root, ec)) {
      if (entry.is_symlink(ec)) continue;
      procs_files.push_back(entry.path().string() + path + "/cgroup.procs");
    }
  }
  int signalled = 0;
  for (const auto& file : procs_files) {
    if (::access(file.c_str(), F_OK) != 0) continue;
    for (int round = 0; round < 10; ++round) {
      auto content = ReadFile(file);
      if (!content.ok()) break;
      int seen = 0;
      for (auto line : absl::StrSplit(*content, '\n', absl::SkipEmpty())) {
        pid_t pid;
        if (!absl::SimpleAtoi(line, &pid) || pid <= 0) continue;
        ++seen;
        if (::kill(pid, SIGKILL) == 0) ++signalled;
      }
      if (seen == 0) break;
    }
    break;
  }
  return signalled;
}

StatusOr<Layout> DetectLayout(const std::string& root) {
  Layout layout;
  layout.root = root;
  struct statfs fs;
  if (::statfs(root.c_str(), &fs) != 0) return ErrnoError(absl::StrCat("statfs ", root));
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    layout.mode = Mode::kUnified;
    auto controllers = ReadFile(root + "/cgroup.controllers");
    if (!controllers.ok()) return controllers.status();
    for (auto name : absl::StrSplit(*controllers, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
      layout.controllers.emplace(name);
    }
    return layout;
  }
  if (fs.f_type != TMPFS_MAGIC) {
    return absl::FailedPreconditionError(
        absl::StrCat(root, " is neither a cgroup2 mount nor a tmpfs of v1 hierarchies"));
  }
  layout.mode = IsCgroup2(root + "/unified") ? Mode::kHybrid : Mode::kLegacy;
  // Each v1 hierarchy is a directory (or a symlink such as cpu -> cpu,cpuacct) whose
  // name lists its controllers; named hierarchies (name=systemd) carry none.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    std::string name = entry.path().filename().string();
    if (name == "unified" || name == "systemd") continue;
    struct statfs sub;
    if (::statfs(entry.path().c_str(), &sub) != 0 || sub.f_type != CGROUP_SUPER_MAGIC) continue;
    for (auto controller : absl::StrSplit(name, ',', absl::SkipEmpty())) {
      layout.controllers.emplace(controller);
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("list ", root, ": ", ec.message()));
  return layout;
}

}  // namespace berth::cgroups

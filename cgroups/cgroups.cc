#include "cgroups/cgroups.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_split.h"
#include "base/file_util.h"

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

}  // namespace

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

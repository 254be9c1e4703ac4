#include "runtime/sysctl.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::runtime {

StatusOr<std::string> SysctlPath(absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("empty sysctl name");
  // Levels are split on dots; a slash inside a level stands for a dot there.
  std::vector<std::string> levels;
  for (absl::string_view level : absl::StrSplit(key, '.')) {
    std::string name(level);
    for (char& ch : name) {
      if (ch == '/') ch = '.';
    }
    if (name.empty() || name == "." || name == ".." || name.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("sysctl \"", key, "\" is not a valid name"));
    }
    levels.push_back(std::move(name));
  }
  return absl::StrJoin(levels, "/");
}

SysctlNamespace SysctlNamespaceOf(absl::string_view key) {
  if (absl::StartsWith(key, "net.")) return SysctlNamespace::kNetwork;
  if (absl::StartsWith(key, "fs.mqueue.") || absl::StartsWith(key, "kernel.shm") ||
      absl::StartsWith(key, "kernel.msg") || key == "kernel.sem") {
    return SysctlNamespace::kIpc;
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") return SysctlNamespace::kUts;
  return SysctlNamespace::kNone;
}

Status CheckSysctl(absl::string_view key, const PrivateNamespaces& owned) {
  RETURN_IF_ERROR(SysctlPath(key).status());
  switch (SysctlNamespaceOf(key)) {
    case SysctlNamespace::kNone:
      return absl::InvalidArgumentError(
          absl::StrCat("sysctl \"", key, "\" is not namespaced: it would change the host"));
    case SysctlNamespace::kIpc:
      if (owned.ipc) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("sysctl \"", key, "\" needs a private IPC namespace; this one shares the host's"));
    case SysctlNamespace::kNetwork:
      if (owned.network) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("sysctl \"", key, "\" needs a private network namespace; this one shares the host's"));
    case SysctlNamespace::kUts:
      if (owned.uts) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("sysctl \"", key, "\" needs a private UTS namespace; this one shares the host's"));
  }
  return absl::InternalError("unreachable");
}

}  // namespace berth::runtime

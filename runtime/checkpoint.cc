#include "runtime/checkpoint.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json_field.h"

namespace berth::runtime {
namespace {

bool IsBind(const Mount& m) {
  return m.type == "bind" || std::any_of(m.options.begin(), m.options.end(), [](const std::string& option) {
           return option == "bind" || option == "rbind";
         });
}

}  // namespace

std::string ExternalMountsJson(const std::vector<ExternalMount>& mounts) {
  nlohmann::json json = nlohmann::json::array();
  for (const ExternalMount& m : mounts) json.push_back({{"key", m.key}, {"kind", m.kind}, {"detail", m.detail}});
  return json.dump(2);
}

StatusOr<std::vector<ExternalMount>> ParseExternalMounts(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_array()) return absl::InvalidArgumentError("berth-mounts.json is not a JSON array");
  std::vector<ExternalMount> mounts;
  for (const auto& entry : json) {
    if (!entry.is_object()) return absl::InvalidArgumentError("berth-mounts.json: an entry is not an object");
    ExternalMount m{JsonString(entry, "key"), JsonString(entry, "kind"), JsonString(entry, "detail")};
    if (m.key.empty() || (m.kind != "bind" && m.kind != "cgroup")) {
      return absl::InvalidArgumentError(absl::StrCat("berth-mounts.json: entry ", entry.dump(), " is not one"));
    }
    mounts.push_back(std::move(m));
  }
  return mounts;
}

std::vector<ExternalMount> ExternalMountsOf(const Spec& spec, const std::vector<std::string>& cgroup_hierarchies) {
  std::vector<ExternalMount> mounts;
  for (const Mount& m : spec.mounts) {
    if (IsBind(m)) {
      mounts.push_back({m.destination, "bind", ""});
    } else if (m.type == "cgroup") {
      // v1: a bind of each hierarchy's directory of the container (mounts.cc).
      for (const std::string& name : cgroup_hierarchies) {
        mounts.push_back({absl::StrCat(m.destination, "/", name), "cgroup", name});
      }
    }
  }
  return mounts;
}

std::vector<std::string> CriuDumpArgs(const DumpPlan& p) {
  std::vector<std::string> args = {p.criu, "dump", "--tree", std::to_string(p.pid), "--images-dir", p.image_path,
                                   "--work-dir", p.work_path, "--log-file", "dump.log", "-v4", "--root", p.root,
                                   // The cgroups are berth-runtime's to make (see the header).
                                   "--manage-cgroups=ignore", "--file-locks"};
  if (!p.freezer_dir.empty()) args.insert(args.end(), {"--freeze-cgroup", p.freezer_dir});
  if (p.leave_running) args.push_back("--leave-running");
  if (p.tcp_established) args.push_back("--tcp-established");
  for (const ExternalMount& m : p.mounts) {
    args.insert(args.end(), {"--external", absl::StrCat("mnt[", m.key, "]:", m.key)});
  }
  if (!p.netns_inode.empty()) {
    args.insert(args.end(), {"--external", absl::StrCat("net[", p.netns_inode, "]:berth-netns")});
  }
  return args;
}

std::vector<std::string> CriuRestoreArgs(const RestorePlan& p) {
  std::vector<std::string> args = {p.criu, "restore", "--images-dir", p.image_path, "--work-dir", p.work_path,
                                   "--log-file", "restore.log", "-v4", "--root", p.root, "--restore-detached",
                                   // The restored init becomes the child of whoever ran
                                   // CRIU (then of the shim, a subreaper, when that exits).
                                   "--restore-sibling", "--pidfile", p.pid_file, "--manage-cgroups=ignore",
                                   "--file-locks"};
  if (p.tcp_established) args.push_back("--tcp-established");
  for (const auto& [key, source] : p.mounts) {
    args.insert(args.end(), {"--external", absl::StrCat("mnt[", key, "]:", source)});
  }
  if (p.netns_fd >= 0) args.insert(args.end(), {"--inherit-fd", absl::StrCat("fd[", p.netns_fd, "]:berth-netns")});
  for (const auto& [type, path] : p.join_namespaces) {
    args.insert(args.end(), {"--join-ns", absl::StrCat(type, ":", path)});
  }
  for (const auto& [fd, pipe] : p.inherited_pipes) {
    args.insert(args.end(), {"--inherit-fd", absl::StrCat("fd[", fd, "]:", pipe)});
  }
  return args;
}

StatusOr<std::string> RestoreSource(const ExternalMount& mount, const Spec& spec,
                                    const std::vector<std::pair<std::string, std::string>>& cgroup_dirs) {
  if (mount.kind == "cgroup") {
    for (const auto& [name, dir] : cgroup_dirs) {
      if (name == mount.detail) return dir;
    }
    return absl::FailedPreconditionError(absl::StrCat("the checkpoint's cgroup hierarchy ", mount.detail,
                                                      " is not on this host"));
  }
  for (const Mount& m : spec.mounts) {
    if (m.destination == mount.key && IsBind(m)) return m.source;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the checkpoint has a bind mount on ", mount.key, ", which the restored container's spec lacks"));
}

}  // namespace berth::runtime

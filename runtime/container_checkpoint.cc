// Runtime::Checkpoint, Restore, Pause and Resume: see checkpoint.h for what CRIU is
// told and why.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"
#include "cgroups/manager.h"
#include "runtime/cgroup_cleanup.h"
#include "runtime/container.h"

namespace berth::runtime {
namespace {

constexpr char kMountsFile[] = "berth-mounts.json";
constexpr char kDescriptorsFile[] = "descriptors.json";

// The v1 hierarchies a container sees at /sys/fs/cgroup (none on v2, whose cgroup2
// mount CRIU makes itself).
std::vector<std::string> HierarchyNames(const cgroups::Manager& cg, const cgroups::Layout& layout) {
  std::vector<std::string> names;
  if (layout.mode == cgroups::Mode::kUnified) return names;
  for (const auto& [name, dir] : cg.HierarchyDirs()) names.push_back(name);
  return names;
}

// Runs CRIU with stdio as berth-runtime has it and the fds in keep (fd -> the
// number CRIU gets it as); in cgroup, when given, so what it restores is born there.
StatusOr<int> RunCriu(const std::vector<std::string>& args, const std::vector<std::pair<int, int>>& keep,
                      const cgroups::Manager* cgroup) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return ErrnoError("fork criu");
  if (child == 0) {
    if (cgroup != nullptr && !cgroup->AddPid(::getpid()).ok()) ::_exit(126);
    int next = 3;
    for (const auto& [fd, as] : keep) {
      // Moved above every target first, so no dup2 overwrites one still to come.
      int high = ::fcntl(fd, F_DUPFD, 100 + next++);
      if (high < 0 || ::dup2(high, as) < 0) ::_exit(126);
    }
    int highest = 2;
    for (const auto& [fd, as] : keep) highest = std::max(highest, as);
    ::close_range(static_cast<unsigned>(highest) + 1, ~0U, 0);
    ResetSignalsForExec();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("wait for criu");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

Status CriuFailed(absl::string_view what, int code, const std::string& log) {
  return absl::InternalError(absl::StrCat("criu ", what, " failed (exit code ", code, "); see ", log));
}

}  // namespace

Status Runtime::Pause(absl::string_view id) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  if (store_.Probe(state) != ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " is not running"));
  }
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  return cgroups::Manager::Open(layout, state.cgroup_path).SetFrozen(true);
}

Status Runtime::Resume(absl::string_view id) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  return cgroups::Manager::Open(layout, state.cgroup_path).SetFrozen(false);
}

Status Runtime::Checkpoint(const CheckpointOptions& o) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(o.id));
  if (store_.Probe(state) != ContainerStatus::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", o.id, " is not running"));
  }
  ASSIGN_OR_RETURN(Spec spec, LoadSpec(state));
  if (spec.process.terminal) {
    return absl::FailedPreconditionError(absl::StrCat("container ", o.id, " has a terminal, which is not dumped"));
  }
  if (spec.FindNamespace("user") != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("container ", o.id, " is in a user namespace"));
  }
  if (const Namespace* pid = spec.FindNamespace("pid"); pid == nullptr || !pid->path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("container ", o.id, " has no PID namespace of its own, so it cannot be restored whole"));
  }
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  cgroups::Manager cg = cgroups::Manager::Open(layout, state.cgroup_path);
  RETURN_IF_ERROR(MakeDirs(o.image_path, 0700));
  RETURN_IF_ERROR(MakeDirs(o.work_path, 0700));

  DumpPlan plan;
  plan.criu = o.criu.empty() ? "criu" : o.criu;
  plan.pid = state.pid;
  plan.image_path = o.image_path;
  plan.work_path = o.work_path;
  plan.root = state.rootfs;
  plan.freezer_dir = cg.FreezerDir();
  plan.mounts = ExternalMountsOf(spec, HierarchyNames(cg, layout));
  plan.leave_running = o.leave_running;
  plan.tcp_established = o.tcp_established;
  if (const Namespace* net = spec.FindNamespace("network"); net != nullptr && !net->path.empty()) {
    struct stat st;
    if (::stat(net->path.c_str(), &st) != 0) return ErrnoError("stat network namespace " + net->path);
    plan.netns_inode = std::to_string(st.st_ino);
  }
  RETURN_IF_ERROR(WriteFileAtomically(o.image_path + "/" + kMountsFile, ExternalMountsJson(plan.mounts), 0600,
                                      Durability::kCrash));
  // What the init's stdio is: the restore hands the new shim's pipes in their place.
  nlohmann::json descriptors = nlohmann::json::array();
  for (int fd = 0; fd < 3; ++fd) {
    char target[PATH_MAX];
    std::string link = absl::StrCat("/proc/", state.pid, "/fd/", fd);
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    descriptors.push_back(n > 0 ? std::string(target, static_cast<size_t>(n)) : "/dev/null");
  }
  RETURN_IF_ERROR(WriteFileAtomically(o.image_path + "/" + kDescriptorsFile, descriptors.dump(), 0600,
                                      Durability::kCrash));
  ASSIGN_OR_RETURN(int code, RunCriu(CriuDumpArgs(plan), {}, nullptr));
  if (code != 0) return CriuFailed("dump", code, o.work_path + "/dump.log");
  return absl::OkStatus();
}

Status Runtime::Restore(const RestoreOptions& o) {
  RETURN_IF_ERROR(ValidateId(o.id));
  char real[PATH_MAX];
  if (::realpath(o.bundle.c_str(), real) == nullptr) return ErrnoError(absl::StrCat("bundle ", o.bundle));
  const std::string bundle = real;
  ASSIGN_OR_RETURN(std::string config, ReadFile(bundle + "/config.json"));
  ASSIGN_OR_RETURN(Spec spec, ParseSpec(config, bundle));
  if (!spec.hooks.empty()) {
    // The hooks' moments (before pivot_root, before exec) do not exist in a restore.
    return absl::UnimplementedError("restoring a container whose spec has OCI hooks is not supported");
  }
  if (!spec.net_devices.empty()) {
    // CRIU restores into the pod's namespace as it is; it moves no host link.
    return absl::UnimplementedError("restoring a container whose spec moves network devices is not supported");
  }
  ASSIGN_OR_RETURN(std::string mounts_text, ReadFile(o.image_path + "/" + kMountsFile));
  ASSIGN_OR_RETURN(std::vector<ExternalMount> mounts, ParseExternalMounts(mounts_text));
  ASSIGN_OR_RETURN(std::string descriptors_text, ReadFile(o.image_path + "/" + kDescriptorsFile));
  auto descriptors = nlohmann::json::parse(descriptors_text, nullptr, false);
  if (!descriptors.is_array()) return absl::InvalidArgumentError("descriptors.json is not a JSON array");

  RETURN_IF_ERROR(store_.Reserve(o.id));
  bool committed = false;
  absl::Cleanup remove_state = [&] {
    if (!committed) (void)store_.Remove(o.id);
  };
  RETURN_IF_ERROR(WriteFileAtomically(store_.Dir(o.id) + "/config.json", config, 0600, Durability::kCrash));
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  ASSIGN_OR_RETURN(std::string cgroup_path, cgroups::NormalizePath(spec.cgroups_path, o.id));
  ASSIGN_OR_RETURN(cgroups::Manager cg, cgroups::Manager::Create(layout, cgroup_path));
  absl::Cleanup remove_cgroup = [&] {
    if (committed) return;
    (void)EmptyCgroup(cg);
    (void)RemoveCgroup(cg);
  };
  if (spec.resources) {
    cgroups::Resources without_devices = *spec.resources;
    without_devices.devices.clear();  // once CRIU has made the container's /dev again
    RETURN_IF_ERROR(cg.Apply(without_devices));
  }

  RestorePlan plan;
  plan.criu = o.criu.empty() ? "criu" : o.criu;
  plan.image_path = o.image_path;
  plan.work_path = o.work_path;
  plan.root = spec.root_path;
  plan.pid_file = o.work_path + "/restored.pid";
  plan.tcp_established = o.tcp_established;
  for (const ExternalMount& mount : mounts) {
    ASSIGN_OR_RETURN(std::string source, RestoreSource(mount, spec, cg.HierarchyDirs()));
    plan.mounts.emplace_back(mount.key, source);
  }
  std::vector<std::pair<int, int>> keep = {{0, 0}, {1, 1}, {2, 2}};
  UniqueFd netns;
  for (const Namespace& ns : spec.namespaces) {
    if (ns.path.empty()) continue;
    if (ns.type == "network") {
      netns = UniqueFd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!netns) return ErrnoError("open network namespace " + ns.path);
      plan.netns_fd = 3;
      keep.emplace_back(netns.get(), 3);
    } else if (ns.type == "ipc" || ns.type == "uts") {
      plan.join_namespaces.emplace_back(ns.type, ns.path);
    } else {
      return absl::FailedPreconditionError(absl::StrCat("berth-runtime does not restore into a ", ns.type,
                                                        " namespace joined by path"));
    }
  }
  // The dumped init's stdio pipes are this process's stdio now (the new shim's).
  for (int fd = 0; fd < 3 && fd < static_cast<int>(descriptors.size()); ++fd) {
    std::string was = descriptors[fd].is_string() ? descriptors[fd].get<std::string>() : "";
    if (absl::StartsWith(was, "pipe:")) plan.inherited_pipes.emplace_back(fd, was);
  }
  RETURN_IF_ERROR(MakeDirs(o.work_path, 0700));
  ASSIGN_OR_RETURN(int code, RunCriu(CriuRestoreArgs(plan), keep, &cg));
  if (code != 0) return CriuFailed("restore", code, o.work_path + "/restore.log");

  ASSIGN_OR_RETURN(std::string pid_text, ReadFile(plan.pid_file));
  pid_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(pid_text), &pid) || pid <= 0) {
    return absl::InternalError("criu restore wrote no pid");
  }
  if (spec.resources) RETURN_IF_ERROR(cg.ApplyDevices(spec.resources->devices));
  RETURN_IF_ERROR(Record(o.id, pid, spec, bundle, cgroup_path, o.pid_file));
  committed = true;
  return absl::OkStatus();
}

}  // namespace berth::runtime

#include "pods/apparmor.h"

#include <unistd.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/process.h"

namespace berth::pods {
namespace {

// berth-default: what a container may not touch on the host even as root inside.
// Rules written for berth; the shape follows the profiles container runtimes ship:
// everything allowed by default (network, capabilities the container holds, files
// its mounts show), then the host's control surfaces denied.
constexpr char kDefaultProfile[] = R"(#include <tunables/global>

profile berth-default flags=(attach_disconnected,mediate_deleted) {
  #include <abstractions/base>

  network,
  capability,
  file,
  umount,

  # Signals and tracing stay among the container's own processes (and from the host).
  signal (receive) peer=unconfined,
  signal (send,receive) peer=berth-default,
  ptrace (trace,read,tracedby,readby) peer=berth-default,

  # No new mounts, whatever capabilities the container holds.
  deny mount,

  # Kernel knobs stay as set at create (a pod's sysctls are written before this
  # profile applies; /proc/sys is a read-only mount too).
  deny @{PROC}/sys/** w,
  deny @{PROC}/sysrq-trigger rwklx,
  deny @{PROC}/kcore rwklx,
  deny @{PROC}/kmem rwklx,
  deny @{PROC}/mem rwklx,

  # /sys is read-only but for the container's own cgroups; firmware and LSM state hidden.
  deny /sys/[^f]*/** wklx,
  deny /sys/f[^s]*/** wklx,
  deny /sys/fs/[^c]*/** wklx,
  deny /sys/fs/c[^g]*/** wklx,
  deny /sys/fs/cg[^r]*/** wklx,
  deny /sys/firmware/** rwklx,
  deny /sys/kernel/security/** rwklx,
}
)";

bool AppArmorEnabled() {
  auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
  return enabled.ok() && absl::StartsWith(*enabled, "Y") && ::access("/sys/kernel/security/apparmor", F_OK) == 0;
}

bool ProfileLoaded(const std::string& name) {
  // One line per profile: "name (enforce)".
  auto profiles = ReadFile("/sys/kernel/security/apparmor/profiles");
  if (!profiles.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*profiles, '\n')) {
    if (absl::StartsWith(line, name + " (")) return true;
  }
  return false;
}

Status LoadDefaultProfile() {
  std::string parser;
  for (const char* candidate : {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"}) {
    if (::access(candidate, X_OK) == 0) parser = candidate;
  }
  if (parser.empty()) {
    return absl::FailedPreconditionError(
        "AppArmor is on but apparmor_parser is not installed, so berth-default cannot be loaded "
        "(install apparmor, or ask for an Unconfined or Localhost profile)");
  }
  RunOptions options;
  options.stdin_data = kDefaultProfile;
  options.timeout = std::chrono::seconds(30);
  // -r replaces an older berth-default; -K leaves the host's profile cache alone.
  ASSIGN_OR_RETURN(RunResult run, RunProcess({parser, "-Kr"}, options));
  if (run.exit_code != 0) {
    return absl::InternalError(absl::StrCat("apparmor_parser could not load berth-default: ",
                                            absl::StripAsciiWhitespace(run.err)));
  }
  return absl::OkStatus();
}

// Loaded once per berthd: a profile loaded by an older berthd is replaced by this one's.
Status EnsureDefaultProfile() {
  static std::mutex mu;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mu);
  if (loaded) return absl::OkStatus();
  RETURN_IF_ERROR(LoadDefaultProfile());
  loaded = true;
  return absl::OkStatus();
}

}  // namespace

absl::string_view DefaultAppArmorProfileSource() { return kDefaultProfile; }

StatusOr<std::string> AppArmorProfileFor(const SecuritySpec& security) {
  const SecurityProfileSpec& profile = security.apparmor;
  if (profile.type == "unconfined") return std::string();
  if (profile.type == "localhost") {
    std::string name = profile.localhost_ref;
    if (absl::StartsWith(name, "localhost/")) name = name.substr(10);
    if (!AppArmorEnabled()) {
      return absl::FailedPreconditionError(
          absl::StrCat("AppArmor profile \"", name, "\" asked for, but AppArmor is not enabled on this host"));
    }
    if (!ProfileLoaded(name)) {
      return absl::FailedPreconditionError(absl::StrCat("AppArmor profile \"", name, "\" is not loaded on this host"));
    }
    return name;
  }
  if (!profile.type.empty() && profile.type != "runtime/default") {
    return absl::InvalidArgumentError(absl::StrCat("unknown AppArmor profile type \"", profile.type, "\""));
  }
  if (security.privileged || !AppArmorEnabled()) return std::string();
  RETURN_IF_ERROR(EnsureDefaultProfile());
  return std::string(kDefaultAppArmorProfile);
}

}  // namespace berth::pods

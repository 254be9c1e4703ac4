#include "runtime/capabilities.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"

namespace berth::runtime {

namespace {

int LastCap() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (text.ok()) (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &last);
  return last;
}

bool InHostBounding(cap_value_t cap) { return ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

// Names ("CAP_NET_ADMIN") to values, dropping unknown ones and those the host lacks.
std::vector<cap_value_t> Resolve(const std::vector<std::string>& names) {
  std::vector<cap_value_t> out;
  for (const auto& name : names) {
    cap_value_t value;
    if (::cap_from_name(name.c_str(), &value) != 0) continue;
    if (!InHostBounding(value)) continue;
    out.push_back(value);
  }
  return out;
}

struct CapFree {
  void operator()(cap_t caps) const { ::cap_free(caps); }
};

}  // namespace

Status SetOomScoreAdj(int value) {
  UniqueFd fd(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open /proc/self/oom_score_adj");
  std::string text = absl::StrCat(value);
  if (::write(fd.get(), text.data(), text.size()) < 0) {
    if ((errno == EACCES || errno == EPERM) && value < 0) return absl::OkStatus();
    return ErrnoError(absl::StrCat("set oom_score_adj ", value));
  }
  return absl::OkStatus();
}

Status SetRlimits(const std::vector<Rlimit>& rlimits) {
  static const std::map<std::string, int> kTypes = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& r : rlimits) {
    auto it = kTypes.find(r.type);
    if (it == kTypes.end()) return absl::InvalidArgumentError(absl::StrCat("unknown rlimit ", r.type));
    struct rlimit limit = {r.soft, r.hard};
    if (::setrlimit(it->second, &limit) != 0) {
      return ErrnoError(absl::StrCat("setrlimit ", r.type, " soft=", r.soft, " hard=", r.hard));
    }
  }
  return absl::OkStatus();
}

Status ApplyUserAndCapabilities(const Process& process) {
  const User& user = process.user;
  const std::optional<Capabilities>& caps = process.capabilities;
  if (caps) {
    std::vector<cap_value_t> bounding = Resolve(caps->bounding);
    std::set<cap_value_t> keep(bounding.begin(), bounding.end());
    for (int cap = 0; cap <= LastCap(); ++cap) {
      if (keep.count(cap) || !InHostBounding(cap)) continue;
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        return ErrnoError(absl::StrCat("drop capability ", cap, " from the bounding set"));
      }
    }
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoError("PR_SET_KEEPCAPS");
  if (::setgroups(user.additional_gids.size(), user.additional_gids.data()) != 0) {
    return ErrnoError("setgroups");
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return ErrnoError(absl::StrCat("setgid ", user.gid));
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return ErrnoError(absl::StrCat("setuid ", user.uid));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return ErrnoError("PR_SET_KEEPCAPS");
  if (!caps) return absl::OkStatus();

  std::unique_ptr<struct _cap_struct, CapFree> state(::cap_init());
  if (!state) return ErrnoError("cap_init");
  auto set = [&](cap_flag_t flag, const std::vector<std::string>& names) -> Status {
    std::vector<cap_value_t> values = Resolve(names);
    if (values.empty()) return absl::OkStatus();
    if (::cap_set_flag(state.get(), flag, values.size(), values.data(), CAP_SET) != 0) {
      return ErrnoError("cap_set_flag");
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(set(CAP_EFFECTIVE, caps->effective));
  RETURN_IF_ERROR(set(CAP_PERMITTED, caps->permitted));
  RETURN_IF_ERROR(set(CAP_INHERITABLE, caps->inheritable));
  if (::cap_set_proc(state.get()) != 0) return ErrnoError("set capabilities");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return ErrnoError("clear ambient capabilities");
  }
  for (cap_value_t cap : Resolve(caps->ambient)) {
    // The kernel refuses ambient caps that are not permitted and inheritable; runc
    // ignores those too.
    (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
  }
  return absl::OkStatus();
}

Status SetAppArmorExecProfile(const std::string& profile) {
  if (profile.empty()) return absl::OkStatus();
  // Kernels that stack several LSMs give AppArmor its own attr directory; before
  // that, the shared attr/exec file is AppArmor's when AppArmor is the one enabled.
  const bool own_directory = ::access("/proc/thread-self/attr/apparmor", F_OK) == 0;
  auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
  if (!own_directory && !(enabled.ok() && absl::StartsWith(*enabled, "Y"))) {
    return absl::FailedPreconditionError(
        absl::StrCat("AppArmor profile \"", profile, "\" asked for, but AppArmor is not enabled on this host"));
  }
  const char* path = own_directory ? "/proc/thread-self/attr/apparmor/exec" : "/proc/thread-self/attr/exec";
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  const std::string command = "exec " + profile;
  if (!fd || ::write(fd.get(), command.data(), command.size()) != static_cast<ssize_t>(command.size())) {
    return ErrnoError(absl::StrCat("set AppArmor profile ", profile, " (", path, ")"));
  }
  return absl::OkStatus();
}

Status SetNoNewPrivileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoError("PR_SET_NO_NEW_PRIVS");
  return absl::OkStatus();
}

}  // namespace berth::runtime

#include "pods/seccomp_default.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace berth::pods {
namespace {

using runtime::Seccomp;

// The action a profile's rules give a call made without arguments the rules check.
std::string ActionFor(const Seccomp& profile, const std::string& name) {
  for (const auto& rule : profile.syscalls) {
    const auto& names = rule.names;
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    if (!rule.args.empty()) return "conditional " + rule.action;
    std::string action = rule.action;
    if (rule.errno_ret) action += " " + std::to_string(*rule.errno_ret);
    return action;
  }
  return "default";
}

const std::vector<std::string> kDefaultCaps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
                                               "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
                                               "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                                               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

TEST(SeccompDefaultTest, AnAllowlistWithNewCallsUnknown) {
  Seccomp profile = RuntimeDefaultSeccompProfile(kDefaultCaps);
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile.default_errno_ret, 38u) << "ENOSYS, so C libraries fall back";
  for (const char* ordinary : {"read", "openat", "execve", "futex", "statx", "faccessat2", "landlock_create_ruleset"}) {
    EXPECT_EQ(ActionFor(profile, ordinary), "SCMP_ACT_ALLOW") << ordinary;
  }
  EXPECT_EQ(ActionFor(profile, "chroot"), "SCMP_ACT_ALLOW") << "CAP_SYS_CHROOT is a default capability";
}

TEST(SeccompDefaultTest, DangerousCallsNeedTheirCapability) {
  Seccomp plain = RuntimeDefaultSeccompProfile(kDefaultCaps);
  for (const char* call : {"mount", "unshare", "setns", "reboot", "init_module", "settimeofday", "bpf",
                           "perf_event_open", "keyctl", "io_uring_setup"}) {
    EXPECT_EQ(ActionFor(plain, call), "SCMP_ACT_ERRNO 1") << call;
  }
  EXPECT_EQ(ActionFor(plain, "ptrace"), "SCMP_ACT_ALLOW") << "safe since Linux 4.8";
  EXPECT_EQ(ActionFor(plain, "clone"), "conditional SCMP_ACT_ALLOW") << "without namespace flags only";
  EXPECT_EQ(ActionFor(plain, "clone3"), "SCMP_ACT_ERRNO 38");

  std::vector<std::string> admin = kDefaultCaps;
  admin.push_back("CAP_SYS_ADMIN");
  admin.push_back("CAP_SYS_TIME");
  Seccomp privileged = RuntimeDefaultSeccompProfile(admin);
  for (const char* call : {"mount", "unshare", "setns", "clone", "clone3", "bpf", "settimeofday"}) {
    EXPECT_EQ(ActionFor(privileged, call), "SCMP_ACT_ALLOW") << call;
  }
  EXPECT_EQ(ActionFor(privileged, "keyctl"), "SCMP_ACT_ERRNO 1") << "keyrings are not namespaced";
  EXPECT_EQ(ActionFor(privileged, "reboot"), "SCMP_ACT_ERRNO 1") << "needs CAP_SYS_BOOT";
}

TEST(SeccompDefaultTest, NoCallIsBothAllowedAndRefused) {
  Seccomp profile = RuntimeDefaultSeccompProfile({"CAP_BPF"});
  EXPECT_EQ(ActionFor(profile, "bpf"), "SCMP_ACT_ALLOW");
  std::set<std::string> allowed, refused;
  for (const auto& rule : profile.syscalls) {
    if (!rule.args.empty()) continue;
    auto& into = rule.action == "SCMP_ACT_ALLOW" ? allowed : refused;
    for (const auto& name : rule.names) into.insert(name);
  }
  for (const auto& name : allowed) EXPECT_EQ(refused.count(name), 0u) << name;
}

}  // namespace
}  // namespace berth::pods

#include "runtime/seccomp.h"

#include <errno.h>
#include <seccomp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace berth::runtime {

namespace {

struct CtxRelease {
  void operator()(void* ctx) const { ::seccomp_release(ctx); }
};

// Each action berth-runtime knows, and how it becomes libseccomp's (errno_ret: for
// those that carry one). The features document lists exactly these.
using ActionMaker = uint32_t (*)(uint32_t errno_ret);
const std::map<std::string, ActionMaker>& Actions() {
  static const auto* actions = new std::map<std::string, ActionMaker>{
      {"SCMP_ACT_ALLOW", [](uint32_t) -> uint32_t { return SCMP_ACT_ALLOW; }},
      {"SCMP_ACT_ERRNO", [](uint32_t e) -> uint32_t { return SCMP_ACT_ERRNO(e); }},
      {"SCMP_ACT_KILL", [](uint32_t) -> uint32_t { return SCMP_ACT_KILL_THREAD; }},
      {"SCMP_ACT_KILL_THREAD", [](uint32_t) -> uint32_t { return SCMP_ACT_KILL_THREAD; }},
      {"SCMP_ACT_KILL_PROCESS", [](uint32_t) -> uint32_t { return SCMP_ACT_KILL_PROCESS; }},
      {"SCMP_ACT_TRAP", [](uint32_t) -> uint32_t { return SCMP_ACT_TRAP; }},
      {"SCMP_ACT_TRACE", [](uint32_t e) -> uint32_t { return SCMP_ACT_TRACE(e); }},
      {"SCMP_ACT_LOG", [](uint32_t) -> uint32_t { return SCMP_ACT_LOG; }},
      {"SCMP_ACT_NOTIFY", [](uint32_t) -> uint32_t { return SCMP_ACT_NOTIFY; }},
  };
  return *actions;
}

const std::map<std::string, scmp_compare>& Operators() {
  static const auto* operators = new std::map<std::string, scmp_compare>{
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  return *operators;
}

// The filter flags and the libseccomp attribute each sets.
const std::map<std::string, scmp_filter_attr>& Flags() {
  static const auto* flags = new std::map<std::string, scmp_filter_attr>{
      {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
      {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
  };
  return *flags;
}

template <typename Map>
std::vector<std::string> Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

StatusOr<uint32_t> Action(const std::string& name, std::optional<uint32_t> errno_ret) {
  auto it = Actions().find(name);
  if (it == Actions().end()) return absl::InvalidArgumentError(absl::StrCat("unsupported seccomp action ", name));
  return it->second(errno_ret.value_or(EPERM));
}

StatusOr<scmp_compare> Operator(const std::string& op) {
  auto it = Operators().find(op);
  if (it == Operators().end()) return absl::InvalidArgumentError(absl::StrCat("unknown seccomp operator ", op));
  return it->second;
}

Status SeccompError(int rc, absl::string_view what) { return ErrnoError(-rc, what); }

}  // namespace

bool UsesNotify(const Seccomp& seccomp) {
  if (seccomp.default_action == "SCMP_ACT_NOTIFY") return true;
  return std::any_of(seccomp.syscalls.begin(), seccomp.syscalls.end(),
                     [](const SeccompSyscall& rule) { return rule.action == "SCMP_ACT_NOTIFY"; });
}

Status ValidateSeccompListener(const Seccomp& seccomp) {
  if (seccomp.default_action == "SCMP_ACT_NOTIFY") {
    return absl::InvalidArgumentError("linux.seccomp.defaultAction may not be SCMP_ACT_NOTIFY");
  }
  if (!seccomp.listener_metadata.empty() && seccomp.listener_path.empty()) {
    return absl::InvalidArgumentError("linux.seccomp.listenerMetadata is set without a listenerPath");
  }
  if (!seccomp.listener_path.empty() && seccomp.listener_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.seccomp.listenerPath \"", seccomp.listener_path, "\" is not absolute"));
  }
  if (UsesNotify(seccomp) && seccomp.listener_path.empty()) {
    return absl::InvalidArgumentError("seccomp action SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
  }
  return absl::OkStatus();
}

StatusOr<UniqueFd> LoadSeccomp(const Seccomp& seccomp) {
  ASSIGN_OR_RETURN(uint32_t default_action, Action(seccomp.default_action, seccomp.default_errno_ret));
  std::unique_ptr<void, CtxRelease> ctx(::seccomp_init(default_action));
  if (!ctx) return absl::InvalidArgumentError("seccomp_init failed");
  int rc = ::seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return SeccompError(rc, "seccomp: clear CTL_NNP");
  for (const auto& flag : seccomp.flags) {
    auto attr = Flags().find(flag);
    if (attr == Flags().end()) return absl::InvalidArgumentError(absl::StrCat("unsupported seccomp flag ", flag));
    rc = ::seccomp_attr_set(ctx.get(), attr->second, 1);
    if (rc != 0) return SeccompError(rc, absl::StrCat("seccomp flag ", flag));
  }
  for (const auto& arch_name : seccomp.architectures) {
    std::string name = absl::AsciiStrToLower(absl::StripPrefix(arch_name, "SCMP_ARCH_"));
    uint32_t arch = ::seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) return absl::InvalidArgumentError(absl::StrCat("unknown seccomp architecture ", arch_name));
    rc = ::seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST) return SeccompError(rc, absl::StrCat("seccomp: add architecture ", arch_name));
  }
  bool notify_added = false;
  for (const auto& rule : seccomp.syscalls) {
    ASSIGN_OR_RETURN(uint32_t action, Action(rule.action, rule.errno_ret));
    if (action == default_action) continue;  // libseccomp refuses redundant rules
    std::vector<scmp_arg_cmp> args;
    std::set<unsigned> indexes;
    bool repeated = false;
    for (const auto& arg : rule.args) {
      ASSIGN_OR_RETURN(scmp_compare op, Operator(arg.op));
      args.push_back(scmp_arg_cmp{arg.index, op, arg.value, arg.value_two});
      repeated |= !indexes.insert(arg.index).second;
    }
    for (const auto& name : rule.names) {
      int nr = ::seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;
      if (!repeated) {
        rc = ::seccomp_rule_add_array(ctx.get(), action, nr, args.size(), args.data());
        if (rc != 0) return SeccompError(rc, absl::StrCat("seccomp rule for ", name));
        notify_added |= action == SCMP_ACT_NOTIFY;
        continue;
      }
      // libseccomp takes one comparison per argument per rule; several on one index
      // mean "any of them", i.e. one rule each.
      for (const auto& arg : args) {
        rc = ::seccomp_rule_add_array(ctx.get(), action, nr, 1, &arg);
        if (rc != 0) return SeccompError(rc, absl::StrCat("seccomp rule for ", name));
        notify_added |= action == SCMP_ACT_NOTIFY;
      }
    }
  }
  if (UsesNotify(seccomp) && !notify_added) {
    // Its syscalls were all unknown here and skipped: there would be no notify fd.
    return absl::InvalidArgumentError("no SCMP_ACT_NOTIFY rule names a syscall this libseccomp knows");
  }
  rc = ::seccomp_load(ctx.get());
  if (rc != 0) return SeccompError(rc, "load seccomp filter");
  if (!UsesNotify(seccomp)) return UniqueFd();
  // The listener the kernel made with the filter; libseccomp keeps its number but
  // never closes it, so it is ours.
  int notify_fd = ::seccomp_notify_fd(ctx.get());
  if (notify_fd < 0) return SeccompError(notify_fd, "seccomp notify fd");
  return UniqueFd(notify_fd);
}

std::vector<std::string> SupportedSeccompActions() { return Keys(Actions()); }
std::vector<std::string> SupportedSeccompOperators() { return Keys(Operators()); }
std::vector<std::string> SupportedSeccompFlags() { return Keys(Flags()); }

}  // namespace berth::runtime

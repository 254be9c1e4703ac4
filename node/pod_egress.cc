#include "node/pod_egress.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/process.h"

namespace berth::node {

namespace {

// iptables -C answers 1 when the rule is not there; anything else is a failure.
constexpr int kRuleAbsent = 1;

StatusOr<RunResult> Iptables(const std::string& binary, const char* action, const std::vector<std::string>& rule) {
  std::vector<std::string> argv = {binary, "-w", "10", "-t", "nat", action};
  argv.insert(argv.end(), rule.begin(), rule.end());
  RunOptions options;
  options.timeout = std::chrono::seconds(30);
  return RunProcess(argv, options);
}

}  // namespace

std::vector<std::string> MasqueradeRule(const std::string& pod_subnet) {
  return {"POSTROUTING", "-s", pod_subnet, "!", "-d", pod_subnet, "-m", "comment", "--comment",
          "berth-node: pod traffic leaving the cluster", "-j", "MASQUERADE"};
}

Status MasqueradePodEgress(const std::string& pod_subnet) {
  std::string binary;
  for (const char* candidate : {"/usr/sbin/iptables", "/sbin/iptables"}) {
    if (::access(candidate, X_OK) == 0) {
      binary = candidate;
      break;
    }
  }
  if (binary.empty()) return absl::FailedPreconditionError("masquerade: no iptables in /usr/sbin or /sbin");
  const std::vector<std::string> rule = MasqueradeRule(pod_subnet);
  ASSIGN_OR_RETURN(RunResult check, Iptables(binary, "-C", rule));
  if (check.exit_code == 0) return absl::OkStatus();
  if (check.exit_code != kRuleAbsent) {
    return absl::InternalError(absl::StrCat("iptables -C ", absl::StrJoin(rule, " "), ": ", check.err));
  }
  ASSIGN_OR_RETURN(RunResult add, Iptables(binary, "-A", rule));
  if (add.exit_code != 0) {
    return absl::InternalError(absl::StrCat("iptables -A ", absl::StrJoin(rule, " "), ": ", add.err));
  }
  return absl::OkStatus();
}

}  // namespace berth::node

#include "runtime/cgroup_cleanup.h"

#include <signal.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace berth::runtime {

Status EmptyCgroup(const cgroups::Manager& cg) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    ASSIGN_OR_RETURN(std::vector<pid_t> pids, cg.Pids());
    if (pids.empty()) return absl::OkStatus();
    for (pid_t pid : pids) (void)::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat("processes remain in cgroup ", cg.path()));
}

Status RemoveCgroup(const cgroups::Manager& cg) {
  Status status;
  for (int attempt = 0; attempt < 100; ++attempt) {
    status = cg.Remove();
    if (status.ok()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

}  // namespace berth::runtime

#include "pods/shim/pod_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "pods/shim/protocol.h"

namespace berth::pods::shim {
namespace {

void Report(const std::string& line) {
  std::string out = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(kReadyFd, out.data(), out.size());
}

[[noreturn]] void Fail(const std::string& what) {
  Report(FailedLine(absl::StrCat(what, ": ", strerror(errno))));
  _exit(1);
}

}  // namespace

void RunPodInit(const std::string& pod_dir, const std::string& userns_path) {
  pid_t daemon = ::fork();
  if (daemon < 0) Fail("fork");
  if (daemon > 0) _exit(0);
  ::setsid();
  if (!userns_path.empty()) {
    // The PID namespace made next is then the user namespace's, as the pod's others
    // are: a runtime that enters the user namespace first (runc) may still join it.
    int userns = ::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (userns < 0 || ::setns(userns, CLONE_NEWUSER) != 0) Fail(absl::StrCat("join user namespace ", userns_path));
    ::close(userns);
  }
  if (::unshare(CLONE_NEWPID) != 0) Fail("unshare PID namespace");
  pid_t init = ::fork();
  if (init < 0) Fail("fork");
  if (init > 0) {
    // Recorded before the reply: berthd may die before it writes the pod's record,
    // and its start-up sweep then finds the init through this file.
    Status written = WriteFileAtomically(PodInitPidFile(pod_dir), absl::StrCat(init, "\n"), 0644,
                                         Durability::kCrash);
    if (!written.ok()) {
      ::kill(init, SIGKILL);
      Report(FailedLine(written.message()));
      _exit(1);
    }
    Report(ReadyLine(init));
    _exit(0);
  }
  ::close(kReadyFd);
  ::prctl(PR_SET_NAME, kPodInitName);
  int null_fd = ::open("/dev/null", O_RDWR);
  ::dup2(null_fd, 0);
  ::dup2(null_fd, 1);
  ::dup2(null_fd, 2);
  sigset_t mask;
  sigfillset(&mask);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  for (;;) {
    int sig = 0;
    sigwait(&mask, &sig);
    if (sig == SIGTERM || sig == SIGINT) _exit(0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace berth::pods::shim

#include "pods/shim/exec_reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "base/file_util.h"
#include "base/process.h"

namespace berth::pods::shim {
namespace {

std::atomic<pid_t> target{0};

void PassOn(int signal) {
  pid_t pid = target.load();
  if (pid > 0) ::kill(pid, signal);
}

int CodeOf(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

pid_t WaitFor(pid_t pid, int* status) {
  for (;;) {
    pid_t reaped = ::waitpid(pid, status, 0);
    if (reaped >= 0 || errno != EINTR) return reaped;
  }
}

}  // namespace

void RunExecReaper(const std::string& pid_file, const std::vector<std::string>& runtime_argv) {
  // The runtime's detached process, orphaned when the runtime exits, comes here.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    fprintf(stderr, "berth-shim: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
    _exit(125);
  }
  struct sigaction action {};
  action.sa_handler = PassOn;
  for (int signal : {SIGTERM, SIGHUP, SIGINT}) ::sigaction(signal, &action, nullptr);

  pid_t runtime = ::fork();
  if (runtime < 0) {
    fprintf(stderr, "berth-shim: fork: %s\n", strerror(errno));
    _exit(125);
  }
  if (runtime == 0) {
    std::vector<char*> argv;
    for (const auto& arg : runtime_argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    berth::ResetSignalsForExec();  // PassOn's handlers, and the shim's blocked signals
    ::execv(argv[0], argv.data());
    fprintf(stderr, "berth-shim: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (WaitFor(runtime, &status) < 0) _exit(125);
  if (CodeOf(status) != 0) _exit(CodeOf(status));
  auto text = ReadFile(pid_file);
  int pid = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 0) {
    fprintf(stderr, "berth-shim: the runtime wrote no pid to %s\n", pid_file.c_str());
    _exit(125);
  }
  target = pid;
  // Other orphans (the runtime's own helpers) may come and go first.
  for (;;) {
    pid_t reaped = WaitFor(-1, &status);
    if (reaped < 0) {
      // ECHILD: the process was never ours (it had another parent left): nothing
      // can be learnt of its end.
      fprintf(stderr, "berth-shim: exec process %d is not this reaper's child\n", pid);
      _exit(125);
    }
    if (reaped == pid) _exit(CodeOf(status));
  }
}

}  // namespace berth::pods::shim

// `exec`: a process started in a running container, as its init was (see
// SetupInit in container.cc), joining its namespaces and cgroups.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"
#include "cgroups/manager.h"
#include "runtime/capabilities.h"
#include "runtime/container.h"
#include "runtime/namespaces.h"
#include "runtime/process_setup.h"
#include "runtime/scheduling.h"
#include "runtime/state.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_listener.h"

namespace berth::runtime {
namespace {

struct ExecChildArgs {
  const Process* process = nullptr;
  const Spec* spec = nullptr;
  int go_fd = -1;
  int error_fd = -1;
  int pidfd = -1;
  int join_flags = 0;
  bool join_user = false;  // entered last, as the init did (see EnterUserNamespace)
  int preserve_fds = 0;
  int console_fd = -1;  // connected to --console-socket when process.terminal is set
};

StatusOr<std::string> SetupExecChild(const ExecChildArgs& a) {
  const Process& process = *a.process;
  if (a.join_flags != 0 && ::setns(a.pidfd, a.join_flags) != 0) {
    return ErrnoError("join the container's namespaces");
  }
  // In the container's mount namespace: a terminal is one of its own devpts.
  ASSIGN_OR_RETURN(std::string exe, PrepareProcess(process, *a.spec, a.console_fd));
  if (process.oom_score_adj) RETURN_IF_ERROR(SetOomScoreAdj(*process.oom_score_adj));
  if (a.join_user && ::setns(a.pidfd, CLONE_NEWUSER) != 0) return ErrnoError("join the container's user namespace");
  ::umask(process.user.umask.value_or(022));
  // The steps above ran while exec placed us in the container's cgroups (as the
  // init's do, see SetupInit); nothing below runs outside them.
  char byte;
  if (::read(a.go_fd, &byte, 1) != 1) return absl::AbortedError("exec gave up before the cgroup placement");
  // In the container's cgroups, as for the init (SetupInit).
  RETURN_IF_ERROR(ApplyScheduling(process));
  if (a.spec->memory_policy) RETURN_IF_ERROR(ApplyMemoryPolicy(*a.spec->memory_policy));
  ResetSignalsForExec();  // as for the init (SetupInit), before any seccomp filter
  const std::optional<Seccomp>& seccomp = a.spec->seccomp;
  // A filter with SCMP_ACT_NOTIFY rules: its fd goes to exec at once ("S"), which
  // hands it to the seccomp agent and says so ("s"), as create does the init's.
  auto load = [&]() -> Status {
    ASSIGN_OR_RETURN(UniqueFd notify_fd, LoadSeccomp(*seccomp));
    if (!notify_fd) return absl::OkStatus();
    RETURN_IF_ERROR(SendMessage(a.go_fd, "S", notify_fd.get()));
    if (::read(a.go_fd, &byte, 1) != 1) return absl::AbortedError("exec gave up before the seccomp agent had the fd");
    return absl::OkStatus();
  };
  if (seccomp && !process.no_new_privileges) RETURN_IF_ERROR(load());
  RETURN_IF_ERROR(ApplyUserAndCapabilities(process));
  if (process.no_new_privileges) RETURN_IF_ERROR(SetNoNewPrivileges());
  RETURN_IF_ERROR(MarkFdsCloexec(a.preserve_fds));
  if (seccomp && process.no_new_privileges) RETURN_IF_ERROR(load());
  return exe;
}

[[noreturn]] void RunExecChild(const ExecChildArgs& a) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  auto exe = SetupExecChild(a);
  if (!exe.ok()) {
    if (exe.status().code() != StatusCode::kAborted) WriteAll(a.error_fd, MessageOf(exe.status()));
    ::_exit(1);
  }
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  Argv argv(a.process->args);
  Argv envp(a.process->env);
  ::execve(exe->c_str(), argv.pointers.data(), envp.pointers.data());
  WriteAll(a.error_fd, MessageOf(ErrnoError(absl::StrCat("exec ", *exe))));
  ::_exit(127);
}

}  // namespace

StatusOr<int> Runtime::Exec(const ExecOptions& o) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(o.id));
  if (store_.Probe(state) == ContainerStatus::kStopped) {
    return absl::FailedPreconditionError(absl::StrCat("cannot exec in stopped container ", o.id));
  }
  if (o.process.terminal && o.console_socket.empty()) {
    return absl::InvalidArgumentError("process.terminal needs --console-socket to send the terminal to");
  }
  RETURN_IF_ERROR(ValidateScheduling(o.process));
  ASSIGN_OR_RETURN(Spec spec, LoadSpec(state));
  UniqueFd console;
  if (o.process.terminal) {
    ASSIGN_OR_RETURN(console, ConnectConsoleSocket(o.console_socket));
  }
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  cgroups::Manager cg = cgroups::Manager::Open(layout, state.cgroup_path);
  ASSIGN_OR_RETURN(UniqueFd pidfd, OpenInit(state));
  ASSIGN_OR_RETURN(int join_flags, NamespacesToJoin(state.pid));

  // Joining a pid namespace only moves children, so it happens before the fork.
  struct stat theirs, ours;
  if (::stat(absl::StrCat("/proc/", state.pid, "/ns/pid").c_str(), &theirs) != 0 ||
      ::stat("/proc/self/ns/pid", &ours) != 0) {
    return ErrnoError("stat pid namespace");
  }
  if (theirs.st_ino != ours.st_ino && ::setns(pidfd.get(), CLONE_NEWPID) != 0) {
    return ErrnoError(absl::StrCat("join pid namespace of container ", o.id));
  }
  if (!ProcessAlive(state.pid, state.start_time)) {
    return absl::FailedPreconditionError(absl::StrCat("container ", o.id, " stopped"));
  }
  // "go" is a socket so that sending to a child that already gave up is an error,
  // not a SIGPIPE (ignoring SIGPIPE instead would pass SIG_IGN on to the process).
  int go[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return ErrnoError("exec: socketpair or pipe");
  }
  UniqueFd go_read(go[0]), go_write(go[1]), err_read(err[0]), err_write(err[1]);

  ExecChildArgs args;
  args.process = &o.process;
  args.spec = &spec;
  args.go_fd = go_read.get();
  args.error_fd = err_write.get();
  args.pidfd = pidfd.get();
  args.join_flags = join_flags;
  args.join_user = InOtherUserNamespace(state.pid);
  args.preserve_fds = o.preserve_fds;
  args.console_fd = console.get();
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork exec process");
  if (pid == 0) {
    go_write.Reset();
    err_read.Reset();
    RunExecChild(args);
  }
  go_read.Reset();
  err_write.Reset();
  console.Reset();
  bool started = false;
  absl::Cleanup kill_child = [&] {
    if (started) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  Status placed = cg.AddPid(pid);
  if (placed.ok()) placed = SendMessage(go_write.get(), "g");
  const bool notify = spec.seccomp && UsesNotify(*spec.seccomp);
  bool agent_has_fd = false;
  if (placed.ok() && notify) {
    // The child sends its filter's notify fd ("S") and waits until the seccomp agent
    // has it; or it failed before, and its end closed.
    UniqueFd seccomp_notify_fd;
    StatusOr<std::string> sent = ReceiveMessage(go_write.get(), &seccomp_notify_fd);
    if (sent.ok() && *sent == "S" && seccomp_notify_fd) {
      placed = SendToSeccompAgent(*spec.seccomp, seccomp_notify_fd.get(),
                                  ContainerProcessStateJson(*spec.seccomp, pid, spec.oci_version,
                                                            HookStateJson(state, "running", state.pid)));
      if (placed.ok()) placed = SendMessage(go_write.get(), "s");
      agent_has_fd = placed.ok();
    }
  }
  go_write.Reset();  // a child still waiting for "g" or "s" gives up
  std::string error = ReadAll(err_read.get());
  // The child's own failure first: a placement can fail because the child had exited.
  if (!error.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("exec in container ", o.id, ": ", error));
  }
  RETURN_IF_ERROR(placed);
  if (notify && !agent_has_fd) return absl::InternalError("the exec'd process sent no seccomp notify fd");
  started = true;
  if (!o.pid_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(o.pid_file, absl::StrCat(pid), 0644, Durability::kCrash));
  }
  if (o.detach) return 0;
  int wstatus;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return ErrnoError("wait for exec process");
  }
  return ExitCode(wstatus);
}

}  // namespace berth::runtime

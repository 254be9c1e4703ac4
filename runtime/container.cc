#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "cgroups/cgroups.h"
#include "cgroups/manager.h"
#include "runtime/capabilities.h"
#include "runtime/cgroup_cleanup.h"
#include "runtime/hooks.h"
#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/net_devices.h"
#include "runtime/process_setup.h"
#include "runtime/scheduling.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_listener.h"

extern char** environ;

namespace berth::runtime {

namespace {

// What state.json and the hooks say of a container, but for its pid and times.
ContainerState ContainerStateOf(absl::string_view id, const Spec& spec, const std::string& bundle) {
  ContainerState state;
  state.oci_version = spec.oci_version;
  state.id = std::string(id);
  state.bundle = bundle;
  state.rootfs = spec.root_path;
  state.annotations = spec.annotations;
  state.poststart_hooks = !spec.hooks.poststart.empty();
  state.poststop_hooks = !spec.hooks.poststop.empty();
  return state;
}

// Stdio that is the host's /dev/null (the shim gives it for no stdin) becomes the
// container's own: nothing of the container should hold a file of the host's
// mounts, which CRIU could not dump.
Status ReopenDevNull() {
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) continue;
    int flags = ::fcntl(fd, F_GETFL);
    UniqueFd own(::open("/dev/null", (flags & O_ACCMODE) | O_CLOEXEC));
    if (!own) return ErrnoError("open the container's /dev/null");
    if (::dup2(own.get(), fd) < 0) return ErrnoError("dup2 /dev/null");
  }
  return absl::OkStatus();
}

struct InitArgs {
  const Spec* spec = nullptr;
  // The container as its hooks see it; the init's pid on the host comes with "g".
  ContainerState hook_state;
  RootfsContext rootfs;
  int sync_fd = -1;
  int listen_fd = -1;
  int console_fd = -1;  // connected to --console-socket when process.terminal is set
  int preserve_fds = 0;
};

// Blocks until create says the next step may go: "g" (with the init's pid on the
// host) once the init is in its cgroups, "h" once the createRuntime hooks have run,
// "D" once the container's device rules are in force. Returns what followed the letter.
StatusOr<std::string> WaitForCreate(int sync_fd, absl::string_view what) {
  ASSIGN_OR_RETURN(std::string go, ReceiveMessage(sync_fd));
  if (go.empty()) return absl::AbortedError(absl::StrCat("create gave up before ", what));
  return go.substr(1);
}

// The init's side of the hooks that run before pivot_root: create runs prestart and
// createRuntime from the host while the init waits, then the init runs
// createContainer itself, in the container's namespaces with the host's root.
Status RunHooksBeforePivot(const InitArgs& a) {
  RETURN_IF_ERROR(SendMessage(a.sync_fd, "H"));
  RETURN_IF_ERROR(WaitForCreate(a.sync_fd, "the createRuntime hooks had run").status());
  return RunHooks(a.spec->hooks.create_container, "createContainer",
                  HookStateJson(a.hook_state, "created", a.hook_state.pid));
}

// A filter with SCMP_ACT_NOTIFY rules: its fd goes to create at once ("S"), which
// hands it to the seccomp agent, and the init waits for that ("s"). A notified call
// the init made before the agent had the fd would wait for good.
Status HandOverNotifyFd(const InitArgs& a, const UniqueFd& notify_fd) {
  if (!notify_fd) return absl::OkStatus();
  RETURN_IF_ERROR(SendMessage(a.sync_fd, "S", notify_fd.get()));
  return WaitForCreate(a.sync_fd, "the seccomp agent had the notify fd").status();
}

// Everything that can fail before the init waits for `start`.
//
// Moving a process between v1 cgroups makes the kernel wait for an RCU grace period
// (6-14 ms on this VM, unless one ended just before), so the steps that do not depend on the init's
// cgroup run meanwhile: joining the pod's namespaces and, on v1, the whole rootfs
// (its cgroup mounts are binds of host directories that exist already). The cgroup
// namespace, and on v2 the cgroup2 mount that shows its root, come after.
//
// The device rules come into force once the rootfs is complete ("R", then "D"):
// making a /dev node needs the 'm' access that a rule (say, a read-only device)
// may not give, and the init runs nothing of the container's before it execs.
//
// Hooks that run before pivot_root need the init's host pid, which comes with "g",
// so with them the rootfs waits for the cgroup placement on v1 too.
StatusOr<std::string> SetupInit(InitArgs& a) {
  const Spec& spec = *a.spec;
  const Process& process = spec.process;
  ASSIGN_OR_RETURN(UniqueFd userns, OpenUserNamespace(spec));
  RETURN_IF_ERROR(EnterNamespaces(spec));
  if (process.oom_score_adj) RETURN_IF_ERROR(SetOomScoreAdj(*process.oom_score_adj));
  RETURN_IF_ERROR(SetHostnames(spec));
  RootfsContext rootfs = a.rootfs;
  if (spec.hooks.BeforePivot()) rootfs.before_pivot = [&a] { return RunHooksBeforePivot(a); };
  const bool rootfs_needs_cgroup = rootfs.cgroup_v2_host || spec.hooks.BeforePivot();
  if (!rootfs_needs_cgroup) RETURN_IF_ERROR(SetupRootfs(rootfs));
  ASSIGN_OR_RETURN(std::string host_pid, WaitForCreate(a.sync_fd, "the init was in its cgroups"));
  if (!absl::SimpleAtoi(host_pid, &a.hook_state.pid)) return absl::InternalError("create sent no pid with \"g\"");
  RETURN_IF_ERROR(UnshareCgroupNamespace(spec));
  if (rootfs_needs_cgroup) RETURN_IF_ERROR(SetupRootfs(rootfs));
  RETURN_IF_ERROR(SendMessage(a.sync_fd, "R"));
  RETURN_IF_ERROR(WaitForCreate(a.sync_fd, "the device rules were in force").status());
  // In the container's cgroups, where a real-time or deadline policy and the node
  // list are checked, and after the hooks the init starts before pivot_root.
  RETURN_IF_ERROR(ApplyScheduling(process));
  if (spec.memory_policy) RETURN_IF_ERROR(ApplyMemoryPolicy(*spec.memory_policy));
  RETURN_IF_ERROR(ReopenDevNull());
  ASSIGN_OR_RETURN(std::string exe, PrepareProcess(process, spec, a.console_fd));
  // A session of its own, as with a terminal (SetupConsole): one left in the shim's
  // session would reach outside the container, which CRIU cannot dump.
  if (!process.terminal && ::setsid() < 0) return ErrnoError("setsid");
  RETURN_IF_ERROR(EnterUserNamespace(userns));
  ::umask(process.user.umask.value_or(022));
  // The container's program starts with no signal blocked or ignored, whatever this
  // runtime's caller left it; before any seccomp filter, which might refuse the calls.
  ResetSignalsForExec();
  // Without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it goes before the
  // capabilities are dropped; with it, as late as possible.
  if (spec.seccomp && !process.no_new_privileges) {
    ASSIGN_OR_RETURN(UniqueFd notify_fd, LoadSeccomp(*spec.seccomp));
    RETURN_IF_ERROR(HandOverNotifyFd(a, notify_fd));
  }
  RETURN_IF_ERROR(ApplyUserAndCapabilities(process));
  if (process.no_new_privileges) RETURN_IF_ERROR(SetNoNewPrivileges());
  // A filter whose notify fd the seccomp agent gets is loaded at create even with
  // no_new_privs: the agent has it before the container runs (runc does the same).
  if (spec.seccomp && process.no_new_privileges && UsesNotify(*spec.seccomp)) {
    ASSIGN_OR_RETURN(UniqueFd notify_fd, LoadSeccomp(*spec.seccomp));
    RETURN_IF_ERROR(HandOverNotifyFd(a, notify_fd));
  }
  RETURN_IF_ERROR(MarkFdsCloexec(a.preserve_fds));
  return exe;
}

[[noreturn]] void RunInit(InitArgs& a) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  auto exe = SetupInit(a);
  if (!exe.ok()) {
    // Create stopped waiting for us (closed its end): nobody reads a message.
    if (exe.status().code() != StatusCode::kAborted) {
      (void)SendMessage(a.sync_fd, absl::StrCat("E", MessageOf(exe.status())));
    }
    ::_exit(1);
  }
  if (!SendMessage(a.sync_fd, "O").ok()) ::_exit(1);
  auto done = ReceiveMessage(a.sync_fd);
  if (!done.ok() || done->empty()) ::_exit(1);
  // create has recorded the container; from here the init outlives it.
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  ::close(a.sync_fd);

  int conn;
  do {
    conn = ::accept4(a.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) ::_exit(1);
  char byte;
  if (::read(conn, &byte, 1) != 1) ::_exit(1);
  ::close(a.listen_fd);
  const Process& process = a.spec->process;
  // In the container, as the container's user: the last step before its program.
  Status hooked = RunHooks(a.spec->hooks.start_container, "startContainer",
                           HookStateJson(a.hook_state, "created", a.hook_state.pid));
  if (!hooked.ok()) {
    WriteAll(conn, MessageOf(hooked));
    ::_exit(1);
  }
  if (a.spec->seccomp && process.no_new_privileges && !UsesNotify(*a.spec->seccomp)) {
    auto loaded = LoadSeccomp(*a.spec->seccomp);
    if (!loaded.ok()) {
      WriteAll(conn, MessageOf(loaded.status()));
      ::_exit(1);
    }
  }
  Argv argv(process.args);
  Argv envp(process.env);
  ::execve(exe->c_str(), argv.pointers.data(), envp.pointers.data());
  WriteAll(conn, MessageOf(ErrnoError(absl::StrCat("exec ", *exe))));
  ::_exit(127);
}

StatusOr<UniqueFd> ListenExecSocket(const std::string& dir) {
  UniqueFd dir_fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return ErrnoError(absl::StrCat("open ", dir));
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("socket");
  // Through the directory's fd, so long STATE_DIRs fit in sun_path.
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string path = absl::StrCat(FdPath(dir_fd.get()), "/exec.sock");
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(absl::StrCat("bind ", dir, "/exec.sock"));
  }
  if (::listen(sock.get(), 1) != 0) return ErrnoError("listen exec.sock");
  return sock;
}

}  // namespace

// ---- verbs -----------------------------------------------------------------------

Status Runtime::Create(const CreateOptions& o) {
  RETURN_IF_ERROR(ValidateId(o.id));
  char real[PATH_MAX];
  if (::realpath(o.bundle.c_str(), real) == nullptr) return ErrnoError(absl::StrCat("bundle ", o.bundle));
  std::string bundle = real;
  ASSIGN_OR_RETURN(std::string config, ReadFile(bundle + "/config.json"));
  ASSIGN_OR_RETURN(Spec spec, ParseSpec(config, bundle));
  if (spec.process.terminal && o.console_socket.empty()) {
    return absl::InvalidArgumentError("process.terminal needs --console-socket to send the terminal to");
  }
  if (spec.FindNamespace("mount") == nullptr) {
    return absl::InvalidArgumentError("berth-runtime needs a mount namespace in linux.namespaces");
  }
  if (spec.FindNamespace("time") != nullptr) return absl::UnimplementedError("time namespaces are not supported");
  RETURN_IF_ERROR(ValidateScheduling(spec.process));
  if (spec.memory_policy) RETURN_IF_ERROR(ValidateMemoryPolicy(*spec.memory_policy));
  if (spec.process.scheduler && spec.process.scheduler->policy == "SCHED_DEADLINE" &&
      !spec.hooks.start_container.empty() &&
      std::count(spec.process.scheduler->flags.begin(), spec.process.scheduler->flags.end(),
                 "SCHED_FLAG_RESET_ON_FORK") == 0) {
    // A deadline task may not fork unless its children reset the policy: the init
    // could not start its startContainer hooks.
    return absl::InvalidArgumentError(
        "process.scheduler SCHED_DEADLINE with startContainer hooks needs SCHED_FLAG_RESET_ON_FORK");
  }
  RETURN_IF_ERROR(CheckUserNamespace(spec));
  RETURN_IF_ERROR(CheckHostIsolation(spec));
  RETURN_IF_ERROR(ValidateNetDevices(spec.net_devices));
  if (spec.seccomp) RETURN_IF_ERROR(ValidateSeccompListener(*spec.seccomp));

  RETURN_IF_ERROR(store_.Reserve(o.id));
  bool committed = false;
  // What prestart and createRuntime hooks set up is theirs to undo in poststop, which
  // runs (as warnings) once a create they ran in has undone the rest.
  bool hooks_ran = false;
  absl::Cleanup undo_hooks = [&] {
    if (committed || !hooks_ran || spec.hooks.poststop.empty()) return;
    ContainerState gone = ContainerStateOf(o.id, spec, bundle);
    Warn(RunHooks(spec.hooks.poststop, "poststop", HookStateJson(gone, "stopped", 0)));
  };
  absl::Cleanup remove_state = [&] {
    if (!committed) (void)store_.Remove(o.id);
  };
  RETURN_IF_ERROR(WriteFileAtomically(store_.Dir(o.id) + "/config.json", config, 0600, Durability::kCrash));
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  ASSIGN_OR_RETURN(std::string cgroup_path, cgroups::NormalizePath(spec.cgroups_path, o.id));
  ASSIGN_OR_RETURN(cgroups::Manager cg, cgroups::Manager::Create(layout, cgroup_path));
  absl::Cleanup remove_cgroup = [&] {
    if (!committed) (void)RemoveCgroup(cg);
  };
  if (spec.resources) {
    cgroups::Resources without_devices = *spec.resources;
    without_devices.devices.clear();  // once the init has made its /dev (see SetupInit)
    RETURN_IF_ERROR(cg.Apply(without_devices));
  }

  ASSIGN_OR_RETURN(UniqueFd listener, ListenExecSocket(store_.Dir(o.id)));
  // Connected here, where the socket's path means what the caller meant; the init
  // sends the terminal over it from inside the container.
  UniqueFd console;
  if (spec.process.terminal) {
    ASSIGN_OR_RETURN(console, ConnectConsoleSocket(o.console_socket));
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return ErrnoError("socketpair");
  UniqueFd sync(pair[0]);
  UniqueFd child_sync(pair[1]);

  InitArgs args;
  args.spec = &spec;
  args.hook_state = ContainerStateOf(o.id, spec, bundle);
  args.rootfs.spec = &spec;
  args.rootfs.cgroup_dirs = cg.HierarchyDirs();
  args.rootfs.cgroup_v2_host = layout.mode == cgroups::Mode::kUnified;
  args.sync_fd = child_sync.get();
  args.listen_fd = listener.get();
  args.console_fd = console.get();
  args.preserve_fds = o.preserve_fds;

  // create is single-threaded, so the child may use the heap freely after fork.
  // The hooks create runs must start in the runtime's pid namespace, not in the one
  // its next child was to be the init of (and which is gone once the init is).
  UniqueFd own_pid_ns;
  if (!spec.hooks.empty()) {
    own_pid_ns = UniqueFd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own_pid_ns) return ErrnoError("open the runtime's pid namespace");
  }
  RETURN_IF_ERROR(PreparePidNamespace(spec));
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork container init");
  if (pid == 0) {
    sync.Reset();
    RunInit(args);
  }
  if (own_pid_ns && ::setns(own_pid_ns.get(), CLONE_NEWPID) != 0) {
    Status restored = ErrnoError("return to the runtime's pid namespace");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return restored;
  }
  child_sync.Reset();
  listener.Reset();
  console.Reset();
  absl::Cleanup kill_init = [&] {
    if (committed) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  // Given back while the init still holds the namespace they went into (a new one
  // would take virtual links with it when it goes).
  MovedNetDevices net_devices;
  absl::Cleanup give_back_net_devices = [&] {
    if (!committed) Warn(net_devices.GiveBack());
  };
  // The init sets up what does not need its cgroup meanwhile (see SetupInit).
  Status placed = cg.AddPid(pid);
  if (placed.ok()) placed = SendMessage(sync.get(), absl::StrCat("g", pid));
  if (!placed.ok()) ::shutdown(sync.get(), SHUT_WR);  // the init stops waiting for "g"
  // Comes with "S" once the init has loaded a filter with SCMP_ACT_NOTIFY rules.
  UniqueFd seccomp_notify_fd;
  ASSIGN_OR_RETURN(std::string reply, ReceiveMessage(sync.get()));
  if (!spec.net_devices.empty() && (reply == "H" || reply == "R")) {
    // The init is in its network namespace by now; the links arrive before any hook
    // runs, as a prestart hook configuring them would expect.
    std::string netns = absl::StrCat("/proc/", pid, "/ns/net");
    UniqueFd netns_fd(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns_fd) return ErrnoError(absl::StrCat("open ", netns));
    RETURN_IF_ERROR(net_devices.Move(spec.net_devices, netns_fd.get()));
  }
  if (reply == "H") {
    // The init's mounts are in place and it has not pivoted yet (RunHooksBeforePivot).
    args.hook_state.pid = pid;
    hooks_ran = true;
    std::string state = HookStateJson(args.hook_state, "creating", pid);
    RETURN_IF_ERROR(RunHooks(spec.hooks.prestart, "prestart", state));
    RETURN_IF_ERROR(RunHooks(spec.hooks.create_runtime, "createRuntime", state));
    RETURN_IF_ERROR(SendMessage(sync.get(), "h"));
    ASSIGN_OR_RETURN(reply, ReceiveMessage(sync.get()));
  }
  if (reply == "R") {
    // The container's /dev is complete: its device rules apply from now on.
    Status restricted = spec.resources ? cg.ApplyDevices(spec.resources->devices) : absl::OkStatus();
    if (restricted.ok()) restricted = SendMessage(sync.get(), "D");
    if (!restricted.ok()) return restricted;
    ASSIGN_OR_RETURN(reply, ReceiveMessage(sync.get(), &seccomp_notify_fd));
  }
  bool agent_has_fd = false;
  if (reply == "S") {
    // The filter with SCMP_ACT_NOTIFY rules is loaded; the init waits until the
    // seccomp agent has its fd (HandOverNotifyFd).
    if (!seccomp_notify_fd) return absl::InternalError("the container's init sent \"S\" without a seccomp fd");
    std::string process_state = ContainerProcessStateJson(*spec.seccomp, pid, spec.oci_version,
                                                          HookStateJson(args.hook_state, "creating", pid));
    RETURN_IF_ERROR(SendToSeccompAgent(*spec.seccomp, seccomp_notify_fd.get(), process_state));
    seccomp_notify_fd.Reset();
    agent_has_fd = true;
    RETURN_IF_ERROR(SendMessage(sync.get(), "s"));
    ASSIGN_OR_RETURN(reply, ReceiveMessage(sync.get()));
  }
  // An init that failed on its own (say, before it ever needed "g") says why; that
  // comes first, as the placement may only have failed because it had exited.
  if (reply.empty()) {
    if (!placed.ok()) return placed;
    return absl::InternalError("container init exited during setup");
  }
  if (reply[0] == 'E') {
    return absl::FailedPreconditionError(absl::StrCat("create container ", o.id, ": ", reply.substr(1)));
  }
  if (spec.seccomp && UsesNotify(*spec.seccomp) && !agent_has_fd) {
    return absl::InternalError("the container's init sent no seccomp notify fd");
  }

  RETURN_IF_ERROR(Record(o.id, pid, spec, bundle, cgroup_path, o.pid_file));
  RETURN_IF_ERROR(SendMessage(sync.get(), "d"));
  // The init closes its end once it no longer dies with us.
  ASSIGN_OR_RETURN(std::string eof, ReceiveMessage(sync.get()));
  committed = true;
  return absl::OkStatus();
}

Status Runtime::Start(absl::string_view id) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  ContainerStatus status = store_.Probe(state);
  if (status != ContainerStatus::kCreated) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start container ", id, ": it is ", ContainerStatusName(status)));
  }
  UniqueFd dir(::open(store_.Dir(id).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return ErrnoError(absl::StrCat("open ", store_.Dir(id)));
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError("socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/exec.sock", FdPath(dir.get()).c_str());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(absl::StrCat("start container ", id, ": connect exec.sock"));
  }
  if (::write(sock.get(), "1", 1) != 1) return ErrnoError(absl::StrCat("start container ", id));
  std::string error = ReadAll(sock.get());
  (void)::unlinkat(dir.get(), "exec.sock", 0);
  if (!error.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("start container ", id, ": ", error));
  }
  if (!state.poststart_hooks) return absl::OkStatus();
  // The spec asks that a failing poststart hook be only a warning.
  auto spec = LoadSpec(state);
  if (!spec.ok()) return Annotate(spec.status(), "poststart hooks");
  Warn(RunHooks(spec->hooks.poststart, "poststart", HookStateJson(state, "running", state.pid)));
  return absl::OkStatus();
}

StatusOr<std::string> Runtime::State(absl::string_view id) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  return StateJson(state, store_.Probe(state));
}

Status Runtime::Kill(absl::string_view id, int signal, bool all) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  if (all) {
    ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
    cgroups::Manager cg = cgroups::Manager::Open(layout, state.cgroup_path);
    ASSIGN_OR_RETURN(std::vector<pid_t> pids, cg.Pids());
    for (pid_t pid : pids) {
      if (::kill(pid, signal) != 0 && errno != ESRCH) return ErrnoError(absl::StrCat("kill ", pid));
    }
    return absl::OkStatus();
  }
  if (store_.Probe(state) == ContainerStatus::kStopped) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " is not running"));
  }
  ASSIGN_OR_RETURN(UniqueFd pidfd, OpenInit(state));
  if (PidfdSendSignal(pidfd.get(), signal) != 0) {
    return ErrnoError(absl::StrCat("kill container ", id, " with signal ", signal));
  }
  return absl::OkStatus();
}

Status Runtime::Delete(absl::string_view id, bool force) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  ContainerStatus status = store_.Probe(state);
  if (status == ContainerStatus::kRunning && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot delete container ", id, " that is not stopped: running"));
  }
  if (status != ContainerStatus::kStopped) {
    auto pidfd = OpenInit(state);
    if (pidfd.ok() && PidfdSendSignal(pidfd->get(), SIGKILL) == 0) {
      // Readable once the init has exited (reaping is the subreaper's business).
      if (!WaitPidfd(pidfd->get(), 10000)) {
        return absl::DeadlineExceededError(absl::StrCat("container ", id, " did not die on SIGKILL"));
      }
    }
  }
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  cgroups::Manager cg = cgroups::Manager::Open(layout, state.cgroup_path);
  RETURN_IF_ERROR(EmptyCgroup(cg));
  RETURN_IF_ERROR(Annotate(RemoveCgroup(cg), absl::StrCat("delete container ", id)));
  // Read before the state goes; run after, as the spec orders (a failure only warns).
  std::vector<Hook> poststop;
  if (state.poststop_hooks) {
    auto spec = LoadSpec(state);
    if (spec.ok()) poststop = spec->hooks.poststop;
    if (!spec.ok()) Warn(Annotate(spec.status(), "poststop hooks"));
  }
  RETURN_IF_ERROR(store_.Remove(id));
  if (!poststop.empty()) Warn(RunHooks(poststop, "poststop", HookStateJson(state, "stopped", 0)));
  return absl::OkStatus();
}

void Runtime::Warn(const Status& status) const {
  if (!status.ok() && warn_) warn_(status);
}

Status Runtime::Record(absl::string_view id, pid_t pid, const Spec& spec, const std::string& bundle,
                       const std::string& cgroup_path, const std::string& pid_file) {
  ContainerState state = ContainerStateOf(id, spec, bundle);
  state.pid = pid;
  ASSIGN_OR_RETURN(state.start_time, ProcessStartTime(pid));
  state.created = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::Now(), absl::UTCTimeZone());
  state.cgroup_path = cgroup_path;
  RETURN_IF_ERROR(store_.Save(state));
  if (pid_file.empty()) return absl::OkStatus();
  return WriteFileAtomically(pid_file, absl::StrCat(pid), 0644, Durability::kCrash);
}

StatusOr<Spec> Runtime::LoadSpec(const ContainerState& state) {
  ASSIGN_OR_RETURN(std::string config, ReadFile(store_.Dir(state.id) + "/config.json"));
  return ParseSpec(config, state.bundle);
}

StatusOr<Process> Runtime::ContainerProcess(absl::string_view id) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  ASSIGN_OR_RETURN(Spec spec, LoadSpec(state));
  return spec.process;
}


Status Runtime::Update(absl::string_view id, const cgroups::Resources& resources) {
  ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  ASSIGN_OR_RETURN(cgroups::Layout layout, cgroups::DetectLayout());
  return cgroups::Manager::Open(layout, state.cgroup_path).Apply(resources);
}

Status EnsureSealedBinary(char** argv) {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return ErrnoError("open /proc/self/exe");
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  // berthd runs berth-runtime from a sealed copy it made once; only other callers
  // pay for the copy here.
  if (seals >= 0 && (seals & kSeals) == kSeals) return absl::OkStatus();
  ASSIGN_OR_RETURN(UniqueFd copy, SealedCopy(self.get(), "berth-runtime"));
  ::fexecve(copy.get(), argv, environ);
  return ErrnoError("re-exec sealed runtime binary");
}

}  // namespace berth::runtime

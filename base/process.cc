#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth {

namespace {

// The fields of /proc/PID/stat after the command name (which may hold spaces and
// parentheses, so they start after the last ')'): the state first, then the
// parent; empty when the process is gone.
std::vector<std::string> StatFieldsAfterName(pid_t pid) {
  auto stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return {};
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 > stat->size()) return {};
  return absl::StrSplit(absl::string_view(*stat).substr(close + 2), ' ');
}

}  // namespace

pid_t ParentPid(pid_t pid) {
  std::vector<std::string> fields = StatFieldsAfterName(pid);
  pid_t parent = 0;
  if (fields.size() > 1) (void)absl::SimpleAtoi(fields[1], &parent);
  return parent;
}

uint64_t ProcessStartTime(pid_t pid) {
  std::vector<std::string> fields = StatFieldsAfterName(pid);
  // Field 22 overall is the 20th after the name and state.
  uint64_t start = 0;
  if (fields.size() > 19) (void)absl::SimpleAtoi(fields[19], &start);
  return start;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  uint64_t now = ProcessStartTime(pid);
  if (now == 0 || now != start_time) return false;
  // A zombie has exited even though /proc still lists it.
  auto stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return false;
  size_t close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

bool WaitForProcessExit(pid_t pid, uint64_t start_time, std::chrono::milliseconds timeout) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd || !ProcessAlive(pid, start_time)) return !ProcessAlive(pid, start_time);
  pollfd pfd{pidfd.get(), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

void ResetSignalsForExec() {
  // The kernel's own sigaction: glibc's refuses the two real-time signals it keeps for
  // itself (32 and 33), and its posix_spawn leaves those ignored in the new program.
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } defaults = {SIG_DFL, 0, nullptr, 0};
  for (int signal = 1; signal <= 64; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    (void)::syscall(SYS_rt_sigaction, signal, &defaults, nullptr, sizeof defaults.mask);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

StatusOr<std::string> SpawnDetached(const std::vector<std::string>& argv) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // fork rather than posix_spawn: the pipe must land on fd 3 exactly. Between fork
  // and exec only async-signal-safe calls.
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    ::dup2(ready_w.get(), 3);
    ResetSignalsForExec();
    ::execv(args[0], args.data());
    _exit(127);
  }
  ready_w.Reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(ready_r.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) answer.append(buf, static_cast<size_t>(n));
  }
  if (answer.empty() && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0]));
  }
  return std::string(absl::StripAsciiWhitespace(answer));
}

namespace {

// posix_spawn of argv with actions, signals as a new program expects them (none
// blocked, all at their defaults).
StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t* actions, char** env,
                      const std::string& executable = "") {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigfillset(&defaults);
  // sigfillset leaves out glibc's two internal real-time signals (32 and 33), and
  // posix_spawn then gives the program those ignored: an ignored signal outlives exec,
  // so runc passed one on to every process it exec'd into a container. Their bits are
  // set by hand (signal n is bit n-1 of the set's first word on Linux).
  static_assert(sizeof(defaults.__val[0]) == 8);
  defaults.__val[0] |= (1UL << (__SIGRTMIN - 1)) | (1UL << __SIGRTMIN);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const char* file = executable.empty() ? args[0] : executable.c_str();
  int rc = ::posix_spawn(&pid, file, actions, &attr, args.data(), env);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return ErrnoError(rc, absl::StrCat("run ", file));
  return pid;
}

}  // namespace

StatusOr<Child> SpawnChild(const std::vector<std::string>& argv, bool pipe_stdin) {
  int in[2] = {-1, -1}, out[2], err[2];
  if (pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_r) {
    posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  auto spawned = Spawn(argv, &actions, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned.ok()) return spawned.status();
  Child child;
  child.pid = *spawned;
  child.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  if (!child.pidfd) {
    Status failed = ErrnoError("pidfd_open");
    ::kill(child.pid, SIGKILL);
    (void)WaitChild(child.pid);
    return failed;
  }
  child.stdin = std::move(in_w);
  child.stdout = std::move(out_r);
  child.stderr = std::move(err_r);
  return child;
}

int WaitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

StatusOr<RunResult> RunProcess(const std::vector<std::string>& argv, const RunOptions& options) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
  UniqueFd in_r;
  if (!options.stdin_data.empty()) {
    // The whole input fits in the pipe, so it is written before the child starts and
    // no writer has to wait on a child that might never read.
    int in_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
    in_r = UniqueFd(in_pipe[0]);
    UniqueFd in_w(in_pipe[1]);
    if (options.stdin_data.size() > 65536 &&
        ::fcntl(in_w.get(), F_SETPIPE_SZ, static_cast<int>(options.stdin_data.size())) < 0) {
      return ErrnoError(absl::StrCat("input of ", options.stdin_data.size(), " bytes for ", argv[0]));
    }
    size_t written = 0;
    while (written < options.stdin_data.size()) {
      ssize_t n = ::write(in_w.get(), options.stdin_data.data() + written, options.stdin_data.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(absl::StrCat("write the input of ", argv[0]));
      written += static_cast<size_t>(n);
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_r.valid()) {
    posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  for (int fd : options.keep_fds) posix_spawn_file_actions_adddup2(&actions, fd, fd);
  if (options.close_other_fds) {
    int first = 3;
    for (int fd : options.keep_fds) first = std::max(first, fd + 1);
    posix_spawn_file_actions_addclosefrom_np(&actions, first);
  }
  std::vector<std::string> env_storage;
  char** env = environ;
  std::vector<char*> env_pointers;
  if (options.env) {
    env_storage = *options.env;
    for (auto& entry : env_storage) env_pointers.push_back(entry.data());
    env_pointers.push_back(nullptr);
    env = env_pointers.data();
  } else if (!options.extra_env.empty()) {
    for (char** e = environ; *e != nullptr; ++e) {
      absl::string_view entry(*e);
      absl::string_view name = entry.substr(0, entry.find('='));
      bool replaced = false;
      for (const auto& extra : options.extra_env) {
        if (absl::StartsWith(extra, absl::StrCat(name, "="))) replaced = true;
      }
      if (!replaced) env_storage.emplace_back(entry);
    }
    env_storage.insert(env_storage.end(), options.extra_env.begin(), options.extra_env.end());
    for (auto& entry : env_storage) env_pointers.push_back(entry.data());
    env_pointers.push_back(nullptr);
    env = env_pointers.data();
  }
  auto spawned = Spawn(argv, &actions, env, options.executable);
  posix_spawn_file_actions_destroy(&actions);
  if (!spawned.ok()) return spawned.status();
  pid_t pid = *spawned;
  out_w.Reset();
  err_w.Reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  RunResult result;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  char buf[65536];
  bool exited = false;
  while ((out_r.valid() || err_r.valid()) || !exited) {
    if (exited && result.timed_out) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !result.timed_out && options.on_timeout) {
      // Let the caller end what the child started (an exec'd process), and give the
      // child a moment to reap it: a process orphaned by killing its parent would
      // linger as a zombie under the host's init.
      result.timed_out = true;
      options.on_timeout(pid);
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      continue;
    }
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      // What the child left holding the pipes no longer matters.
      out_r.Reset();
      err_r.Reset();
      break;
    }
    pollfd fds[3] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int n = ::poll(fds, 3, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      UniqueFd& fd = i == 0 ? out_r : err_r;
      std::string& sink = i == 0 ? result.out : result.err;
      ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0) {
        size_t room = options.max_output > sink.size() ? options.max_output - sink.size() : 0;
        if (static_cast<size_t>(got) > room) result.truncated = true;
        sink.append(buf, std::min(static_cast<size_t>(got), room));
      } else if (got == 0 || errno != EINTR) {
        fd.Reset();
      }
    }
    if (fds[2].revents & POLLIN) exited = true;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace berth

#include "node/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/process.h"

namespace berth::node {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = std::chrono::seconds(120);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kHealthyRun = std::chrono::seconds(60);

// Copies a program's output to stderr a line at a time, each prefixed with its name,
// so that lines of different programs never interleave within a line.
void PrefixLines(UniqueFd from, const std::string& name) {
  std::thread([from = std::move(from), prefix = name + ": "]() {
    std::string pending;
    char buffer[8192];
    auto emit = [&](absl::string_view text) {
      std::string line = absl::StrCat(prefix, text, "\n");
      (void)!::write(STDERR_FILENO, line.data(), line.size());
    };
    while (true) {
      ssize_t n = ::read(from.get(), buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
      size_t end;
      while ((end = pending.find('\n')) != std::string::npos) {
        emit(absl::string_view(pending).substr(0, end));
        pending.erase(0, end + 1);
      }
    }
    if (!pending.empty()) emit(pending);
  }).detach();
}

}  // namespace

Supervisor::Supervisor(const NodeConfig& config) {
  programs_.push_back({.service = {"berthd", config.berthd}});
  for (const auto& service : config.services) programs_.push_back({.service = service});
}

bool Supervisor::Spawn(Program& program, int ready_write_fd) {
  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    BERTH_LOG(Error) << "pipe failed" << Kv("program", program.service.name);
    return false;
  }
  std::vector<std::string> argv = program.service.argv;
  if (ready_write_fd >= 0) {
    argv.push_back("--ready-fd");
    argv.push_back("3");
  }
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ResetSignalsForExec();
    ::setpgid(0, 0);
    ::dup2(output[1], STDOUT_FILENO);
    ::dup2(output[1], STDERR_FILENO);
    if (ready_write_fd >= 0) ::dup2(ready_write_fd, 3);  // dup2 clears CLOEXEC
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::execv(args[0], args.data());
    // Only async-signal-safe calls between fork and exec in a threaded process.
    static const char kFailed[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, kFailed, sizeof(kFailed) - 1);
    ::_exit(127);
  }
  ::close(output[1]);
  if (pid < 0) {
    ::close(output[0]);
    BERTH_LOG(Error) << "fork failed" << Kv("program", program.service.name);
    return false;
  }
  PrefixLines(UniqueFd(output[0]), program.service.name);
  program.pid = pid;
  program.started = Clock::now();
  BERTH_LOG(Info) << "started" << Kv("program", program.service.name) << Kv("pid", pid);
  return true;
}

bool Supervisor::StartBerthd(Program& berthd, int signal_fd) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(ready[0]);
  bool spawned = Spawn(berthd, ready[1]);
  ::close(ready[1]);
  if (!spawned) return false;
  const auto deadline = Clock::now() + kReadyTimeout;
  std::string said;
  while (Clock::now() < deadline) {
    pollfd fds[2] = {{read_end.get(), POLLIN, 0}, {signal_fd, POLLIN, 0}};
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (::poll(fds, 2, std::max(wait_ms, 0)) < 0 && errno != EINTR) return false;
    if (fds[0].revents != 0) {
      char buffer[64];
      ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
      if (n > 0) said.append(buffer, static_cast<size_t>(n));
      if (said.find("READY") != std::string::npos) {
        BERTH_LOG(Info) << "berthd is ready";
        return true;
      }
      if (n <= 0) break;  // it closed fd 3 without a word: it exited
    }
    if (fds[1].revents != 0) {
      signalfd_siginfo info;
      if (::read(signal_fd, &info, sizeof(info)) == sizeof(info) && info.ssi_signo != SIGCHLD) return false;
      Reap(false);
      if (berthd.pid == 0) break;
    }
  }
  BERTH_LOG(Error) << "berthd did not become ready; its output above says why";
  return false;
}

void Supervisor::Reap(bool stopping) {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (auto& program : programs_) {
      if (program.pid != pid) continue;
      program.pid = 0;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (stopping) {
        BERTH_LOG(Info) << "stopped" << Kv("program", program.service.name) << Kv("code", code);
        break;
      }
      if (Clock::now() - program.started > kHealthyRun) program.backoff = std::chrono::seconds(1);
      program.restart_at = Clock::now() + program.backoff;
      BERTH_LOG(Warn) << "exited; starting it again" << Kv("program", program.service.name) << Kv("code", code)
                      << Kv("in_seconds", program.backoff.count());
      program.backoff = std::min(program.backoff * 2, kMaxBackoff);
    }
  }
}

void Supervisor::StopAll(int signal_fd) {
  // Services before berthd, the last started first: kubelet must not see its
  // runtime vanish while it still runs.
  for (auto it = programs_.rbegin(); it != programs_.rend(); ++it) {
    if (it->pid == 0) continue;
    ::kill(it->pid, SIGTERM);
    const auto deadline = Clock::now() + kStopGrace;
    while (it->pid != 0 && Clock::now() < deadline) {
      pollfd fd = {signal_fd, POLLIN, 0};
      ::poll(&fd, 1, 100);
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
      }
      Reap(true);
    }
    if (it->pid != 0) {
      BERTH_LOG(Warn) << "did not stop in time; killing it" << Kv("program", it->service.name);
      ::kill(it->pid, SIGKILL);
      while (it->pid != 0) {
        pollfd fd = {signal_fd, POLLIN, 0};
        ::poll(&fd, 1, 100);
        Reap(true);
      }
    }
  }
}

namespace {

sigset_t HandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  return signals;
}

}  // namespace

void Supervisor::BlockSignals() {
  sigset_t signals = HandledSignals();
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int Supervisor::Run() {
  BlockSignals();
  sigset_t signals = HandledSignals();
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  // Not PID 1 (a test runs it as a child): orphans are still ours to reap.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  if (!StartBerthd(programs_.front(), signal_fd.get())) {
    StopAll(signal_fd.get());
    return 1;
  }
  for (size_t i = 1; i < programs_.size(); ++i) Spawn(programs_[i], -1);

  while (true) {
    int wait_ms = -1;
    const auto now = Clock::now();
    for (auto& program : programs_) {
      if (program.pid != 0) continue;
      if (program.restart_at <= now) {
        // A restarted berthd is not waited for: its services retry on their own.
        Spawn(program, -1);
        if (program.pid == 0) program.restart_at = now + program.backoff;
        continue;
      }
      int ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(program.restart_at - now).count()) + 1;
      wait_ms = wait_ms < 0 ? ms : std::min(wait_ms, ms);
    }
    pollfd fd = {signal_fd.get(), POLLIN, 0};
    if (::poll(&fd, 1, wait_ms) < 0 && errno != EINTR) return 1;
    signalfd_siginfo info;
    while (::read(signal_fd.get(), &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGCHLD) continue;
      BERTH_LOG(Info) << "stopping the node" << Kv("signal", strsignal(static_cast<int>(info.ssi_signo)));
      StopAll(signal_fd.get());
      return 0;
    }
    Reap(false);
  }
}

}  // namespace berth::node

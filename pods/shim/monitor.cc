#include "pods/shim/monitor.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "pods/shim/protocol.h"

namespace berth::pods::shim {
namespace {

constexpr auto kDrainAfterExit = std::chrono::seconds(1);

}  // namespace

Monitor::Monitor(pid_t init, Streams streams, CriLogWriter* log)
    : init_(init), streams_(std::move(streams)), log_(log) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  signals_ = UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
}

void Monitor::WatchOutput(UniqueFd& fd, const char* stream) {
  if (!fd) return;
  loop_.Watch(fd.get(), [this, &fd, stream](short) {
    char buf[65536];
    ssize_t got = ::read(fd.get(), buf, sizeof buf);
    if (got > 0) {
      (void)log_->Write(stream, absl::string_view(buf, static_cast<size_t>(got)), NowNanos());
      return;
    }
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    // End of file (a terminal gives EIO once every holder of its slave end is gone).
    (void)log_->Flush(stream, NowNanos());
    loop_.Unwatch(fd.get());
    fd.Reset();
    StopWhenDrained();
  });
}

void Monitor::Reap() {
  signalfd_siginfo info;
  while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
  }
  int status;
  pid_t pid;
  // As a subreaper the shim inherits the container's orphans too: reap them all.
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid != init_) continue;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    exited_ = true;
    loop_.StopAt(std::chrono::steady_clock::now() + kDrainAfterExit);
  }
  StopWhenDrained();
}

void Monitor::StopWhenDrained() {
  if (exited_ && !streams_.stdout_read && !streams_.stderr_read && !streams_.terminal) loop_.Stop();
}

int Monitor::Run() {
  WatchOutput(streams_.stdout_read, "stdout");
  WatchOutput(streams_.stderr_read, "stderr");
  WatchOutput(streams_.terminal, "stdout");
  loop_.Watch(signals_.get(), [this](short) { Reap(); });
  if (streams_.control) {
    loop_.Watch(streams_.control.get(), [this](short) {
      char buf[4096];
      ssize_t got = ::read(streams_.control.get(), buf, sizeof buf);
      if (got <= 0) return;
      for (ControlCommand command : ParseControl(absl::string_view(buf, static_cast<size_t>(got)))) {
        if (command == ControlCommand::kReopenLog) (void)log_->Reopen();
      }
    });
  }
  // An exit that happened before the loop started is pending on the signalfd.
  Reap();
  loop_.Run();
  (void)log_->Flush("stdout", NowNanos());
  (void)log_->Flush("stderr", NowNanos());
  return exit_code_;
}

}  // namespace berth::pods::shim

#include "pods/shim/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>
#include <vector>

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
      const absl::string_view data(buf, static_cast<size_t>(got));
      (void)log_->Write(stream, data, NowNanos());
      Broadcast(std::string_view(stream) == "stderr" ? AttachFrame::kStderr : AttachFrame::kStdout, data);
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

void Monitor::Accept() {
  while (true) {
    UniqueFd connection(::accept4(streams_.attach.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!connection) return;
    // Room for a burst of output: an attacher is dropped only when this fills.
    int buffer = 4 << 20;
    ::setsockopt(connection.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    const int fd = connection.get();
    attachers_[fd].connection = std::move(connection);
    loop_.Watch(fd, [this, fd](short) { ReadAttacher(fd); });
  }
}

void Monitor::ReadAttacher(int fd) {
  auto it = attachers_.find(fd);
  if (it == attachers_.end()) return;
  char buf[65536];
  ssize_t got = ::read(fd, buf, sizeof buf);
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (got <= 0) return DropAttacher(fd);  // detached
  it->second.reader.Feed(absl::string_view(buf, static_cast<size_t>(got)));
  while (auto frame = it->second.reader.Next()) {
    switch (frame->first) {
      case AttachFrame::kStdin:
        if (streams_.stdin_write || streams_.terminal) stdin_pending_ += frame->second;
        break;
      case AttachFrame::kCloseStdin:
        // Only with stdin_once does one attacher's end end the container's stdin; a
        // terminal has no end to close.
        if (streams_.stdin_once && streams_.stdin_write) close_stdin_ = true;
        break;
      case AttachFrame::kResize: {
        uint16_t width, height;
        if (streams_.terminal && DecodeTerminalSize(frame->second, &width, &height)) {
          winsize size{};
          size.ws_col = width;
          size.ws_row = height;
          (void)::ioctl(streams_.terminal.get(), TIOCSWINSZ, &size);
        }
        break;
      }
      default:
        break;
    }
  }
  if (it->second.reader.bad()) return DropAttacher(fd);
  FlushStdin();
}

void Monitor::FlushStdin() {
  const int fd = streams_.stdin_write ? streams_.stdin_write.get() : streams_.terminal.get();
  while (!stdin_pending_.empty() && fd >= 0) {
    ssize_t put = ::write(fd, stdin_pending_.data(), stdin_pending_.size());
    if (put > 0) {
      stdin_pending_.erase(0, static_cast<size_t>(put));
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno == EAGAIN) {
      // The container has not read what it has: written when it can take more (a
      // terminal is retried on its next output or input instead, its fd being
      // watched for that already).
      if (streams_.stdin_write) loop_.Watch(fd, [this](short) { FlushStdin(); }, POLLOUT);
      return;
    }
    // The container closed its stdin: what attachers send goes nowhere.
    stdin_pending_.clear();
    if (streams_.stdin_write) {
      loop_.Unwatch(fd);
      streams_.stdin_write.Reset();
    }
    return;
  }
  if (streams_.stdin_write && loop_.Watching(streams_.stdin_write.get())) loop_.Unwatch(streams_.stdin_write.get());
  if (close_stdin_ && streams_.stdin_write) streams_.stdin_write.Reset();
}

void Monitor::Broadcast(AttachFrame kind, absl::string_view data) {
  if (attachers_.empty()) return;
  const std::string frame = EncodeAttachFrame(kind, data);
  std::vector<int> slow;
  for (auto& [fd, attacher] : attachers_) {
    ssize_t sent = ::send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(frame.size())) slow.push_back(fd);
  }
  for (int fd : slow) DropAttacher(fd);
}

void Monitor::DropAttacher(int fd) {
  loop_.Unwatch(fd);
  attachers_.erase(fd);
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
  if (streams_.attach) loop_.Watch(streams_.attach.get(), [this](short) { Accept(); });
  // Input for the container never blocks the monitor (its log must flow).
  for (const UniqueFd* fd : {&streams_.stdin_write, &streams_.terminal}) {
    if (*fd) ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  }
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

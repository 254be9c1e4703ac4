#include "cri/streaming_backend.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "pods/shim/protocol.h"

namespace berth::cri {
namespace {

class ExecSessionProcess : public streaming::SessionProcess {
 public:
  ExecSessionProcess(std::unique_ptr<pods::ExecProcess> process, bool stdin_wanted) : process_(std::move(process)) {
    if (process_->terminal()) {
      // A terminal is both ends: the session reads it as stdout and writes it as
      // stdin; a copy stays here for resizes.
      terminal_ = std::move(process_->terminal());
      stdout = UniqueFd(::dup(terminal_.get()));
      if (stdin_wanted) stdin = UniqueFd(::dup(terminal_.get()));
    } else {
      stdin = std::move(process_->stdin());
      stdout = std::move(process_->stdout());
      stderr = std::move(process_->stderr());
    }
    // The process keeps its own (it reaps through it); the session gets a copy.
    exit_fd = UniqueFd(::dup(process_->exit_fd().get()));
  }
  int ExitCode() override { return process_->ExitCode(); }
  void Resize(uint16_t width, uint16_t height) override {
    if (!terminal_) return;
    winsize size{};
    size.ws_col = width;
    size.ws_row = height;
    (void)::ioctl(terminal_.get(), TIOCSWINSZ, &size);
  }
  void Kill() override { process_->Kill(); }

 private:
  std::unique_ptr<pods::ExecProcess> process_;
  UniqueFd terminal_;
};

// An attach seen as a process: two relay threads between the shim's framed attach
// connection and plain pipes (the session's stdio); "exits" when the shim ends the
// connection (the container exited). Kill detaches; the container runs on.
class AttachSessionProcess : public streaming::SessionProcess {
 public:
  AttachSessionProcess(UniqueFd shim, const streaming::AttachRequest& request) : shim_(std::move(shim)) {
    UniqueFd out_w, err_w, in_r;
    if (request.stdout) stdout = Pipe(&out_w);
    if (request.stderr) stderr = Pipe(&err_w);
    if (request.stdin) {
      UniqueFd in_w;
      in_r = Pipe(&in_w);
      stdin = std::move(in_w);
    }
    ended_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    exit_fd = UniqueFd(::dup(ended_.get()));
    output_ = std::thread([this, out_w = std::move(out_w), err_w = std::move(err_w)]() mutable {
      RelayOutput(std::move(out_w), std::move(err_w));
    });
    if (in_r) input_ = std::thread([this, in_r = std::move(in_r)]() mutable { RelayInput(std::move(in_r)); });
  }
  ~AttachSessionProcess() override { Detach(); }

  int ExitCode() override { return 0; }
  void Resize(uint16_t width, uint16_t height) override {
    Send(pods::shim::EncodeAttachFrame(pods::shim::AttachFrame::kResize,
                                       pods::shim::EncodeTerminalSize(width, height)));
  }
  void Kill() override { Detach(); }

 private:
  static UniqueFd Pipe(UniqueFd* write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return UniqueFd();
    *write_end = UniqueFd(fds[1]);
    return UniqueFd(fds[0]);
  }

  static bool WriteAll(int fd, absl::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void Send(const std::string& frame) {
    std::lock_guard<std::mutex> lock(send_mu_);
    absl::string_view rest(frame);
    while (!rest.empty()) {
      ssize_t n = ::send(shim_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }

  void RelayOutput(UniqueFd out_w, UniqueFd err_w) {
    pods::shim::AttachFrameReader reader;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(shim_.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
      if (n < 0) continue;
      reader.Feed(absl::string_view(buffer, static_cast<size_t>(n)));
      while (auto frame = reader.Next()) {
        UniqueFd* sink = frame->first == pods::shim::AttachFrame::kStdout   ? &out_w
                         : frame->first == pods::shim::AttachFrame::kStderr ? &err_w
                                                                            : nullptr;
        // A session that stopped reading a stream closed it: that stream is dropped.
        if (sink && *sink && !WriteAll(sink->get(), frame->second)) sink->Reset();
      }
      if (reader.bad()) break;
    }
    out_w.Reset();
    err_w.Reset();
    uint64_t one = 1;
    (void)!::write(ended_.get(), &one, sizeof one);
  }

  void RelayInput(UniqueFd in_r) {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(in_r.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) Send(pods::shim::EncodeAttachFrame(pods::shim::AttachFrame::kStdin,
                                                    absl::string_view(buffer, static_cast<size_t>(n))));
    }
    // The client's stdin ended (or it detached): the shim closes the container's
    // stdin if the container is stdin_once.
    Send(pods::shim::EncodeAttachFrame(pods::shim::AttachFrame::kCloseStdin, ""));
  }

  void Detach() {
    if (detached_) return;
    detached_ = true;
    stdin.Reset();  // ends the input relay, if the session never took its end
    if (input_.joinable()) input_.join();
    ::shutdown(shim_.get(), SHUT_RDWR);
    if (output_.joinable()) output_.join();
  }

  UniqueFd shim_;
  UniqueFd ended_;
  std::mutex send_mu_;
  std::thread output_, input_;
  bool detached_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<streaming::SessionProcess>> StreamingBackend::Attach(const streaming::AttachRequest& request) {
  ASSIGN_OR_RETURN(UniqueFd shim, node_.lifecycle().Attach(request.container_id));
  return std::make_unique<AttachSessionProcess>(std::move(shim), request);
}

StatusOr<std::unique_ptr<streaming::SessionProcess>> StreamingBackend::Exec(const streaming::ExecRequest& request) {
  ASSIGN_OR_RETURN(std::unique_ptr<pods::ExecProcess> process,
                   node_.lifecycle().StartExec(request.container_id, request.cmd, request.tty, request.stdin));
  return std::make_unique<ExecSessionProcess>(std::move(process), request.stdin);
}

StatusOr<UniqueFd> StreamingBackend::DialPod(const std::string& pod_id, int32_t port) {
  return node_.lifecycle().DialPod(pod_id, port);
}

}  // namespace berth::cri

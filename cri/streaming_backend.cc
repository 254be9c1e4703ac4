#include "cri/streaming_backend.h"

#include <sys/ioctl.h>
#include <unistd.h>

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

}  // namespace

StatusOr<std::unique_ptr<streaming::SessionProcess>> StreamingBackend::Exec(const streaming::ExecRequest& request) {
  ASSIGN_OR_RETURN(std::unique_ptr<pods::ExecProcess> process,
                   node_.lifecycle().StartExec(request.container_id, request.cmd, request.tty, request.stdin));
  return std::make_unique<ExecSessionProcess>(std::move(process), request.stdin);
}

StatusOr<UniqueFd> StreamingBackend::DialPod(const std::string& pod_id, int32_t port) {
  return node_.lifecycle().DialPod(pod_id, port);
}

}  // namespace berth::cri

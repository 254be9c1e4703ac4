#include "cri/streaming_backend.h"

namespace berth::cri {
namespace {

class ExecSessionProcess : public streaming::SessionProcess {
 public:
  explicit ExecSessionProcess(std::unique_ptr<pods::ExecProcess> process) : process_(std::move(process)) {
    stdin = std::move(process_->stdin());
    stdout = std::move(process_->stdout());
    stderr = std::move(process_->stderr());
    // The process keeps its own (it reaps through it); the session gets a copy.
    exit_fd = UniqueFd(::dup(process_->exit_fd().get()));
  }
  int ExitCode() override { return process_->ExitCode(); }
  void Kill() override { process_->Kill(); }

 private:
  std::unique_ptr<pods::ExecProcess> process_;
};

}  // namespace

StatusOr<std::unique_ptr<streaming::SessionProcess>> StreamingBackend::Exec(const streaming::ExecRequest& request) {
  ASSIGN_OR_RETURN(std::unique_ptr<pods::ExecProcess> process,
                   node_.lifecycle().StartExec(request.container_id, request.cmd, request.tty, request.stdin));
  return std::make_unique<ExecSessionProcess>(std::move(process));
}

StatusOr<UniqueFd> StreamingBackend::DialPod(const std::string& pod_id, int32_t port) {
  return node_.lifecycle().DialPod(pod_id, port);
}

}  // namespace berth::cri

#include "cri/handlers.h"

namespace berth::cri {

Status HandleExecSync(pods::Node& node, const ::runtime::v1::ExecSyncRequest& request,
                      ::runtime::v1::ExecSyncResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ExecSync: container_id is empty");
  if (request.cmd().empty()) return absl::InvalidArgumentError("ExecSync: cmd is empty");
  if (request.timeout() < 0) return absl::InvalidArgumentError("ExecSync: timeout is negative");
  std::vector<std::string> cmd(request.cmd().begin(), request.cmd().end());
  ASSIGN_OR_RETURN(pods::ExecResult result,
                   node.lifecycle().ExecSync(request.container_id(), cmd, std::chrono::seconds(request.timeout())));
  response->set_exit_code(result.exit_code);
  response->set_stdout(std::move(result.out));
  response->set_stderr(std::move(result.err));
  return absl::OkStatus();
}

}  // namespace berth::cri

#include "cri/handlers.h"
#include "cri/streaming_checks.h"

namespace berth::cri {

Status HandleExec(pods::Node& node, streaming::Server& streaming, const ::runtime::v1::ExecRequest& request,
                  ::runtime::v1::ExecResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("Exec: container_id is empty");
  if (request.cmd().empty()) return absl::InvalidArgumentError("Exec: cmd is empty");
  RETURN_IF_ERROR(CheckStreams("Exec", request.tty(), request.stdin(), request.stdout(), request.stderr()));
  ASSIGN_OR_RETURN(pods::ContainerRecord container, RunningContainer(node, "Exec", request.container_id()));
  streaming::ExecRequest exec;
  exec.container_id = container.id;
  exec.cmd.assign(request.cmd().begin(), request.cmd().end());
  exec.tty = request.tty();
  exec.stdin = request.stdin();
  exec.stdout = request.stdout();
  exec.stderr = request.stderr();
  ASSIGN_OR_RETURN(std::string url, streaming.Url(std::move(exec)));
  response->set_url(std::move(url));
  return absl::OkStatus();
}

}  // namespace berth::cri

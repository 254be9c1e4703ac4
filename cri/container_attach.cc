#include "cri/handlers.h"
#include "cri/streaming_checks.h"

namespace berth::cri {

Status HandleAttach(pods::Node& node, streaming::Server& streaming, const ::runtime::v1::AttachRequest& request,
                    ::runtime::v1::AttachResponse* response) {
  RETURN_IF_ERROR(CheckStreams("Attach", request.tty(), request.stdin(), request.stdout(), request.stderr()));
  ASSIGN_OR_RETURN(pods::ContainerRecord container, RunningContainer(node, "Attach", request.container_id()));
  // What the container was made with decides: a terminal's output is one stream,
  // and stdin exists only when the container config asked for it.
  if (request.tty() != container.spec.tty) {
    return absl::InvalidArgumentError(absl::StrCat("Attach: tty is ", request.tty() ? "set" : "not set",
                                                   " but container ", container.id,
                                                   container.spec.tty ? " has a terminal" : " has no terminal"));
  }
  if (request.stdin() && !container.spec.stdin) {
    return absl::InvalidArgumentError(absl::StrCat("Attach: container ", container.id, " was created without stdin"));
  }
  streaming::AttachRequest attach;
  attach.container_id = container.id;
  attach.tty = request.tty();
  attach.stdin = request.stdin();
  attach.stdout = request.stdout();
  attach.stderr = request.stderr();
  ASSIGN_OR_RETURN(std::string url, streaming.Url(std::move(attach)));
  response->set_url(std::move(url));
  return absl::OkStatus();
}

}  // namespace berth::cri

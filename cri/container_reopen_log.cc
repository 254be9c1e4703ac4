#include "cri/handlers.h"

namespace berth::cri {

Status HandleReopenContainerLog(pods::Node& node, const ::runtime::v1::ReopenContainerLogRequest& request,
                                ::runtime::v1::ReopenContainerLogResponse* /*response*/) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ReopenContainerLog: container_id is empty");
  return node.lifecycle().ReopenLog(request.container_id());
}

}  // namespace berth::cri

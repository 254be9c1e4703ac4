#include "cri/handlers.h"

namespace berth::cri {

Status HandleRestorePod(pods::Node& node, const ::runtime::v1::RestorePodRequest& request,
                        ::runtime::v1::RestorePodResponse* /*response*/) {
  if (request.checkpoint_path().empty()) return absl::InvalidArgumentError("RestorePod: checkpoint_path is empty");
  return node.RestorePod(request.checkpoint_path());
}

}  // namespace berth::cri

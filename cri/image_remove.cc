#include "cri/handlers.h"

namespace berth::cri {

Status HandleRemoveImage(pods::Node& node, const ::runtime::v1::RemoveImageRequest& request,
                         ::runtime::v1::RemoveImageResponse* /*response*/) {
  const std::string& wanted = request.image().image();
  if (wanted.empty()) return absl::InvalidArgumentError("RemoveImage: image.image is empty");
  // The image goes with all its tags and digests, however it was named; an image
  // that is already gone is not an error.
  return node.RemoveImage(wanted);
}

}  // namespace berth::cri

#include "cri/handlers.h"

namespace berth::cri {

Status HandlePullImage(pods::Node& node, const ::runtime::v1::PullImageRequest& request,
                       ::runtime::v1::PullImageResponse* response) {
  const std::string& reference = request.image().image();
  if (reference.empty()) return absl::InvalidArgumentError("PullImage: image.image is empty");
  const auto& auth = request.auth();
  image::Credentials credentials{auth.username(), auth.password(), auth.auth(), auth.identity_token(),
                                 auth.registry_token()};
  ASSIGN_OR_RETURN(image::ImageRecord record, node.images().Pull(reference, credentials));
  // kubelet keys everything on the image ID that comes back here.
  response->set_image_ref(record.id);
  return absl::OkStatus();
}

}  // namespace berth::cri

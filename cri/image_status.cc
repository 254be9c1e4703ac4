#include <nlohmann/json.hpp>

#include "cri/handlers.h"

namespace berth::cri {

Status HandleImageStatus(pods::Node& node, const ::runtime::v1::ImageStatusRequest& request,
                         ::runtime::v1::ImageStatusResponse* response) {
  const std::string& wanted = request.image().image();
  if (wanted.empty()) return absl::InvalidArgumentError("ImageStatus: image.image is empty");
  auto found = node.images().Find(wanted);
  // An image that is not here is an empty answer, not an error: kubelet asks this
  // before every pull.
  if (!found.ok() && found.status().code() == StatusCode::kNotFound) return absl::OkStatus();
  if (!found.ok()) return found.status();
  FillImage(*found, response->mutable_image());
  if (request.verbose()) {
    nlohmann::json info = {
        {"id", found->id},
        {"manifestDigest", found->manifest_digest},
        {"chainIDs", found->chain_ids},
        {"imageSpec", nlohmann::json::parse(found->config.raw, nullptr, false)},
    };
    (*response->mutable_info())["info"] = info.dump();
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

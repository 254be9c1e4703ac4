#include "cri/handlers.h"
#include "cri/version.h"

namespace berth::cri {

Status HandleVersion(pods::Node& /*node*/, const ::runtime::v1::VersionRequest& /*request*/,
                     ::runtime::v1::VersionResponse* response) {
  // "version" is the kubelet-facing CRI API version (0.1.0 by convention, as every
  // runtime reports); runtime_api_version is the CRI version berth serves.
  response->set_version("0.1.0");
  response->set_runtime_name(kRuntimeName);
  response->set_runtime_version(kBerthVersion);
  response->set_runtime_api_version("v1");
  return absl::OkStatus();
}

}  // namespace berth::cri

#include "cri/handlers.h"

namespace berth::cri {

Status HandleRuntimeConfig(pods::Node& /*node*/,
                           const ::runtime::v1::RuntimeConfigRequest& /*request*/,
                           ::runtime::v1::RuntimeConfigResponse* response) {
  // Config validation admits only cgroupfs, so this is what kubelet must use too.
  response->mutable_linux()->set_cgroup_driver(::runtime::v1::CGROUPFS);
  return absl::OkStatus();
}

}  // namespace berth::cri

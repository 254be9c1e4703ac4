// The CRI handlers, one per RPC, each in the file named after its RPC. A handler
// checks its request, calls into pods/ (or image/, network/ through pods/), and
// fills the response; errors come back as Status with the code already right.
#pragma once

#include "base/status.h"
#include "cri/proto/api.pb.h"
#include "pods/node.h"

namespace berth::cri {

Status HandleVersion(pods::Node& node, const runtime::v1::VersionRequest& request,
                     runtime::v1::VersionResponse* response);
Status HandleStatus(pods::Node& node, const runtime::v1::StatusRequest& request,
                    runtime::v1::StatusResponse* response);
Status HandleRuntimeConfig(pods::Node& node, const runtime::v1::RuntimeConfigRequest& request,
                           runtime::v1::RuntimeConfigResponse* response);
Status HandleUpdateRuntimeConfig(pods::Node& node,
                                 const runtime::v1::UpdateRuntimeConfigRequest& request,
                                 runtime::v1::UpdateRuntimeConfigResponse* response);

Status HandleImageFsInfo(pods::Node& node, const runtime::v1::ImageFsInfoRequest& request,
                         runtime::v1::ImageFsInfoResponse* response);

}  // namespace berth::cri

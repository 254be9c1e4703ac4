// The CRI handlers, one per RPC, each in the file named after its RPC. A handler
// checks its request, calls into pods/ (or image/, network/ through pods/), and
// fills the response; errors come back as Status with the code already right.
#pragma once

#include "base/status.h"
#include <grpcpp/grpcpp.h>

#include "cri/proto/api.grpc.pb.h"
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

Status HandlePullImage(pods::Node& node, const runtime::v1::PullImageRequest& request,
                       runtime::v1::PullImageResponse* response);
Status HandleListImages(pods::Node& node, const runtime::v1::ListImagesRequest& request,
                        runtime::v1::ListImagesResponse* response);
Status HandleStreamImages(pods::Node& node, const runtime::v1::StreamImagesRequest& request,
                          grpc::ServerWriter<runtime::v1::StreamImagesResponse>* writer);
Status HandleImageStatus(pods::Node& node, const runtime::v1::ImageStatusRequest& request,
                         runtime::v1::ImageStatusResponse* response);
Status HandleRemoveImage(pods::Node& node, const runtime::v1::RemoveImageRequest& request,
                         runtime::v1::RemoveImageResponse* response);
// The CRI form of an image record (shared by the image RPCs).
void FillImage(const image::ImageRecord& record, runtime::v1::Image* out);

Status HandleImageFsInfo(pods::Node& node, const runtime::v1::ImageFsInfoRequest& request,
                         runtime::v1::ImageFsInfoResponse* response);

}  // namespace berth::cri

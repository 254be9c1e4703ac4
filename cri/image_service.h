// gRPC glue for CRI's ImageService.
#pragma once

#include "cri/proto/api.grpc.pb.h"
#include "pods/node.h"

namespace berth::cri {

class ImageServiceImpl final : public ::runtime::v1::ImageService::Service {
 public:
  explicit ImageServiceImpl(pods::Node& node) : node_(node) {}

  grpc::Status ListImages(grpc::ServerContext* context, const ::runtime::v1::ListImagesRequest* request,
                        ::runtime::v1::ListImagesResponse* response) override;
  grpc::Status StreamImages(grpc::ServerContext* context, const ::runtime::v1::StreamImagesRequest* request,
                        grpc::ServerWriter<::runtime::v1::StreamImagesResponse>* writer) override;
  grpc::Status ImageStatus(grpc::ServerContext* context, const ::runtime::v1::ImageStatusRequest* request,
                        ::runtime::v1::ImageStatusResponse* response) override;
  grpc::Status PullImage(grpc::ServerContext* context, const ::runtime::v1::PullImageRequest* request,
                        ::runtime::v1::PullImageResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context, const ::runtime::v1::RemoveImageRequest* request,
                        ::runtime::v1::RemoveImageResponse* response) override;
  grpc::Status ImageFsInfo(grpc::ServerContext* context, const ::runtime::v1::ImageFsInfoRequest* request,
                        ::runtime::v1::ImageFsInfoResponse* response) override;

 private:
  pods::Node& node_;
};

}  // namespace berth::cri

#include "cri/image_service.h"

#include "cri/call.h"
#include "cri/handlers.h"

namespace berth::cri {

grpc::Status ImageServiceImpl::ListImages(grpc::ServerContext* context, const ::runtime::v1::ListImagesRequest* request,
                      ::runtime::v1::ListImagesResponse* response) {
  return Serve("ListImages", context, *request, [&] { return HandleListImages(node_, *request, response); });
}

grpc::Status ImageServiceImpl::StreamImages(grpc::ServerContext* context, const ::runtime::v1::StreamImagesRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamImagesResponse>* writer) {
  return Serve("StreamImages", context, *request, [&] { return HandleStreamImages(node_, *request, writer); });
}

grpc::Status ImageServiceImpl::ImageStatus(grpc::ServerContext* context, const ::runtime::v1::ImageStatusRequest* request,
                      ::runtime::v1::ImageStatusResponse* response) {
  return Serve("ImageStatus", context, *request, [&] { return HandleImageStatus(node_, *request, response); });
}

grpc::Status ImageServiceImpl::PullImage(grpc::ServerContext* context, const ::runtime::v1::PullImageRequest* request,
                      ::runtime::v1::PullImageResponse* response) {
  return Serve("PullImage", context, *request, [&] { return HandlePullImage(node_, *request, response); });
}

grpc::Status ImageServiceImpl::RemoveImage(grpc::ServerContext* context, const ::runtime::v1::RemoveImageRequest* request,
                      ::runtime::v1::RemoveImageResponse* response) {
  return Serve("RemoveImage", context, *request, [&] { return HandleRemoveImage(node_, *request, response); });
}

grpc::Status ImageServiceImpl::ImageFsInfo(grpc::ServerContext* context, const ::runtime::v1::ImageFsInfoRequest* request,
                      ::runtime::v1::ImageFsInfoResponse* response) {
  return Serve("ImageFsInfo", context, *request, [&] { return HandleImageFsInfo(node_, *request, response); });
}

}  // namespace berth::cri

// A CRI client for berthctl and the integration tests: one channel, both services.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "cri/proto/api.grpc.pb.h"

namespace berth::cri {

class CriClient {
 public:
  // endpoint: "unix:///run/berth/berth.sock", "unix:/path" or a plain socket path.
  explicit CriClient(const std::string& endpoint);

  ::runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  ::runtime::v1::ImageService::Stub& image() { return *image_; }

  // A context whose deadline is timeout from now.
  static std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds timeout);

  // The gRPC target for an endpoint as written by a user.
  static std::string Target(const std::string& endpoint);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> image_;
};

}  // namespace berth::cri

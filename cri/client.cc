#include "cri/client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::cri {

std::string CriClient::Target(const std::string& endpoint) {
  absl::string_view path = endpoint;
  if (absl::ConsumePrefix(&path, "unix://")) return absl::StrCat("unix:", path);
  if (absl::StartsWith(path, "unix:")) return std::string(path);
  return absl::StrCat("unix:", path);
}

CriClient::CriClient(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  channel_ = grpc::CreateCustomChannel(Target(endpoint), grpc::InsecureChannelCredentials(), args);
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel_);
  image_ = ::runtime::v1::ImageService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> CriClient::Context(std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

}  // namespace berth::cri

// berthd's CRI endpoint: a gRPC server on a unix socket serving RuntimeService and
// ImageService.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "cri/image_service.h"
#include "cri/metrics_endpoint.h"
#include "cri/runtime_service.h"
#include "cri/streaming_backend.h"
#include "pods/node.h"

namespace berth::cri {

class CriServer {
 public:
  // Claims the socket and starts serving. The claim is an flock on SOCKET.lock held
  // for the server's life: a second berthd on the same socket is refused with a
  // message that says so, and a socket file left by a dead berthd is replaced.
  static StatusOr<std::unique_ptr<CriServer>> Start(pods::Node& node, const std::string& socket_path);
  ~CriServer();
  CriServer(const CriServer&) = delete;
  CriServer& operator=(const CriServer&) = delete;

  // Stops accepting calls and waits for running ones up to the grace period, then
  // cancels what is left. The socket file is removed.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  CriServer(pods::Node& node, std::string socket_path, UniqueFd lock,
            std::unique_ptr<StreamingBackend> streaming_backend, std::unique_ptr<streaming::Server> streaming);

  pods::Node& node_;
  const std::string socket_path_;
  const UniqueFd lock_;
  // The Exec/Attach/PortForward URLs' server, and its way into the node.
  std::unique_ptr<StreamingBackend> streaming_backend_;
  std::unique_ptr<streaming::Server> streaming_;
  RuntimeServiceImpl runtime_service_;
  ImageServiceImpl image_service_;
  std::unique_ptr<grpc::Server> server_;
  // /metrics, when metrics.address is set.
  std::unique_ptr<MetricsEndpoint> metrics_;
  bool shut_down_ = false;
};

}  // namespace berth::cri

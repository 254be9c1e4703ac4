// The streaming server's way into the node: exec processes from the lifecycle,
// translated to what the server knows (fds and an exit code).
#pragma once

#include "pods/node.h"
#include "streaming/backend.h"

namespace berth::cri {

class StreamingBackend : public streaming::Backend {
 public:
  explicit StreamingBackend(pods::Node& node) : node_(node) {}

  StatusOr<std::unique_ptr<streaming::SessionProcess>> Exec(const streaming::ExecRequest& request) override;
  StatusOr<std::unique_ptr<streaming::SessionProcess>> Attach(const streaming::AttachRequest& request) override;
  StatusOr<UniqueFd> DialPod(const std::string& pod_id, int32_t port) override;

 private:
  pods::Node& node_;
};

}  // namespace berth::cri

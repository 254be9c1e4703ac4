// Carries TCP connections made to 127.0.0.1:PORT inside the node to 127.0.0.1:PORT in
// another network namespace (the host's, bind-mounted into the node): this is how a
// node's berthd reaches a registry that listens only on the host's loopback, so
// images never leave the machine and the registry need not listen anywhere else.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::node {

class PortForwarder {
 public:
  // Listens on 127.0.0.1:listen_port here; each connection is dialled to
  // 127.0.0.1:target_port in the namespace the file netns names, opened now: the
  // file may be unmounted once this returns.
  static StatusOr<std::unique_ptr<PortForwarder>> Start(int listen_port, const std::string& netns,
                                                        int target_port);
  ~PortForwarder();  // stops accepting; connections already made run to their end
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  int port() const { return port_; }

 private:
  PortForwarder() = default;
  void AcceptLoop();

  int port_ = 0;
  int target_port_ = 0;
  UniqueFd netns_;
  UniqueFd listener_;
  UniqueFd stop_;  // an eventfd
  std::thread acceptor_;
};

}  // namespace berth::node

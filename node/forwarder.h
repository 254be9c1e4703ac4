// Carries TCP connections between the node's network namespace and another (the
// host's, bind-mounted into the node), either way:
// - into the host: 127.0.0.1:PORT in the node to 127.0.0.1:PORT in the host is how a
//   node's berthd reaches a registry that listens only on the host's loopback, so
//   images never leave the machine and the registry need not listen anywhere else;
// - out of the node: ADDRESS:PORT on the host to a port of the node (a NodePort
//   Service) is how a cluster publishes a port to the host, as kind's
//   extraPortMappings do.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::node {

// One end of a forward: an IPv4 address and port, in the node's network namespace or
// in the other one.
struct ForwardEnd {
  std::string address = "127.0.0.1";
  int port = 0;
  bool other_namespace = false;
};

class PortForwarder {
 public:
  // Listens on listen; each connection is dialled to target. netns names the other
  // namespace, opened now: the file may be unmounted once this returns.
  static StatusOr<std::unique_ptr<PortForwarder>> Start(const ForwardEnd& listen, const ForwardEnd& target,
                                                        const std::string& netns);
  ~PortForwarder();  // stops accepting; connections already made run to their end
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  int port() const { return port_; }

 private:
  PortForwarder() = default;
  void AcceptLoop();

  int port_ = 0;
  sockaddr_in target_ = {};
  bool target_in_netns_ = false;
  UniqueFd netns_;
  UniqueFd listener_;
  UniqueFd stop_;  // an eventfd
  std::thread acceptor_;
  // Connections being relayed; shared with their threads, which may outlive this.
  std::shared_ptr<std::atomic<int>> connections_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace berth::node

// What berth-node runs inside a node container, read from its YAML file
// (/etc/berth-node/node.yaml unless told otherwise):
//
//   berthd: [/opt/berth/bin/berthd, --config, /etc/berth-node/berthd.yaml]
//   services:                       # started in order once berthd is ready
//     - name: kubelet
//       argv: [/opt/kubernetes/bin/kubelet, --config=/var/lib/kubelet/config.yaml]
//   state_dirs: [/var/lib/berth]    # must not be on overlayfs
//   forward:                        # 127.0.0.1:PORT here -> 127.0.0.1:PORT there
//     - port: 5000
//       netns: /run/berth-node/host-netns
//   publish:                        # ADDRESS:PORT there -> TARGET:TARGET_PORT here
//     - {address: 127.0.0.1, port: 8080, target: 10.87.0.2, target_port: 30080,
//        netns: /run/berth-node/host-netns}
//   routes:                         # routes to the other nodes' pod CIDRs
//     kubeconfig: /etc/kubernetes/kube-proxy.conf   # may list and watch nodes
//     pod_subnet: 10.244.0.0/16                     # only CIDRs inside it are routed
//     node_name: worker-1
//   masquerade: 10.244.0.0/16       # pods' traffic out of it leaves with the node's address
//
// berthctl cluster writes it; a hand-made one works the same.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::node {

struct Service {
  std::string name = {};
  std::vector<std::string> argv = {};
};

struct Forward {
  int port = 0;
  // A network namespace file (a bind mount of the host's /proc/PID/ns/net).
  std::string netns = {};
};

// A port of the node published in another namespace (the host's).
struct Publish {
  std::string address = {};  // IPv4, there
  int port = 0;
  std::string target = {};  // IPv4, here
  int target_port = 0;
  std::string netns = {};
};

struct RouteSync {
  std::string kubeconfig = {};
  std::string pod_subnet = {};
  std::string node_name = {};  // this node: its own CIDR is on its bridge, not a route
};

struct NodeConfig {
  std::vector<std::string> berthd = {};
  std::vector<Service> services;
  std::vector<std::string> state_dirs = {};
  std::vector<Forward> forward;
  std::vector<Publish> publish;
  std::optional<RouteSync> routes;
  std::string masquerade = {};  // an IPv4 CIDR, or empty
};

// INVALID_ARGUMENT naming the key for anything malformed or unknown.
StatusOr<NodeConfig> ParseNodeConfig(absl::string_view yaml);
StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

}  // namespace berth::node

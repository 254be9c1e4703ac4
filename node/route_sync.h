// Routes from this node to every other node's pod CIDR through that node's address,
// as kind's kindnet sets them: the controller manager allocates the CIDRs, and the
// nodes share one bridge, so a route is all pods on different nodes need to talk.
// berth-node runs `kubectl get nodes --watch` as one of its programs and hands each
// line it prints here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "node/config.h"

namespace berth::node {

struct NodeRoute {
  std::string node = {};
  std::string cidr = {};  // 10.244.1.0/24
  std::string via = {};   // the node's InternalIP
};

// The kubectl that prints one "NAME CIDR ADDRESS" line per node and change.
std::vector<std::string> WatchNodesArgv(const RouteSync& config);

// The route a line asks for: none for this node, for a node without a CIDR or
// address yet, or for anything that is not a CIDR and an address.
std::optional<NodeRoute> ParseNodeLine(absl::string_view line, const std::string& self);

class RouteTable {
 public:
  // Sets the route with `ip route replace` unless it is set already.
  void Apply(const NodeRoute& route);

 private:
  std::map<std::string, std::string> set_;  // cidr -> via
};

}  // namespace berth::node

// Routes from this node to every other node's pod CIDR through that node's address,
// as kind's kindnet sets them: the controller manager allocates the CIDRs, and the
// nodes share one bridge, so a route is all pods on different nodes need to talk.
// berth-node watches the nodes (node_watch.h) and hands each one's route here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace berth::node {

struct NodeRoute {
  std::string node = {};
  std::string cidr = {};  // 10.244.1.0/24
  std::string via = {};   // the node's InternalIP
};

// The route a "NAME CIDR ADDRESS..." line asks for: none for this node, for a node without a CIDR or
// address yet, or for anything that is not a CIDR and an address.
std::optional<NodeRoute> ParseNodeLine(absl::string_view line, const std::string& self);

class RouteTable {
 public:
  // Sets the route (rtnetlink's replace) unless it is set already.
  void Apply(const NodeRoute& route);

 private:
  std::map<std::string, std::string> set_;  // cidr -> via
};

}  // namespace berth::node

// Routes from this node to every other node's pod CIDR through that node's address,
// as kind's kindnet sets them: the controller manager allocates the CIDRs, and the
// nodes share one bridge, so a route is all pods on different nodes need to talk.
// berth-node watches the nodes (node_watch.h) and hands each one's route here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::node {

struct NodeRoute {
  std::string node = {};
  std::string cidr = {};  // 10.244.1.0/24
  std::string via = {};   // the node's InternalIP
};

// Which routes a node may ask for. A kubelet writes its own Node's pod CIDR when it
// registers, so a CIDR is taken only inside the cluster's pod subnet: no node can
// reroute the default route or the node network.
struct RoutePolicy {
  std::string self = {};        // this node: its own CIDR is on its bridge
  std::string pod_subnet = {};  // 10.244.0.0/16
};

// Whether text is an IPv4 prefix, "A.B.C.D/N" with N at most 32.
bool IsIpv4Cidr(const std::string& text);

// The route to a node's cidr through its address of the CIDR's family; none for this
// node, for a CIDR outside the pod subnet (or not a CIDR), or without such an address.
std::optional<NodeRoute> RouteTo(const std::string& node, const std::string& cidr,
                                 const std::vector<std::string>& addresses, const RoutePolicy& policy);

// The routes one node should have now: none once it is deleted.
struct NodeRoutes {
  std::string node = {};
  std::vector<NodeRoute> routes = {};
};

// What makes a node's routes in current (by CIDR) exactly wanted's: routes to set
// (new, or through a new address) and routes of that node's to remove (a CIDR it no
// longer has). A CIDR now routed for another node is that node's to change.
struct RouteChanges {
  std::vector<NodeRoute> set = {};
  std::vector<NodeRoute> removed = {};
};
RouteChanges PlanRoutes(const std::map<std::string, NodeRoute>& current, const NodeRoutes& wanted);

class RouteTable {
 public:
  // Makes the node's routes in the main table what wanted says, over rtnetlink.
  void Sync(const NodeRoutes& wanted);
  // Every node's routes: those of nodes not among them are removed (and a removal
  // that failed before is tried again).
  void Resync(const std::vector<NodeRoutes>& all);

 private:
  std::map<std::string, NodeRoute> set_;  // by CIDR: what this table set
};

}  // namespace berth::node

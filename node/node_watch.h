// Watches the API server's Node objects, as the route table needs them: each node's
// name, pod CIDRs and InternalIPs, whenever one appears, changes or goes. It speaks the
// watch API itself (GET /api/v1/nodes?watch=1 over libcurl, with a kubeconfig's
// client certificate) instead of running kubectl: one thread and a few hundred
// kilobytes in every node rather than a 50 MB process.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "node/route_sync.h"

namespace berth::node {

struct ApiCredentials {
  std::string server;       // https://HOST:PORT
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};

// The current context's cluster and user of a kubeconfig: inline *-data fields or
// files they name (relative to the kubeconfig's directory).
StatusOr<ApiCredentials> ReadKubeconfig(const std::string& path);

// The routes a node should have after one watch event line: an ADDED or MODIFIED
// node's CIDRs, each through its address of the same family, as policy allows; none
// for a DELETED node. Nothing for anything else (ERROR, BOOKMARK, this node itself),
// malformed or mistyped events included.
std::optional<NodeRoutes> RoutesFromWatchEvent(absl::string_view line, const RoutePolicy& policy);

// Every other node's routes from a NodeList, and the list's resourceVersion (where a
// watch takes up); INVALID_ARGUMENT for what is not a NodeList.
struct NodeList {
  std::string resource_version;
  std::vector<NodeRoutes> nodes;
};
StatusOr<NodeList> RoutesFromNodeList(absl::string_view body, const RoutePolicy& policy);

// Until stop is set: lists the nodes and hands them to the table whole (so routes of
// nodes deleted while no watch ran go too), then watches from the list's version
// and hands it each change; listed and watched again 2 s after a watch ends or
// fails.
void WatchNodes(const ApiCredentials& credentials, const RoutePolicy& policy, RouteTable& table,
                const std::atomic<bool>& stop);

}  // namespace berth::node

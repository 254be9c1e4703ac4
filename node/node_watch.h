// Watches the API server's Node objects, as the route table needs them: each node's
// name, pod CIDRs and InternalIPs, whenever one appears or changes. It speaks the
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

// Watches until stop is set, reconnecting 2 s after a watch ends or fails; each
// node's routes are handed to apply.
void WatchNodes(const ApiCredentials& credentials, const RoutePolicy& policy,
                const std::function<void(const NodeRoutes&)>& apply, const std::atomic<bool>& stop);

}  // namespace berth::node

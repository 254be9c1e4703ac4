// Just enough of the Kubernetes API for berthctl cluster to watch its cluster come
// up: GETs with the administrator's client certificate, the server checked against
// the cluster's CA.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cluster/kubeconfig.h"

namespace berth::cluster {

class ApiClient {
 public:
  explicit ApiClient(KubeconfigEntry credentials) : credentials_(std::move(credentials)) {}

  // The body of a 200 answer; UNAVAILABLE when the server cannot be reached,
  // FAILED_PRECONDITION naming the status otherwise.
  StatusOr<std::string> Get(const std::string& path) const;
  StatusOr<nlohmann::json> GetJson(const std::string& path) const;
  // A strategic-merge PATCH.
  Status Patch(const std::string& path, const nlohmann::json& patch) const;

 private:
  StatusOr<std::string> Send(const std::string& method, const std::string& path, const std::string& body) const;

  KubeconfigEntry credentials_;
};

// Names of the nodes whose Ready condition is True, from a NodeList.
std::vector<std::string> ReadyNodes(const nlohmann::json& node_list);

}  // namespace berth::cluster

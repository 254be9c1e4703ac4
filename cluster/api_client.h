// Just enough of the Kubernetes API for berthctl cluster to watch its cluster come
// up and add what it needs: GET, PATCH and create, with the administrator's client
// certificate, the server checked against the cluster's CA.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cluster/kubeconfig.h"

namespace berth::cluster {

class ApiClient {
 public:
  explicit ApiClient(KubeconfigEntry credentials) : credentials_(std::move(credentials)) {}

  // The body of a 2xx answer; UNAVAILABLE when the server cannot be reached or
  // answers 5xx or 429, otherwise the answer's status as a code (404 NOT_FOUND, 409
  // ALREADY_EXISTS, 400/422 INVALID_ARGUMENT, 401/403 PERMISSION_DENIED, others
  // FAILED_PRECONDITION) with its message.
  StatusOr<std::string> Get(const std::string& path) const;
  StatusOr<nlohmann::json> GetJson(const std::string& path) const;
  // A strategic-merge PATCH.
  Status Patch(const std::string& path, const nlohmann::json& patch) const;
  // A POST of object to collection; ALREADY_EXISTS when one of its name is there.
  Status Create(const std::string& collection, const nlohmann::json& object) const;

 private:
  StatusOr<std::string> Send(const std::string& method, const std::string& path, const std::string& content_type,
                             const std::string& body) const;

  KubeconfigEntry credentials_;
};

// Names of the nodes whose Ready condition is True, from a NodeList.
std::vector<std::string> ReadyNodes(const nlohmann::json& node_list);

}  // namespace berth::cluster

#include "cluster/api_client.h"

#include "absl/strings/str_cat.h"
#include "base/curl_request.h"

namespace berth::cluster {

namespace {

// The Status an API server's error answer stands for.
Status AnswerStatus(long http_status, const std::string& what, const std::string& response) {
  std::string message = absl::StrCat(what, ": HTTP ", http_status, " ", response.substr(0, 300));
  if (http_status >= 500 || http_status == 429) return absl::UnavailableError(message);  // try again later
  switch (http_status) {
    case 404: return absl::NotFoundError(message);
    case 409: return absl::AlreadyExistsError(message);
    case 400:
    case 422: return absl::InvalidArgumentError(message);
    case 401:
    case 403: return absl::PermissionDeniedError(message);
    default: return absl::FailedPreconditionError(message);
  }
}

}  // namespace

StatusOr<std::string> ApiClient::Send(const std::string& method, const std::string& path,
                                      const std::string& content_type, const std::string& body) const {
  const std::string url = credentials_.server + path;
  ASSIGN_OR_RETURN(CurlRequest request, CurlRequest::Create(method, url));
  request.UseTls(credentials_.ca_certificate, credentials_.client.certificate, credentials_.client.key);
  curl_easy_setopt(request.handle(), CURLOPT_TIMEOUT, 15L);
  std::string response;
  request.CollectBody(&response);
  if (method != "GET") {
    request.AddHeader("Content-Type: " + content_type);
    request.SetBody(body);
  }
  ASSIGN_OR_RETURN(long status, request.Perform());
  if (status < 200 || status > 299) return AnswerStatus(status, absl::StrCat(method, " ", url), response);
  return response;
}

StatusOr<std::string> ApiClient::Get(const std::string& path) const { return Send("GET", path, "", ""); }

StatusOr<nlohmann::json> ApiClient::GetJson(const std::string& path) const {
  ASSIGN_OR_RETURN(std::string body, Get(path));
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) return absl::FailedPreconditionError(absl::StrCat("GET ", path, ": not JSON"));
  return json;
}

Status ApiClient::Patch(const std::string& path, const nlohmann::json& patch) const {
  return Send("PATCH", path, "application/strategic-merge-patch+json", patch.dump()).status();
}

Status ApiClient::Create(const std::string& collection, const nlohmann::json& object) const {
  return Send("POST", collection, "application/json", object.dump()).status();
}

std::vector<std::string> ReadyNodes(const nlohmann::json& node_list) {
  std::vector<std::string> ready;
  auto text = [](const nlohmann::json& json, const char* pointer) {
    const nlohmann::json::json_pointer at(pointer);
    return json.contains(at) && json.at(at).is_string() ? json.at(at).get<std::string>() : std::string();
  };
  if (!node_list.is_object() || !node_list.contains("items") || !node_list["items"].is_array()) return ready;
  for (const auto& node : node_list["items"]) {
    if (!node.is_object() || !node.contains("/status/conditions"_json_pointer)) continue;
    const auto& conditions = node.at("/status/conditions"_json_pointer);
    if (!conditions.is_array()) continue;
    for (const auto& condition : conditions) {
      if (condition.is_object() && text(condition, "/type") == "Ready" && text(condition, "/status") == "True") {
        ready.push_back(text(node, "/metadata/name"));
      }
    }
  }
  return ready;
}

}  // namespace berth::cluster

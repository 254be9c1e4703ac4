#include "cluster/api_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace berth::cluster {

namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

curl_blob Blob(const std::string& pem) {
  return {const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_NOCOPY};
}

// The Status an API server's error answer stands for.
Status AnswerStatus(long http_status, const std::string& what, const std::string& response) {
  std::string message = absl::StrCat(what, ": HTTP ", http_status, " ", response.substr(0, 300));
  switch (http_status) {
    case 404: return absl::NotFoundError(message);
    case 409: return absl::AlreadyExistsError(message);
    case 401:
    case 403: return absl::PermissionDeniedError(message);
    default: return absl::FailedPreconditionError(message);
  }
}

}  // namespace

StatusOr<std::string> ApiClient::Send(const std::string& method, const std::string& path,
                                      const std::string& content_type, const std::string& body) const {
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init");
  CURL* c = curl.get();
  const std::string url = credentials_.server + path;
  std::string response;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
  curl_blob ca = Blob(credentials_.ca_certificate);
  curl_blob cert = Blob(credentials_.client.certificate);
  curl_blob key = Blob(credentials_.client.key);
  curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
  curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
  curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  std::unique_ptr<curl_slist, CurlFree> headers;
  if (method != "GET") {
    headers.reset(curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  }
  CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) return absl::UnavailableError(absl::StrCat(url, ": ", curl_easy_strerror(code)));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
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

#include "node/node_watch.h"

#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/curl_request.h"
#include "base/file_util.h"
#include "base/log.h"
#include "yaml-cpp/yaml.h"

namespace berth::node {

namespace {

StatusOr<std::string> Base64Decode(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("bad base64");
  size_t size = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes too.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

// A kubeconfig field given inline (NAME-data, base64) or as a file (NAME).
StatusOr<std::string> Field(const YAML::Node& map, const std::string& name, const std::string& dir) {
  if (map[name + "-data"]) return Base64Decode(map[name + "-data"].as<std::string>());
  if (map[name]) {
    std::string path = map[name].as<std::string>();
    if (!path.empty() && path[0] != '/') path = dir + "/" + path;
    return ReadFile(path);
  }
  return absl::InvalidArgumentError(absl::StrCat("the kubeconfig has no ", name, " or ", name, "-data"));
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field) {
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[field];
  }
  return YAML::Node();
}

struct Stream {
  std::string pending;
  const RoutePolicy* policy;
  RouteTable* table;
  const std::atomic<bool>* stop;
};

size_t OnData(char* data, size_t size, size_t count, void* opaque) {
  auto* stream = static_cast<Stream*>(opaque);
  stream->pending.append(data, size * count);
  size_t end;
  while ((end = stream->pending.find('\n')) != std::string::npos) {
    if (auto routes = RoutesFromWatchEvent(absl::string_view(stream->pending).substr(0, end), *stream->policy)) {
      stream->table->Sync(*routes);
    }
    stream->pending.erase(0, end + 1);
  }
  return stream->stop->load() ? 0 : size * count;  // 0 ends the transfer
}

// Every node as the server has them now, given to the table whole (routes of nodes
// gone since are removed); the list's version, to watch from.
StatusOr<std::string> ListOnce(const ApiCredentials& credentials, const RoutePolicy& policy, RouteTable& table) {
  ASSIGN_OR_RETURN(CurlRequest request, CurlRequest::Create("GET", credentials.server + "/api/v1/nodes"));
  request.UseTls(credentials.ca_pem, credentials.client_cert_pem, credentials.client_key_pem);
  curl_easy_setopt(request.handle(), CURLOPT_TIMEOUT, 30L);
  std::string body;
  request.CollectBody(&body);
  ASSIGN_OR_RETURN(long status, request.Perform());
  if (status != 200) return absl::UnavailableError(absl::StrCat("list nodes: HTTP ", status));
  ASSIGN_OR_RETURN(NodeList list, RoutesFromNodeList(body, policy));
  table.Resync(list.nodes);
  return list.resource_version;
}

// One watch from the list's version, until the server ends it.
Status WatchOnce(const ApiCredentials& credentials, const std::string& resource_version, Stream& stream) {
  // The server ends a watch after timeoutSeconds; it is then listed and started again.
  ASSIGN_OR_RETURN(CurlRequest request,
                   CurlRequest::Create("GET", absl::StrCat(credentials.server,
                                                           "/api/v1/nodes?watch=1&timeoutSeconds=600&resourceVersion=",
                                                           resource_version)));
  request.UseTls(credentials.ca_pem, credentials.client_cert_pem, credentials.client_key_pem);
  CURL* c = request.handle();
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &stream);
  stream.pending.clear();
  auto status = request.Perform();
  if (!status.ok() && !stream.stop->load()) return status.status();
  return absl::OkStatus();
}

}  // namespace

StatusOr<ApiCredentials> ReadKubeconfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  try {
    YAML::Node root = YAML::Load(text);
    const std::string context_name = root["current-context"] ? root["current-context"].as<std::string>() : "";
    YAML::Node context = Named(root["contexts"], context_name, "context");
    if (!context) return absl::InvalidArgumentError(absl::StrCat(path, ": no current context"));
    YAML::Node cluster = Named(root["clusters"], context["cluster"].as<std::string>(), "cluster");
    YAML::Node user = Named(root["users"], context["user"].as<std::string>(), "user");
    if (!cluster || !user || !cluster["server"]) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": the current context's cluster or user is missing"));
    }
    ApiCredentials credentials;
    credentials.server = cluster["server"].as<std::string>();
    ASSIGN_OR_RETURN(credentials.ca_pem, Field(cluster, "certificate-authority", dir));
    ASSIGN_OR_RETURN(credentials.client_cert_pem, Field(user, "client-certificate", dir));
    ASSIGN_OR_RETURN(credentials.client_key_pem, Field(user, "client-key", dir));
    return credentials;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

namespace {

// The API server's word is checked as any peer's: a field of the wrong type is
// skipped, never thrown through libcurl's callback.
std::string TextAt(const nlohmann::json& json, const char* pointer) {
  const nlohmann::json::json_pointer at(pointer);
  return json.contains(at) && json.at(at).is_string() ? json.at(at).get<std::string>() : std::string();
}

// A Node object's routes; none for a nameless one or this node itself.
std::optional<NodeRoutes> RoutesOfNode(const nlohmann::json& node, const RoutePolicy& policy) {
  if (!node.is_object()) return std::nullopt;
  NodeRoutes routes{.node = TextAt(node, "/metadata/name"), .routes = {}};
  if (routes.node.empty() || routes.node == policy.self) return std::nullopt;
  std::vector<std::string> cidrs;
  if (node.contains("/spec/podCIDRs"_json_pointer) && node.at("/spec/podCIDRs"_json_pointer).is_array()) {
    for (const auto& cidr : node.at("/spec/podCIDRs"_json_pointer)) {
      if (cidr.is_string()) cidrs.push_back(cidr.get<std::string>());
    }
  }
  if (cidrs.empty() && !TextAt(node, "/spec/podCIDR").empty()) cidrs.push_back(TextAt(node, "/spec/podCIDR"));
  std::vector<std::string> addresses;
  if (node.contains("/status/addresses"_json_pointer) && node.at("/status/addresses"_json_pointer).is_array()) {
    for (const auto& address : node.at("/status/addresses"_json_pointer)) {
      if (address.is_object() && TextAt(address, "/type") == "InternalIP") {
        addresses.push_back(TextAt(address, "/address"));
      }
    }
  }
  for (const auto& cidr : cidrs) {
    if (auto route = RouteTo(routes.node, cidr, addresses, policy)) routes.routes.push_back(*route);
  }
  return routes;
}

}  // namespace

std::optional<NodeRoutes> RoutesFromWatchEvent(absl::string_view line, const RoutePolicy& policy) {
  auto event = nlohmann::json::parse(line, nullptr, false);
  if (!event.is_object() || !event.contains("object") || !event["object"].is_object()) return std::nullopt;
  const std::string type = TextAt(event, "/type");
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") return std::nullopt;
  auto routes = RoutesOfNode(event["object"], policy);
  if (routes && type == "DELETED") routes->routes.clear();
  return routes;
}

StatusOr<NodeList> RoutesFromNodeList(absl::string_view body, const RoutePolicy& policy) {
  auto list = nlohmann::json::parse(body, nullptr, false);
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return absl::InvalidArgumentError("the node list is not a NodeList");
  }
  NodeList result;
  result.resource_version = TextAt(list, "/metadata/resourceVersion");
  for (const auto& node : list["items"]) {
    if (auto routes = RoutesOfNode(node, policy)) result.nodes.push_back(std::move(*routes));
  }
  return result;
}

void WatchNodes(const ApiCredentials& credentials, const RoutePolicy& policy, RouteTable& table,
                const std::atomic<bool>& stop) {
  Stream stream{.pending = {}, .policy = &policy, .table = &table, .stop = &stop};
  Status last;
  while (!stop.load()) {
    auto listed = ListOnce(credentials, policy, table);
    Status status = listed.ok() ? WatchOnce(credentials, *listed, stream) : listed.status();
    // Until the API server is up every try fails alike: said once.
    if (!status.ok() && status.message() != last.message()) {
      BERTH_LOG(Info) << "node watch ended; trying again" << Kv("error", status.message());
    }
    last = status;
    for (int i = 0; i < 20 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace berth::node

#include "node/config.h"

#include <arpa/inet.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "node/route_sync.h"
#include "yaml-cpp/yaml.h"

namespace berth::node {

namespace {

Status UnknownKeys(const YAML::Node& map, const std::set<std::string>& known, const std::string& where) {
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (!known.count(key)) return absl::InvalidArgumentError(absl::StrCat("unknown key ", where, key));
  }
  return absl::OkStatus();
}

StatusOr<std::string> Text(const YAML::Node& node, const std::string& key) {
  if (!node.IsDefined()) return absl::InvalidArgumentError(absl::StrCat(key, " is required"));
  if (!node.IsScalar() || node.as<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be a non-empty string"));
  }
  return node.as<std::string>();
}

StatusOr<std::vector<std::string>> TextList(const YAML::Node& node, const std::string& key, bool absolute) {
  if (!node.IsDefined()) return absl::InvalidArgumentError(absl::StrCat(key, " is required"));
  if (!node.IsSequence()) return absl::InvalidArgumentError(absl::StrCat(key, " must be a list of strings"));
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string item, Text(node[i], absl::StrCat(key, "[", i, "]")));
    if (absolute && item[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(key, "[", i, "] must be an absolute path: ", item));
    }
    out.push_back(std::move(item));
  }
  return out;
}

Status ParseServices(const YAML::Node& list, NodeConfig& config) {
  if (!list.IsSequence()) return absl::InvalidArgumentError("services must be a list");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat("services[", i, "]");
    if (!list[i].IsMap()) return absl::InvalidArgumentError(where + " must be a map");
    RETURN_IF_ERROR(UnknownKeys(list[i], {"name", "argv"}, where + "."));
    Service service;
    ASSIGN_OR_RETURN(service.name, Text(list[i]["name"], where + ".name"));
    ASSIGN_OR_RETURN(service.argv, TextList(list[i]["argv"], where + ".argv", false));
    if (service.argv.empty() || service.argv[0][0] != '/') {
      return absl::InvalidArgumentError(where + ".argv must start with an absolute path");
    }
    if (!names.insert(service.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: ", service.name, " is named twice"));
    }
    config.services.push_back(std::move(service));
  }
  return absl::OkStatus();
}

StatusOr<int> Port(const YAML::Node& node, const std::string& key) {
  int port = 0;
  if (!node.IsDefined() || !YAML::convert<int>::decode(node, port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(key + " must be a port number (1-65535)");
  }
  return port;
}

StatusOr<std::string> Ipv4(const YAML::Node& node, const std::string& key) {
  ASSIGN_OR_RETURN(std::string text, Text(node, key));
  in_addr address;
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be an IPv4 address: ", text));
  }
  return text;
}

Status ParseForward(const YAML::Node& list, NodeConfig& config) {
  if (!list.IsSequence()) return absl::InvalidArgumentError("forward must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat("forward[", i, "]");
    if (!list[i].IsMap()) return absl::InvalidArgumentError(where + " must be a map");
    RETURN_IF_ERROR(UnknownKeys(list[i], {"port", "netns"}, where + "."));
    Forward forward;
    ASSIGN_OR_RETURN(forward.port, Port(list[i]["port"], where + ".port"));
    ASSIGN_OR_RETURN(forward.netns, Text(list[i]["netns"], where + ".netns"));
    if (forward.netns[0] != '/') return absl::InvalidArgumentError(where + ".netns must be an absolute path");
    config.forward.push_back(std::move(forward));
  }
  return absl::OkStatus();
}

Status ParsePublish(const YAML::Node& list, NodeConfig& config) {
  if (!list.IsSequence()) return absl::InvalidArgumentError("publish must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat("publish[", i, "]");
    if (!list[i].IsMap()) return absl::InvalidArgumentError(where + " must be a map");
    RETURN_IF_ERROR(UnknownKeys(list[i], {"address", "port", "target", "target_port", "netns"}, where + "."));
    Publish publish;
    ASSIGN_OR_RETURN(publish.address, Ipv4(list[i]["address"], where + ".address"));
    ASSIGN_OR_RETURN(publish.port, Port(list[i]["port"], where + ".port"));
    ASSIGN_OR_RETURN(publish.target, Ipv4(list[i]["target"], where + ".target"));
    ASSIGN_OR_RETURN(publish.target_port, Port(list[i]["target_port"], where + ".target_port"));
    ASSIGN_OR_RETURN(publish.netns, Text(list[i]["netns"], where + ".netns"));
    if (publish.netns[0] != '/') return absl::InvalidArgumentError(where + ".netns must be an absolute path");
    config.publish.push_back(std::move(publish));
  }
  return absl::OkStatus();
}

Status ParseRoutes(const YAML::Node& map, NodeConfig& config) {
  if (!map.IsMap()) return absl::InvalidArgumentError("routes must be a map");
  RETURN_IF_ERROR(UnknownKeys(map, {"kubeconfig", "node_name", "pod_subnet"}, "routes."));
  RouteSync routes;
  ASSIGN_OR_RETURN(routes.kubeconfig, Text(map["kubeconfig"], "routes.kubeconfig"));
  ASSIGN_OR_RETURN(routes.node_name, Text(map["node_name"], "routes.node_name"));
  ASSIGN_OR_RETURN(routes.pod_subnet, Text(map["pod_subnet"], "routes.pod_subnet"));
  if (routes.kubeconfig[0] != '/') return absl::InvalidArgumentError("routes.kubeconfig must be an absolute path");
  config.routes = std::move(routes);
  return absl::OkStatus();
}

}  // namespace

StatusOr<NodeConfig> ParseNodeConfig(absl::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("the node config must be a map");
  try {
    RETURN_IF_ERROR(
        UnknownKeys(root, {"berthd", "services", "state_dirs", "forward", "publish", "routes", "masquerade"}, ""));
    NodeConfig config;
    if (!root["berthd"]) return absl::InvalidArgumentError("berthd (its argv) is required");
    ASSIGN_OR_RETURN(config.berthd, TextList(root["berthd"], "berthd", false));
    if (config.berthd.empty() || config.berthd[0][0] != '/') {
      return absl::InvalidArgumentError("berthd must start with an absolute path");
    }
    if (root["services"]) RETURN_IF_ERROR(ParseServices(root["services"], config));
    if (root["state_dirs"]) {
      ASSIGN_OR_RETURN(config.state_dirs, TextList(root["state_dirs"], "state_dirs", true));
    }
    if (root["forward"]) RETURN_IF_ERROR(ParseForward(root["forward"], config));
    if (root["publish"]) RETURN_IF_ERROR(ParsePublish(root["publish"], config));
    if (root["routes"]) RETURN_IF_ERROR(ParseRoutes(root["routes"], config));
    if (root["masquerade"]) {
      ASSIGN_OR_RETURN(config.masquerade, Text(root["masquerade"], "masquerade"));
      if (!IsIpv4Cidr(config.masquerade)) {
        return absl::InvalidArgumentError(absl::StrCat("masquerade must be an IPv4 CIDR: ", config.masquerade));
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad node config: ", e.what()));
  }
}

StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto config = ParseNodeConfig(text);
  if (!config.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", config.status().message()));
  return config;
}

}  // namespace berth::node

#include "cluster/kubeconfig.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace berth::cluster {

namespace {

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

YAML::Node ClusterNode(const KubeconfigEntry& entry) {
  YAML::Node node;
  node["name"] = entry.name;
  node["cluster"]["server"] = entry.server;
  node["cluster"]["certificate-authority-data"] = Base64(entry.ca_certificate);
  return node;
}

YAML::Node UserNode(const KubeconfigEntry& entry) {
  YAML::Node node;
  node["name"] = entry.name;
  node["user"]["client-certificate-data"] = Base64(entry.client.certificate);
  node["user"]["client-key-data"] = Base64(entry.client.key);
  return node;
}

YAML::Node ContextNode(const KubeconfigEntry& entry) {
  YAML::Node node;
  node["name"] = entry.name;
  node["context"]["cluster"] = entry.name;
  node["context"]["user"] = entry.name;
  return node;
}

// list without the item called name, as a new sequence.
YAML::Node Without(const YAML::Node& list, const std::string& name) {
  YAML::Node out(YAML::NodeType::Sequence);
  if (!list || !list.IsSequence()) return out;
  for (const auto& item : list) {
    if (item.IsMap() && item["name"] && item["name"].IsScalar() && item["name"].as<std::string>() == name) continue;
    out.push_back(item);
  }
  return out;
}

StatusOr<YAML::Node> Parse(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not a kubeconfig: ", e.what()));
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) return absl::InvalidArgumentError("not a kubeconfig: not a map");
  for (const char* list : {"clusters", "users", "contexts"}) {
    if (root[list] && !root[list].IsSequence() && !root[list].IsNull()) {
      return absl::InvalidArgumentError(absl::StrCat("not a kubeconfig: ", list, " is not a list"));
    }
  }
  return root;
}

std::string Emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace

std::string Kubeconfig(const KubeconfigEntry& entry) {
  YAML::Node root;
  root["apiVersion"] = "v1";
  root["kind"] = "Config";
  root["clusters"].push_back(ClusterNode(entry));
  root["users"].push_back(UserNode(entry));
  root["contexts"].push_back(ContextNode(entry));
  root["current-context"] = entry.name;
  return Emit(root);
}

StatusOr<std::string> MergeKubeconfig(const std::string& existing, const KubeconfigEntry& entry) try {
  ASSIGN_OR_RETURN(YAML::Node root, Parse(existing));
  if (!root["apiVersion"]) root["apiVersion"] = "v1";
  if (!root["kind"]) root["kind"] = "Config";
  YAML::Node clusters = Without(root["clusters"], entry.name);
  clusters.push_back(ClusterNode(entry));
  YAML::Node users = Without(root["users"], entry.name);
  users.push_back(UserNode(entry));
  YAML::Node contexts = Without(root["contexts"], entry.name);
  contexts.push_back(ContextNode(entry));
  root["clusters"] = clusters;
  root["users"] = users;
  root["contexts"] = contexts;
  root["current-context"] = entry.name;
  return Emit(root);
} catch (const YAML::Exception& e) {
  return absl::InvalidArgumentError(absl::StrCat("not a kubeconfig: ", e.what()));
}

StatusOr<std::string> RemoveFromKubeconfig(const std::string& existing, const std::string& name) try {
  ASSIGN_OR_RETURN(YAML::Node root, Parse(existing));
  for (const char* list : {"clusters", "users", "contexts"}) {
    if (root[list]) root[list] = Without(root[list], name);
  }
  if (root["current-context"] && root["current-context"].as<std::string>() == name) root["current-context"] = "";
  return Emit(root);
} catch (const YAML::Exception& e) {
  return absl::InvalidArgumentError(absl::StrCat("not a kubeconfig: ", e.what()));
}

}  // namespace berth::cluster

#include "cluster/record.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"

namespace berth::cluster {

Status ValidateClusterName(const std::string& name) {
  // 32: "system:node:NAME-control-plane", a certificate's common name, stays within
  // the 64 characters X.509 allows.
  bool ok = !name.empty() && name.size() <= 32 && absl::ascii_isalnum(name.front()) &&
            absl::ascii_isalnum(name.back());
  for (char c : name) ok = ok && ((absl::ascii_isalnum(c) && !absl::ascii_isupper(c)) || c == '-');
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster name \"", name, "\": use lowercase letters, digits and '-', at most 32, starting and ending "
        "with a letter or digit"));
  }
  return absl::OkStatus();
}

std::string ClusterDir(const std::string& state_dir, const std::string& name) {
  return absl::StrCat(state_dir, "/", name);
}

std::string NodeDir(const std::string& state_dir, const std::string& name, const std::string& node) {
  return absl::StrCat(ClusterDir(state_dir, name), "/nodes/", node);
}

std::string AdminKubeconfigPath(const std::string& state_dir, const std::string& name) {
  return ClusterDir(state_dir, name) + "/kubeconfig";
}

Status SaveRecord(const std::string& state_dir, const ClusterRecord& r) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : r.nodes) nodes.push_back({{"name", node.name}, {"control_plane", node.control_plane}});
  nlohmann::json published = nlohmann::json::array();
  for (const auto& port : r.spec.published) {
    published.push_back({{"address", port.address}, {"host_port", port.host_port}, {"node_port", port.node_port}});
  }
  nlohmann::json json = {
      {"name", r.spec.name},
      {"kubernetes_version", r.spec.kubernetes_version},
      {"etcd_version", r.spec.etcd_version},
      {"registry_port", r.spec.registry_port},
      {"pod_subnet", r.spec.pod_subnet},
      {"service_subnet", r.spec.service_subnet},
      {"control_plane_name", r.spec.control_plane_name},
      {"control_plane_ip", r.spec.control_plane_ip},
      {"dns_ip", r.spec.dns_ip},
      {"image_digests", r.spec.image_digests},
      {"published", published},
      {"kubernetes_dir", r.kubernetes_dir},
      {"berth_dir", r.berth_dir},
      {"registry", r.registry},
      {"node_image", r.node_image},
      {"nodes", nodes},
  };
  return WriteFileAtomically(ClusterDir(state_dir, r.spec.name) + "/cluster.json", json.dump(2) + "\n");
}

StatusOr<ClusterRecord> LoadRecord(const std::string& state_dir, const std::string& name) {
  RETURN_IF_ERROR(ValidateClusterName(name));
  const std::string path = ClusterDir(state_dir, name) + "/cluster.json";
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat("no cluster named ", name, " (", path, " does not exist)"));
    }
    return text.status();
  }
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object()) return absl::DataLossError(absl::StrCat(path, " is not a JSON object"));
  try {
    ClusterRecord r;
    r.spec.name = json.at("name").get<std::string>();
    r.spec.kubernetes_version = json.at("kubernetes_version").get<std::string>();
    r.spec.etcd_version = json.at("etcd_version").get<std::string>();
    r.spec.registry_port = json.at("registry_port").get<int>();
    r.spec.pod_subnet = json.at("pod_subnet").get<std::string>();
    r.spec.service_subnet = json.at("service_subnet").get<std::string>();
    r.spec.control_plane_name = json.at("control_plane_name").get<std::string>();
    r.spec.control_plane_ip = json.at("control_plane_ip").get<std::string>();
    r.spec.dns_ip = json.value("dns_ip", "");
    r.spec.image_digests = json.value("image_digests", std::map<std::string, std::string>());
    for (const auto& port : json.value("published", nlohmann::json::array())) {
      r.spec.published.push_back({port.at("address").get<std::string>(), port.at("host_port").get<int>(),
                                  port.at("node_port").get<int>()});
    }
    r.kubernetes_dir = json.at("kubernetes_dir").get<std::string>();
    r.berth_dir = json.at("berth_dir").get<std::string>();
    r.registry = json.at("registry").get<std::string>();
    r.node_image = json.at("node_image").get<std::string>();
    for (const auto& node : json.at("nodes")) {
      r.nodes.push_back({node.at("name").get<std::string>(), node.at("control_plane").get<bool>()});
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": ", e.what()));
  }
}

std::vector<std::string> ListClusters(const std::string& state_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir, ec)) {
    if (std::filesystem::exists(entry.path() / "cluster.json", ec)) names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace berth::cluster

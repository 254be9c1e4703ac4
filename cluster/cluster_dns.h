// Cluster DNS as kubeadm and kind set it up: CoreDNS, a Deployment in kube-system
// behind the kube-dns Service at the service subnet's tenth address. It answers
// cluster.local (Services, and pods by address) from the API, and sends every other
// name to upstream resolvers, or to none: then the cluster's own names are all it
// answers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::cluster {

struct ClusterDnsSpec {
  std::string service_ip = {};          // "10.96.0.10"
  std::string image = {};               // "registry.k8s.io/coredns/coredns:v1.15.0"
  std::vector<std::string> upstreams = {};  // IPv4 resolvers (ADDRESS[:PORT]); empty: none
  int replicas = 2;
};

// CoreDNS's configuration for the spec's upstreams.
std::string Corefile(const std::vector<std::string>& upstreams);

// An object to create, and the API collection it is created in.
struct ApiObject {
  std::string collection = {};  // "/api/v1/namespaces/kube-system/services"
  nlohmann::json object;
};
// Everything cluster DNS is, in the order it is created: its service account and
// what that may read, the Corefile, the Deployment and the Service.
std::vector<ApiObject> ClusterDnsObjects(const ClusterDnsSpec& spec);

// The resolvers of a resolv.conf that a pod of the cluster can reach: its IPv4
// nameservers, less loopback ones (a stub resolver of the host's own, such as
// systemd-resolved's, which a pod's network namespace does not have).
std::vector<std::string> PodReachableNameservers(absl::string_view resolv_conf);

// The host's resolvers for the cluster: /etc/resolv.conf's, or when it names only a
// loopback stub, the ones systemd-resolved writes beside it (as kubeadm does).
std::vector<std::string> HostUpstreams();

// "none", or IPv4 addresses, each with an optional :PORT, separated by commas;
// INVALID_ARGUMENT naming what is not one.
StatusOr<std::vector<std::string>> ParseUpstreams(const std::string& flag);

}  // namespace berth::cluster

// What each node of a berth cluster is given: its berth-node, berthd and kubelet
// configuration, its certificates and kubeconfigs, and on the control-plane node the
// static pods of etcd, kube-apiserver, kube-controller-manager and kube-scheduler,
// all laid out as kubeadm lays them out under /etc/kubernetes. Each node keeps them
// in a directory of its own on the host, whose subdirectories are mounted into the
// node container (NodeVolumes).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/kubeconfig.h"
#include "cluster/pki.h"
#include "cluster/published_port.h"

namespace berth::cluster {

struct ClusterSpec {
  std::string name = {};                // "berth"
  std::string kubernetes_version = {};  // "v1.37.2": the control plane images' tag
  std::string etcd_version = {};        // "3.6.5": its image's tag is this plus "-0"
  int registry_port = 5000;        // the host's loopback registry
  std::string pod_subnet = "10.244.0.0/16";
  std::string service_subnet = "10.96.0.0/16";
  std::string control_plane_name = {};
  std::string control_plane_ip = {};
  std::string dns_ip = {};  // the kube-dns Service's ClusterIP; empty: no cluster DNS
  // component -> the manifest digest its image was pushed as. Every node can push to
  // the registry its images come from, so the static pods name them by digest too.
  std::map<std::string, std::string> image_digests = {};
  std::vector<PublishedPort> published = {};
};

struct NodeSpec {
  std::string name = {};
  std::string ip = {};
  bool control_plane = false;
};

// The three CAs and the service account key pair, made once per cluster.
struct ClusterPki {
  CertificateAuthority ca;
  CertificateAuthority etcd_ca;
  CertificateAuthority front_proxy_ca;
  KeyPair service_account;
};
StatusOr<ClusterPki> NewClusterPki();
// The same from files NodeFiles wrote for the control-plane node (DIR/kubernetes/pki).
StatusOr<ClusterPki> LoadClusterPki(const std::string& control_plane_dir);

// A directory of a node's on the host, mounted at path in its container.
struct NodeVolume {
  std::string dir = {};   // relative to the node's directory
  std::string path = {};  // in the node
  bool readonly = false;
};
std::vector<NodeVolume> NodeVolumes(bool control_plane);

// Every file of the node, by path relative to its directory ("config/node.yaml",
// "kubernetes/pki/ca.crt", ...).
using Files = std::map<std::string, std::string>;
StatusOr<Files> NodeFiles(const ClusterSpec& cluster, const NodeSpec& node, const ClusterPki& pki);

// The cluster's administrator, for the user's kubeconfig (context berth-<name>).
StatusOr<KubeconfigEntry> AdminKubeconfig(const ClusterSpec& cluster, const ClusterPki& pki);

// The n-th address of an IPv4 service subnet (n = 1: the kubernetes Service; 10:
// kube-dns); INVALID_ARGUMENT for a subnet that is not one or has no such address.
StatusOr<std::string> ServiceIp(const std::string& subnet, uint32_t n);

// Where the API server answers: https://IP:6443.
std::string ApiServerUrl(const ClusterSpec& cluster);

// The images the control-plane node's kubelet pulls, as its static pods name them:
// registry.k8s.io/COMPONENT:TAG, and @DIGEST once image_digests has it.
std::string ControlPlaneImage(const ClusterSpec& cluster, const std::string& component);

}  // namespace berth::cluster

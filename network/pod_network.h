// What a pod's attachment to the node's network is, and the interface through which
// pods are attached: CNI plugins in berthd (cni.h), a fake in unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "network/pod_interface.h"

namespace berth::network {

struct PortMapping {
  std::string protocol = "tcp";  // lower case, as the portmap plugin expects
  int32_t container_port = 0;
  int32_t host_port = 0;
  std::string host_ip;
};

// Traffic shaping for the bandwidth plugin, in bits per second and bits.
struct Bandwidth {
  uint64_t ingress_rate = 0;
  uint64_t ingress_burst = 0;
  uint64_t egress_rate = 0;
  uint64_t egress_burst = 0;
};

struct Dns {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// One pod's attachment request: who it is (CNI_ARGS) and what plugins that declare
// the matching capability receive in runtimeConfig.
struct PodNetworkRequest {
  std::string pod_id;  // CNI_CONTAINERID
  std::string netns_path;
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::vector<PortMapping> port_mappings;
  std::optional<Bandwidth> bandwidth;
  std::vector<std::string> ips;  // static IPs asked for (the "ips" capability)
  std::optional<Dns> dns;
  std::string cgroup_path;
};

struct Attachment {
  std::string network_name;
  std::string interface;         // the pod-side interface (eth0)
  std::vector<std::string> ips;  // without prefix length; IPv4 first
  std::string result_json;       // the chain's final result, as the plugins wrote it
};

class PodNetwork {
 public:
  virtual ~PodNetwork() = default;

  // Attaches the pod whose namespace the request names; on failure nothing of the
  // attempt is left.
  virtual StatusOr<Attachment> Attach(const PodNetworkRequest& request) = 0;
  // The plugins' own check of an attachment (which can be wrong).
  virtual Status Check(const std::string& pod_id) = 0;
  // berth's own look: is the attachment still there?
  virtual AttachmentProbe Probe(const std::string& pod_id) const = 0;
  // Releases what the attachment holds; may be retried after a failure.
  virtual Status Detach(const std::string& pod_id) = 0;
  // Pods that hold an attachment, or owe its release.
  virtual std::vector<std::string> CachedPods() const = 0;
};

}  // namespace berth::network

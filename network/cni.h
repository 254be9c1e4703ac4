// Attaching pods to the node's network through CNI plugins (CNI spec 1.x).
//
// Attach runs ADD through the network's plugin chain (each plugin gets the previous
// one's result as prevResult), Check runs CHECK, Detach runs DEL in reverse order.
// What an attachment used (the network config, runtime config, args and result) is
// written to the cache dir before the first plugin runs, so a DEL after a berthd
// restart or a config change undoes exactly what ADD did and releases the IP.
#pragma once

#include <chrono>
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

struct CniOptions {
  std::string conf_dir;
  std::vector<std::string> bin_dirs;
  std::string cache_dir;  // one file per attached pod
  std::string interface = "eth0";
  std::chrono::milliseconds plugin_timeout{std::chrono::seconds(60)};
};

class CniNetwork {
 public:
  explicit CniNetwork(CniOptions options) : options_(std::move(options)) {}

  // ADD on the current network config. On failure whatever the chain did is undone
  // (DEL) before the plugin's error is returned.
  StatusOr<Attachment> Attach(const PodNetworkRequest& request);
  // CHECK with the cached attachment; OK when the network opted out of CHECK or its
  // version predates it. The plugins' view, which can be wrong (see Probe).
  Status Check(const std::string& pod_id);
  // berth's own look at the cached attachment: namespace, interface and addresses
  // (pod_interface.h). Only this decides whether a pod's network is gone.
  AttachmentProbe Probe(const std::string& pod_id) const;
  // DEL with the cached attachment (or, without one, the current config). The cache
  // entry goes only when every plugin succeeded, so a failed DEL can be retried.
  Status Detach(const std::string& pod_id);
  // Pods that have a cache entry: attached, or a DEL still owed.
  std::vector<std::string> CachedPods() const;

 private:
  std::string CachePath(const std::string& pod_id) const;

  const CniOptions options_;
};

// The addresses a CNI result gives the pod-side interface (ifname): prefix lengths
// stripped, loopback addresses left out, IPv4 before IPv6. Understands results of
// spec versions 0.1.0 to 1.x.
StatusOr<std::vector<std::string>> PodIpsFromResult(const std::string& result_json, const std::string& ifname);

// Renders a network config template (containerd's conf_template convention: the
// text {{.PodCIDR}} stands for the node's first pod CIDR) into out_path.
Status RenderConfigTemplate(const std::string& template_path, const std::string& pod_cidr,
                            const std::string& out_path);

}  // namespace berth::network

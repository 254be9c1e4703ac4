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
#include "network/pod_network.h"

namespace berth::network {

struct CniOptions {
  std::string conf_dir;
  std::vector<std::string> bin_dirs;
  std::string cache_dir;  // one file per attached pod
  std::string interface = "eth0";
  std::chrono::milliseconds plugin_timeout{std::chrono::seconds(60)};
};

class CniNetwork : public PodNetwork {
 public:
  explicit CniNetwork(CniOptions options) : options_(std::move(options)) {}

  // ADD on the current network config. On failure whatever the chain did is undone
  // (DEL) before the plugin's error is returned.
  StatusOr<Attachment> Attach(const PodNetworkRequest& request) override;
  // CHECK with the cached attachment; OK when the network opted out of CHECK or its
  // version predates it. The plugins' view, which can be wrong (see Probe).
  Status Check(const std::string& pod_id) override;
  // berth's own look at the cached attachment: namespace, interface and addresses
  // (pod_interface.h). Only this decides whether a pod's network is gone.
  AttachmentProbe Probe(const std::string& pod_id) const override;
  // DEL with the cached attachment (or, without one, the current config). The cache
  // entry goes only when every plugin succeeded, so a failed DEL can be retried.
  Status Detach(const std::string& pod_id) override;
  // Pods that have a cache entry: attached, or a DEL still owed.
  std::vector<std::string> CachedPods() const override;

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

// A pod's place on the node's network, as the lifecycle sees it: the request built
// from the pod's spec and annotations, attach and detach with the owed-DEL
// bookkeeping on the pod's record, and what a start of berthd does about the
// attachments it finds.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "base/background_worker.h"
#include "base/status.h"
#include "network/pod_network.h"
#include "pods/record_store.h"

namespace berth::pods {

class SandboxNetwork {
 public:
  explicit SandboxNetwork(network::PodNetwork* network) : network_(network) {}

  // Attaches a pod whose network namespace is pinned; sets pod.ips and
  // pod.network_attached.
  Status Attach(SandboxRecord& pod, const std::string& cgroup_parent);
  // Releases the pod's attachment, if it holds one, and clears network_attached. On
  // failure the record keeps it: the DEL is owed, and the plugin's error returned.
  Status Detach(SandboxRecord& pod);

  // At start, with the records loaded: releases attachments of pods that have no
  // record (a RunPodSandbox killed midway), marks ready pods whose network is gone
  // not ready, and has the plugins CHECK the others in the background. records must
  // outlive this object.
  void Recover(RecordStore& records);
  // Returns once the CHECKs Recover started have run.
  void DrainChecks() { checks_.Drain(); }
  // What recovery found wrong with a pod's network; "" when nothing.
  std::string Report(const std::string& pod_id) const;
  void Forget(const std::string& pod_id);

 private:
  void SetReport(const std::string& pod_id, std::string report);

  network::PodNetwork* const network_;
  mutable std::mutex reports_mu_;
  std::map<std::string, std::string> reports_;  // by pod id
  // Runs the plugins' CHECKs of recovered pods, off the start-up path. Last, so it
  // is drained while everything it uses still exists.
  BackgroundWorker checks_;
};

// What CNI is asked for a pod: who it is, its port mappings, the traffic shaping
// its kubernetes.io/{ingress,egress}-bandwidth annotations ask for, the addresses
// of its berth.io/ips annotation, its DNS and cgroup. INVALID_ARGUMENT, naming the
// annotation, for a rate that is no Kubernetes quantity.
StatusOr<network::PodNetworkRequest> BuildNetworkRequest(const SandboxRecord& pod, const std::string& cgroup_parent);

}  // namespace berth::pods

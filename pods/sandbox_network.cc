#include "pods/sandbox_network.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "base/parallel_for.h"

namespace berth::pods {
namespace {

// Pod annotations that ask the network for traffic shaping, and for fixed addresses.
constexpr char kIngressBandwidthAnnotation[] = "kubernetes.io/ingress-bandwidth";
constexpr char kEgressBandwidthAnnotation[] = "kubernetes.io/egress-bandwidth";
constexpr char kStaticIpsAnnotation[] = "berth.io/ips";

// CNI CHECKs at start that run at once (plugins mostly wait on the kernel).
constexpr size_t kStartupChecks = 8;

}  // namespace

StatusOr<network::PodNetworkRequest> BuildNetworkRequest(const SandboxRecord& pod, const std::string& cgroup_parent) {
  network::PodNetworkRequest request;
  request.pod_id = pod.id;
  request.netns_path = pod.netns_path;
  request.pod_name = pod.spec.name;
  request.pod_namespace = pod.spec.namespace_name;
  request.pod_uid = pod.spec.uid;
  request.cgroup_path = cgroup_parent;
  for (const auto& port : pod.spec.ports) {
    network::PortMapping mapping;
    mapping.protocol = absl::AsciiStrToLower(port.protocol);
    mapping.container_port = port.container_port;
    mapping.host_port = port.host_port;
    mapping.host_ip = port.host_ip;
    request.port_mappings.push_back(std::move(mapping));
  }
  const auto& annotations = pod.spec.annotations;
  auto ingress = annotations.find(kIngressBandwidthAnnotation);
  auto egress = annotations.find(kEgressBandwidthAnnotation);
  if (ingress != annotations.end() || egress != annotations.end()) {
    // Rates in bits per second; no burst limit beyond the rate, as kubelet's
    // dockershim and containerd configure the bandwidth plugin.
    network::Bandwidth bandwidth;
    if (ingress != annotations.end()) {
      auto rate = ParseQuantity(ingress->second);
      if (!rate.ok()) return Annotate(rate.status(), absl::StrCat("annotation ", kIngressBandwidthAnnotation));
      bandwidth.ingress_rate = *rate;
      bandwidth.ingress_burst = UINT32_MAX;
    }
    if (egress != annotations.end()) {
      auto rate = ParseQuantity(egress->second);
      if (!rate.ok()) return Annotate(rate.status(), absl::StrCat("annotation ", kEgressBandwidthAnnotation));
      bandwidth.egress_rate = *rate;
      bandwidth.egress_burst = UINT32_MAX;
    }
    request.bandwidth = bandwidth;
  }
  if (auto ips = annotations.find(kStaticIpsAnnotation); ips != annotations.end()) {
    for (absl::string_view ip : absl::StrSplit(ips->second, ',', absl::SkipWhitespace())) {
      request.ips.emplace_back(absl::StripAsciiWhitespace(ip));
    }
  }
  if (pod.spec.dns) request.dns = network::Dns{pod.spec.dns->servers, pod.spec.dns->searches, pod.spec.dns->options};
  return request;
}

Status SandboxNetwork::Attach(SandboxRecord& pod, const std::string& cgroup_parent) {
  ASSIGN_OR_RETURN(network::PodNetworkRequest request, BuildNetworkRequest(pod, cgroup_parent));
  ASSIGN_OR_RETURN(network::Attachment attachment, network_->Attach(request));
  pod.network_attached = true;
  pod.ips = attachment.ips;
  return absl::OkStatus();
}

Status SandboxNetwork::Detach(SandboxRecord& pod) {
  if (!pod.network_attached) return absl::OkStatus();
  RETURN_IF_ERROR(network_->Detach(pod.id));
  pod.network_attached = false;
  return absl::OkStatus();
}

void SandboxNetwork::Recover(RecordStore& records) {
  // An attachment cached for a pod berth has no record of comes from a RunPodSandbox
  // that died midway: DEL it so its IP and port rules are released.
  for (const auto& pod_id : network_->CachedPods()) {
    // A known pod keeps its entry: attached, or owing a DEL that remove retries.
    if (records.GetSandbox(pod_id)) continue;
    Status detached = network_->Detach(pod_id);
    if (!detached.ok()) BERTH_LOG(Warn) << "release the network of an unfinished pod" << Kv("pod", pod_id) << detached;
  }
  // A ready pod is reported not ready only when berth sees its network gone (its
  // namespace, its interface or one of its addresses missing): kubelet kills and
  // replaces a not-ready pod, and restarting berthd must never take a healthy pod
  // down (containerd and CRI-O never CHECK at start). The probe is berth's own and
  // takes well under a millisecond per pod.
  std::vector<SandboxRecord> attached;
  for (auto& pod : records.Sandboxes()) {
    if (pod.state == SandboxState::kReady && pod.network_attached) attached.push_back(std::move(pod));
  }
  std::vector<std::string> healthy;
  for (SandboxRecord& pod : attached) {
    network::AttachmentProbe probe = network_->Probe(pod.id);
    if (probe.state == network::AttachmentState::kGone) {
      BERTH_LOG(Error) << "pod network gone, pod marked not ready" << Kv("pod", pod.id) << Kv("reason", probe.detail);
      SetReport(pod.id, "network gone: " + probe.detail);
      pod.state = SandboxState::kNotReady;
      Status saved = records.UpdateSandbox(pod);
      if (!saved.ok()) BERTH_LOG(Error) << "record pod state" << Kv("pod", pod.id) << saved;
      continue;
    }
    if (probe.state == network::AttachmentState::kUnknown) {
      BERTH_LOG(Warn) << "could not look at a pod's network; kept ready" << Kv("pod", pod.id)
                      << Kv("reason", probe.detail);
    }
    healthy.push_back(pod.id);
  }
  // The plugins' own CHECK is reported (log, verbose PodSandboxStatus), never
  // trusted to condemn: plugins have bugs (Debian's bandwidth plugin crashes on
  // CHECK for a pod without limits) and can be slow, so it runs after start-up, off
  // the serving path, side by side (each runs the whole chain: 10-30 ms).
  // A pod removed meanwhile is skipped, and gets no report. (The records outlive
  // this object: the lifecycle declares them first.)
  checks_.Submit([this, &records, healthy = std::move(healthy)] {
    ParallelFor(healthy.size(), kStartupChecks, [&](size_t i) {
      if (!records.GetSandbox(healthy[i])) return;
      Status checked = network_->Check(healthy[i]);
      if (checked.ok() || !records.GetSandbox(healthy[i])) return;
      BERTH_LOG(Warn) << "CNI CHECK failed; the pod's network is in place, so it stays ready"
                      << Kv("pod", healthy[i]) << checked;
      SetReport(healthy[i], absl::StrCat("CNI CHECK failed: ", checked.message()));
    });
  });
}

void SandboxNetwork::SetReport(const std::string& pod_id, std::string report) {
  std::lock_guard<std::mutex> lock(reports_mu_);
  reports_[pod_id] = std::move(report);
}

std::string SandboxNetwork::Report(const std::string& pod_id) const {
  std::lock_guard<std::mutex> lock(reports_mu_);
  auto it = reports_.find(pod_id);
  return it == reports_.end() ? std::string() : it->second;
}

void SandboxNetwork::Forget(const std::string& pod_id) {
  std::lock_guard<std::mutex> lock(reports_mu_);
  reports_.erase(pod_id);
}

}  // namespace berth::pods

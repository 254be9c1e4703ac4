#include "base/clock.h"
#include "cri/handlers.h"
#include "cri/stream_batches.h"
#include "pods/metrics.h"

namespace berth::cri {
namespace {

void FillSamples(const std::vector<pods::MetricSample>& samples,
                 google::protobuf::RepeatedPtrField<::runtime::v1::Metric>* out) {
  for (const auto& sample : samples) {
    auto* metric = out->Add();
    metric->set_name(sample.descriptor->name);
    // 0: gathered now, so kubelet exposes the series without a timestamp of its own.
    metric->set_timestamp(0);
    metric->set_metric_type(sample.descriptor->type == pods::MetricType::kCounter ? ::runtime::v1::COUNTER
                                                                                   : ::runtime::v1::GAUGE);
    metric->mutable_label_values()->Add(sample.label_values.begin(), sample.label_values.end());
    metric->mutable_value()->set_value(sample.value);
  }
}

void FillPodMetrics(const pods::PodMetrics& metrics, ::runtime::v1::PodSandboxMetrics* out) {
  out->set_pod_sandbox_id(metrics.pod_id);
  FillSamples(metrics.samples, out->mutable_metrics());
  for (const auto& container : metrics.containers) {
    auto* container_metrics = out->add_container_metrics();
    container_metrics->set_container_id(container.container_id);
    FillSamples(container.samples, container_metrics->mutable_metrics());
  }
}

std::vector<pods::PodMetrics> Gather(pods::Node& node) {
  std::vector<pods::PodMetrics> out;
  const int64_t now = NowNanos();
  for (const auto& pod : node.stats().Pods(pods::SandboxFilter{}, /*with_open_files=*/true)) {
    out.push_back(pods::BuildPodMetrics(pod, now));
  }
  return out;
}

}  // namespace

Status HandleListPodSandboxMetrics(pods::Node& node, const ::runtime::v1::ListPodSandboxMetricsRequest& /*request*/,
                                   ::runtime::v1::ListPodSandboxMetricsResponse* response) {
  for (const auto& metrics : Gather(node)) FillPodMetrics(metrics, response->add_pod_metrics());
  return absl::OkStatus();
}

Status HandleStreamPodSandboxMetrics(pods::Node& node, const ::runtime::v1::StreamPodSandboxMetricsRequest& /*request*/,
                                     grpc::ServerWriter<::runtime::v1::StreamPodSandboxMetricsResponse>* writer) {
  return WriteInBatches(Gather(node), writer, "StreamPodSandboxMetrics", [](const auto& item, auto& batch) {
    FillPodMetrics(item, batch.add_pod_sandbox_metrics());
  });
}

}  // namespace berth::cri

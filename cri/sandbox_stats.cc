#include "cri/handlers.h"
#include "cri/stats_translate.h"
#include "cri/stream_batches.h"

namespace berth::cri {

Status HandlePodSandboxStats(pods::Node& node, const ::runtime::v1::PodSandboxStatsRequest& request,
                             ::runtime::v1::PodSandboxStatsResponse* response) {
  if (request.pod_sandbox_id().empty()) return absl::InvalidArgumentError("PodSandboxStats: pod_sandbox_id is empty");
  ASSIGN_OR_RETURN(pods::PodStats stats, node.stats().Pod(request.pod_sandbox_id()));
  FillPodStats(stats, response->mutable_stats());
  return absl::OkStatus();
}

Status HandleListPodSandboxStats(pods::Node& node, const ::runtime::v1::ListPodSandboxStatsRequest& request,
                                 ::runtime::v1::ListPodSandboxStatsResponse* response) {
  for (const auto& stats : node.stats().Pods(ToStatsFilter(request.filter()))) {
    FillPodStats(stats, response->add_stats());
  }
  return absl::OkStatus();
}

Status HandleStreamPodSandboxStats(pods::Node& node, const ::runtime::v1::StreamPodSandboxStatsRequest& request,
                                   grpc::ServerWriter<::runtime::v1::StreamPodSandboxStatsResponse>* writer) {
  auto stats = node.stats().Pods(ToStatsFilter(request.filter()));
  return WriteInBatches(stats, writer, "StreamPodSandboxStats",
                        [](const auto& item, auto& batch) { FillPodStats(item, batch.add_pod_sandbox_stats()); });
}

}  // namespace berth::cri

#include "cri/handlers.h"
#include "cri/stats_translate.h"
#include "cri/stream_batches.h"

namespace berth::cri {

Status HandleContainerStats(pods::Node& node, const ::runtime::v1::ContainerStatsRequest& request,
                            ::runtime::v1::ContainerStatsResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ContainerStats: container_id is empty");
  ASSIGN_OR_RETURN(pods::ContainerStats stats, node.stats().Container(request.container_id()));
  FillContainerStats(stats, response->mutable_stats());
  return absl::OkStatus();
}

Status HandleListContainerStats(pods::Node& node, const ::runtime::v1::ListContainerStatsRequest& request,
                                ::runtime::v1::ListContainerStatsResponse* response) {
  for (const auto& stats : node.stats().Containers(ToStatsFilter(request.filter()))) {
    FillContainerStats(stats, response->add_stats());
  }
  return absl::OkStatus();
}

Status HandleStreamContainerStats(pods::Node& node, const ::runtime::v1::StreamContainerStatsRequest& request,
                                  grpc::ServerWriter<::runtime::v1::StreamContainerStatsResponse>* writer) {
  auto stats = node.stats().Containers(ToStatsFilter(request.filter()));
  return WriteInBatches(stats, writer, "StreamContainerStats",
                        [](const auto& item, auto& batch) { FillContainerStats(item, batch.add_container_stats()); });
}

}  // namespace berth::cri

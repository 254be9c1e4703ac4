#include "cri/handlers.h"

namespace berth::cri {
namespace {

void FillStats(const pods::ContainerUsage& u, ::runtime::v1::ContainerStats* out) {
  auto* attributes = out->mutable_attributes();
  attributes->set_id(u.container.id);
  attributes->mutable_metadata()->set_name(u.container.spec.name);
  attributes->mutable_metadata()->set_attempt(u.container.spec.attempt);
  attributes->mutable_labels()->insert(u.container.spec.labels.begin(), u.container.spec.labels.end());
  attributes->mutable_annotations()->insert(u.container.spec.annotations.begin(), u.container.spec.annotations.end());
  auto* cpu = out->mutable_cpu();
  cpu->set_timestamp(u.timestamp);
  cpu->mutable_usage_core_nano_seconds()->set_value(u.cgroup.cpu_nanos);
  auto* memory = out->mutable_memory();
  memory->set_timestamp(u.timestamp);
  memory->mutable_working_set_bytes()->set_value(u.cgroup.working_set_bytes);
  memory->mutable_usage_bytes()->set_value(u.cgroup.memory_bytes);
  memory->mutable_rss_bytes()->set_value(u.cgroup.rss_bytes);
  memory->mutable_page_faults()->set_value(u.cgroup.page_faults);
  memory->mutable_major_page_faults()->set_value(u.cgroup.major_page_faults);
  auto* layer = out->mutable_writable_layer();
  layer->set_timestamp(u.timestamp);
  layer->mutable_fs_id()->set_mountpoint(u.writable_layer);
  layer->mutable_used_bytes()->set_value(u.writable_layer_usage.bytes);
  layer->mutable_inodes_used()->set_value(u.writable_layer_usage.inodes);
}

}  // namespace

Status HandleContainerStats(pods::Node& node, const ::runtime::v1::ContainerStatsRequest& request,
                            ::runtime::v1::ContainerStatsResponse* response) {
  if (request.container_id().empty()) return absl::InvalidArgumentError("ContainerStats: container_id is empty");
  ASSIGN_OR_RETURN(pods::ContainerUsage usage, node.lifecycle().Usage(request.container_id()));
  FillStats(usage, response->mutable_stats());
  return absl::OkStatus();
}

Status HandleListContainerStats(pods::Node& node, const ::runtime::v1::ListContainerStatsRequest& request,
                                ::runtime::v1::ListContainerStatsResponse* response) {
  pods::ContainerFilter filter;
  filter.id_prefix = request.filter().id();
  filter.pod_id_prefix = request.filter().pod_sandbox_id();
  filter.labels.insert(request.filter().label_selector().begin(), request.filter().label_selector().end());
  for (const auto& usage : node.lifecycle().ListUsage(filter)) FillStats(usage, response->add_stats());
  return absl::OkStatus();
}

}  // namespace berth::cri

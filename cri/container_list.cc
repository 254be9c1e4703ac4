#include "cri/handlers.h"
#include "cri/stream_batches.h"
#include "cri/translate.h"

namespace berth::cri {
namespace {

pods::ContainerFilter ToFilter(const ::runtime::v1::ContainerFilter& f) {
  pods::ContainerFilter filter;
  filter.id_prefix = f.id();
  filter.pod_id_prefix = f.pod_sandbox_id();
  if (f.has_state()) filter.state = static_cast<pods::ContainerState>(f.state().state());
  filter.labels.insert(f.label_selector().begin(), f.label_selector().end());
  return filter;
}

}  // namespace

Status HandleListContainers(pods::Node& node, const ::runtime::v1::ListContainersRequest& request,
                            ::runtime::v1::ListContainersResponse* response) {
  for (const auto& c : node.lifecycle().ListContainers(ToFilter(request.filter()))) {
    FillContainer(c, response->add_containers());
  }
  return absl::OkStatus();
}

Status HandleStreamContainers(pods::Node& node, const ::runtime::v1::StreamContainersRequest& request,
                              grpc::ServerWriter<::runtime::v1::StreamContainersResponse>* writer) {
  auto containers = node.lifecycle().ListContainers(ToFilter(request.filter()));
  return WriteInBatches(containers, writer, "StreamContainers",
                        [](const auto& container, auto& batch) { FillContainer(container, batch.add_containers()); });
}

}  // namespace berth::cri

#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {
namespace {

pods::ContainerFilter ToFilter(const runtime::v1::ContainerFilter& f) {
  pods::ContainerFilter filter;
  filter.id_prefix = f.id();
  filter.pod_id_prefix = f.pod_sandbox_id();
  if (f.has_state()) filter.state = static_cast<pods::ContainerState>(f.state().state());
  filter.labels.insert(f.label_selector().begin(), f.label_selector().end());
  return filter;
}

}  // namespace

Status HandleListContainers(pods::Node& node, const runtime::v1::ListContainersRequest& request,
                            runtime::v1::ListContainersResponse* response) {
  for (const auto& c : node.lifecycle().ListContainers(ToFilter(request.filter()))) {
    FillContainer(c, response->add_containers());
  }
  return absl::OkStatus();
}

Status HandleStreamContainers(pods::Node& node, const runtime::v1::StreamContainersRequest& request,
                              grpc::ServerWriter<runtime::v1::StreamContainersResponse>* writer) {
  auto containers = node.lifecycle().ListContainers(ToFilter(request.filter()));
  constexpr size_t kBatch = 500;
  for (size_t i = 0; i < containers.size(); i += kBatch) {
    runtime::v1::StreamContainersResponse batch;
    for (size_t j = i; j < std::min(containers.size(), i + kBatch); ++j) {
      FillContainer(containers[j], batch.add_containers());
    }
    if (!writer->Write(batch)) return absl::CancelledError("StreamContainers: client went away");
  }
  return absl::OkStatus();
}

}  // namespace berth::cri

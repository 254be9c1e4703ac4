#include "cri/handlers.h"
#include "cri/stream_batches.h"
#include "cri/translate.h"

namespace berth::cri {
namespace {

pods::SandboxFilter ToFilter(const ::runtime::v1::PodSandboxFilter& f) {
  pods::SandboxFilter filter;
  filter.id_prefix = f.id();
  if (f.has_state()) filter.state = static_cast<pods::SandboxState>(f.state().state());
  filter.labels.insert(f.label_selector().begin(), f.label_selector().end());
  return filter;
}

}  // namespace

Status HandleListPodSandbox(pods::Node& node, const ::runtime::v1::ListPodSandboxRequest& request,
                            ::runtime::v1::ListPodSandboxResponse* response) {
  for (const auto& pod : node.lifecycle().ListPods(ToFilter(request.filter()))) FillPodSandbox(pod, response->add_items());
  return absl::OkStatus();
}

Status HandleStreamPodSandboxes(pods::Node& node, const ::runtime::v1::StreamPodSandboxesRequest& request,
                                grpc::ServerWriter<::runtime::v1::StreamPodSandboxesResponse>* writer) {
  auto pods = node.lifecycle().ListPods(ToFilter(request.filter()));
  return WriteInBatches(pods, writer, "StreamPodSandboxes",
                        [](const auto& pod, auto& batch) { FillPodSandbox(pod, batch.add_pod_sandboxes()); });
}

}  // namespace berth::cri

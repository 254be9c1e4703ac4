#include <chrono>

#include "cri/handlers.h"
#include "cri/translate.h"

namespace berth::cri {
namespace {

// Events a subscriber may leave unread before it is dropped; kubelet reads each as
// it comes, so only a stuck client gets near this.
constexpr size_t kSubscriberQueue = 4096;

::runtime::v1::ContainerEventType ToEventType(pods::EventType type) {
  switch (type) {
    case pods::EventType::kCreated: return ::runtime::v1::CONTAINER_CREATED_EVENT;
    case pods::EventType::kStarted: return ::runtime::v1::CONTAINER_STARTED_EVENT;
    case pods::EventType::kStopped: return ::runtime::v1::CONTAINER_STOPPED_EVENT;
    case pods::EventType::kDeleted: return ::runtime::v1::CONTAINER_DELETED_EVENT;
  }
  return ::runtime::v1::CONTAINER_CREATED_EVENT;
}

void FillEvent(pods::Node& node, const pods::Event& event, ::runtime::v1::ContainerEventResponse* out) {
  out->set_container_id(event.id);
  out->set_container_event_type(ToEventType(event.type));
  out->set_created_at(event.timestamp);
  if (event.pod) FillPodSandboxStatus(*event.pod, out->mutable_pod_sandbox_status());
  // Every container of the pod as it is now, the event's own as the event left it
  // (a deleted one is no longer among them); none once the pod itself is deleted.
  if (event.sandbox && event.type == pods::EventType::kDeleted) return;
  bool own_listed = false;
  pods::ContainerFilter in_pod;
  in_pod.pod_id_prefix = event.pod_id;
  for (const auto& container : node.lifecycle().ListContainers(in_pod)) {
    if (container.pod_id != event.pod_id) continue;
    if (event.container && container.id == event.container->id) {
      own_listed = true;
      FillContainerStatus(*event.container, out->add_containers_statuses());
    } else {
      FillContainerStatus(container, out->add_containers_statuses());
    }
  }
  if (event.container && !own_listed && event.type != pods::EventType::kDeleted) {
    FillContainerStatus(*event.container, out->add_containers_statuses());
  }
}

}  // namespace

Status HandleGetContainerEvents(pods::Node& node, grpc::ServerContext* context,
                                const ::runtime::v1::GetEventsRequest& /*request*/,
                                grpc::ServerWriter<::runtime::v1::ContainerEventResponse>* writer) {
  auto subscription = node.lifecycle().events().Subscribe(kSubscriberQueue);
  // The wait is bounded only so that a client's going away is noticed.
  while (!context->IsCancelled()) {
    auto event = subscription->Next(std::chrono::milliseconds(250));
    if (!event) {
      if (subscription->dropped()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "GetContainerEvents: the client fell more than ", kSubscriberQueue,
            " events behind and was dropped; subscribe again and relist"));
      }
      continue;
    }
    ::runtime::v1::ContainerEventResponse response;
    FillEvent(node, *event, &response);
    if (!writer->Write(response)) return absl::CancelledError("GetContainerEvents: the client went away");
  }
  return absl::CancelledError("GetContainerEvents: the client went away");
}

}  // namespace berth::cri

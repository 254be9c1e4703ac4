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

void FillEvent(const pods::Event& event, ::runtime::v1::ContainerEventResponse* out) {
  out->set_container_id(event.id);
  out->set_container_event_type(ToEventType(event.type));
  out->set_created_at(event.timestamp);
  if (event.pod) FillPodSandboxStatus(*event.pod, out->mutable_pod_sandbox_status());
  // The pod's containers as the change left them; a container removed while it ran
  // is reported stopped (then deleted) after its record is gone: it is listed from
  // the event's own record then.
  bool own_listed = false;
  if (event.pod_containers) {
    for (const auto& container : *event.pod_containers) {
      own_listed = own_listed || (event.container && container.id == event.container->id);
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
  // Headers go out once the subscription exists: a client that waits for them knows
  // every later change reaches it.
  writer->SendInitialMetadata();
  // The wait is bounded only so that a client's going away is noticed.
  while (!context->IsCancelled()) {
    auto event = subscription->Next(std::chrono::milliseconds(250));
    if (!event) {
      if (subscription->dropped()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "GetContainerEvents: the client fell more than ", kSubscriberQueue,
            " events behind and was dropped; subscribe again and relist"));
      }
      if (subscription->ended()) return absl::UnavailableError("GetContainerEvents: berthd is stopping");
      continue;
    }
    ::runtime::v1::ContainerEventResponse response;
    FillEvent(*event, &response);
    if (!writer->Write(response)) return absl::CancelledError("GetContainerEvents: the client went away");
  }
  return absl::CancelledError("GetContainerEvents: the client went away");
}

}  // namespace berth::cri

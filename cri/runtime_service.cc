#include "cri/runtime_service.h"

#include "cri/call.h"
#include "cri/handlers.h"

namespace berth::cri {

grpc::Status RuntimeServiceImpl::Version(grpc::ServerContext* context, const ::runtime::v1::VersionRequest* request,
                      ::runtime::v1::VersionResponse* response) {
  return Serve("Version", context, *request, [&] { return HandleVersion(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::RunPodSandbox(grpc::ServerContext* context, const ::runtime::v1::RunPodSandboxRequest* request,
                      ::runtime::v1::RunPodSandboxResponse* response) {
  return Serve("RunPodSandbox", context, *request, [&] { return HandleRunPodSandbox(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StopPodSandbox(grpc::ServerContext* context, const ::runtime::v1::StopPodSandboxRequest* request,
                      ::runtime::v1::StopPodSandboxResponse* response) {
  return Serve("StopPodSandbox", context, *request, [&] { return HandleStopPodSandbox(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::RemovePodSandbox(grpc::ServerContext* context, const ::runtime::v1::RemovePodSandboxRequest* request,
                      ::runtime::v1::RemovePodSandboxResponse* response) {
  return Serve("RemovePodSandbox", context, *request, [&] { return HandleRemovePodSandbox(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::PodSandboxStatus(grpc::ServerContext* context, const ::runtime::v1::PodSandboxStatusRequest* request,
                      ::runtime::v1::PodSandboxStatusResponse* response) {
  return Serve("PodSandboxStatus", context, *request, [&] { return HandlePodSandboxStatus(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ListPodSandbox(grpc::ServerContext* context, const ::runtime::v1::ListPodSandboxRequest* request,
                      ::runtime::v1::ListPodSandboxResponse* response) {
  return Serve("ListPodSandbox", context, *request, [&] { return HandleListPodSandbox(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StreamPodSandboxes(grpc::ServerContext* context, const ::runtime::v1::StreamPodSandboxesRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamPodSandboxesResponse>* writer) {
  return Serve("StreamPodSandboxes", context, *request, [&] { return HandleStreamPodSandboxes(node_, *request, writer); });
}

grpc::Status RuntimeServiceImpl::CreateContainer(grpc::ServerContext* context, const ::runtime::v1::CreateContainerRequest* request,
                      ::runtime::v1::CreateContainerResponse* response) {
  return Serve("CreateContainer", context, *request, [&] { return HandleCreateContainer(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StartContainer(grpc::ServerContext* context, const ::runtime::v1::StartContainerRequest* request,
                      ::runtime::v1::StartContainerResponse* response) {
  return Serve("StartContainer", context, *request, [&] { return HandleStartContainer(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StopContainer(grpc::ServerContext* context, const ::runtime::v1::StopContainerRequest* request,
                      ::runtime::v1::StopContainerResponse* response) {
  return Serve("StopContainer", context, *request, [&] { return HandleStopContainer(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::RemoveContainer(grpc::ServerContext* context, const ::runtime::v1::RemoveContainerRequest* request,
                      ::runtime::v1::RemoveContainerResponse* response) {
  return Serve("RemoveContainer", context, *request, [&] { return HandleRemoveContainer(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ListContainers(grpc::ServerContext* context, const ::runtime::v1::ListContainersRequest* request,
                      ::runtime::v1::ListContainersResponse* response) {
  return Serve("ListContainers", context, *request, [&] { return HandleListContainers(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StreamContainers(grpc::ServerContext* context, const ::runtime::v1::StreamContainersRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamContainersResponse>* writer) {
  return Serve("StreamContainers", context, *request, [&] { return HandleStreamContainers(node_, *request, writer); });
}

grpc::Status RuntimeServiceImpl::ContainerStatus(grpc::ServerContext* context, const ::runtime::v1::ContainerStatusRequest* request,
                      ::runtime::v1::ContainerStatusResponse* response) {
  return Serve("ContainerStatus", context, *request, [&] { return HandleContainerStatus(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::UpdateContainerResources(grpc::ServerContext* context, const ::runtime::v1::UpdateContainerResourcesRequest* request,
                      ::runtime::v1::UpdateContainerResourcesResponse* response) {
  return Serve("UpdateContainerResources", context, *request, [&] { return HandleUpdateContainerResources(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ReopenContainerLog(grpc::ServerContext* context, const ::runtime::v1::ReopenContainerLogRequest* request,
                      ::runtime::v1::ReopenContainerLogResponse* response) {
  return Serve("ReopenContainerLog", context, *request, [&] { return HandleReopenContainerLog(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ExecSync(grpc::ServerContext* context, const ::runtime::v1::ExecSyncRequest* request,
                      ::runtime::v1::ExecSyncResponse* response) {
  return Serve("ExecSync", context, *request, [&] { return HandleExecSync(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::Exec(grpc::ServerContext* context, const ::runtime::v1::ExecRequest* request,
                      ::runtime::v1::ExecResponse* response) {
  return Serve("Exec", context, *request, [&] { return HandleExec(node_, streaming_, *request, response); });
}

grpc::Status RuntimeServiceImpl::Attach(grpc::ServerContext* context, const ::runtime::v1::AttachRequest* request,
                      ::runtime::v1::AttachResponse* response) {
  return Serve("Attach", context, *request, [&] { return HandleAttach(node_, streaming_, *request, response); });
}

grpc::Status RuntimeServiceImpl::PortForward(grpc::ServerContext* context, const ::runtime::v1::PortForwardRequest* request,
                      ::runtime::v1::PortForwardResponse* response) {
  return Serve("PortForward", context, *request,
               [&] { return HandlePortForward(node_, streaming_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ContainerStats(grpc::ServerContext* context, const ::runtime::v1::ContainerStatsRequest* request,
                      ::runtime::v1::ContainerStatsResponse* response) {
  return Serve("ContainerStats", context, *request, [&] { return HandleContainerStats(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ListContainerStats(grpc::ServerContext* context, const ::runtime::v1::ListContainerStatsRequest* request,
                      ::runtime::v1::ListContainerStatsResponse* response) {
  return Serve("ListContainerStats", context, *request, [&] { return HandleListContainerStats(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StreamContainerStats(grpc::ServerContext* context, const ::runtime::v1::StreamContainerStatsRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamContainerStatsResponse>* writer) {
  return Serve("StreamContainerStats", context, *request, [&] { return HandleStreamContainerStats(node_, *request, writer); });
}

grpc::Status RuntimeServiceImpl::PodSandboxStats(grpc::ServerContext* context, const ::runtime::v1::PodSandboxStatsRequest* request,
                      ::runtime::v1::PodSandboxStatsResponse* response) {
  return Serve("PodSandboxStats", context, *request, [&] { return HandlePodSandboxStats(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ListPodSandboxStats(grpc::ServerContext* context, const ::runtime::v1::ListPodSandboxStatsRequest* request,
                      ::runtime::v1::ListPodSandboxStatsResponse* response) {
  return Serve("ListPodSandboxStats", context, *request, [&] { return HandleListPodSandboxStats(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StreamPodSandboxStats(grpc::ServerContext* context, const ::runtime::v1::StreamPodSandboxStatsRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamPodSandboxStatsResponse>* writer) {
  return Serve("StreamPodSandboxStats", context, *request, [&] { return HandleStreamPodSandboxStats(node_, *request, writer); });
}

grpc::Status RuntimeServiceImpl::UpdateRuntimeConfig(grpc::ServerContext* context, const ::runtime::v1::UpdateRuntimeConfigRequest* request,
                      ::runtime::v1::UpdateRuntimeConfigResponse* response) {
  return Serve("UpdateRuntimeConfig", context, *request, [&] { return HandleUpdateRuntimeConfig(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::Status(grpc::ServerContext* context, const ::runtime::v1::StatusRequest* request,
                      ::runtime::v1::StatusResponse* response) {
  return Serve("Status", context, *request, [&] { return HandleStatus(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::CheckpointContainer(grpc::ServerContext* context, const ::runtime::v1::CheckpointContainerRequest* request,
                      ::runtime::v1::CheckpointContainerResponse* response) {
  return Serve("CheckpointContainer", context, *request,
               [&] { return HandleCheckpointContainer(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::CheckpointPod(grpc::ServerContext* context, const ::runtime::v1::CheckpointPodRequest* request,
                      ::runtime::v1::CheckpointPodResponse* response) {
  return Serve("CheckpointPod", context, *request, [&] { return HandleCheckpointPod(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::RestorePod(grpc::ServerContext* context, const ::runtime::v1::RestorePodRequest* request,
                      ::runtime::v1::RestorePodResponse* response) {
  return Serve("RestorePod", context, *request, [&] { return HandleRestorePod(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::GetContainerEvents(grpc::ServerContext* context, const ::runtime::v1::GetEventsRequest* request,
                      grpc::ServerWriter<::runtime::v1::ContainerEventResponse>* writer) {
  return Serve("GetContainerEvents", context, *request, [&] { return HandleGetContainerEvents(node_, context, *request, writer); });
}

grpc::Status RuntimeServiceImpl::ListMetricDescriptors(grpc::ServerContext* context, const ::runtime::v1::ListMetricDescriptorsRequest* request,
                      ::runtime::v1::ListMetricDescriptorsResponse* response) {
  return Serve("ListMetricDescriptors", context, *request, [&] { return HandleListMetricDescriptors(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::ListPodSandboxMetrics(grpc::ServerContext* context, const ::runtime::v1::ListPodSandboxMetricsRequest* request,
                      ::runtime::v1::ListPodSandboxMetricsResponse* response) {
  return Serve("ListPodSandboxMetrics", context, *request, [&] { return HandleListPodSandboxMetrics(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::StreamPodSandboxMetrics(grpc::ServerContext* context, const ::runtime::v1::StreamPodSandboxMetricsRequest* request,
                      grpc::ServerWriter<::runtime::v1::StreamPodSandboxMetricsResponse>* writer) {
  return Serve("StreamPodSandboxMetrics", context, *request, [&] { return HandleStreamPodSandboxMetrics(node_, *request, writer); });
}

grpc::Status RuntimeServiceImpl::RuntimeConfig(grpc::ServerContext* context, const ::runtime::v1::RuntimeConfigRequest* request,
                      ::runtime::v1::RuntimeConfigResponse* response) {
  return Serve("RuntimeConfig", context, *request, [&] { return HandleRuntimeConfig(node_, *request, response); });
}

grpc::Status RuntimeServiceImpl::UpdatePodSandboxResources(grpc::ServerContext* context, const ::runtime::v1::UpdatePodSandboxResourcesRequest* request,
                      ::runtime::v1::UpdatePodSandboxResourcesResponse* response) {
  return Serve("UpdatePodSandboxResources", context, *request,
               [&] { return HandleUpdatePodSandboxResources(node_, *request, response); });
}

}  // namespace berth::cri

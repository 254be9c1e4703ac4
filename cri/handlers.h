// The CRI handlers, one per RPC, each in the file named after its RPC. A handler
// checks its request, calls into pods/ (or image/, network/ through pods/), and
// fills the response; errors come back as Status with the code already right.
#pragma once

#include "base/status.h"
#include <grpcpp/grpcpp.h>

#include "cri/proto/api.grpc.pb.h"
#include "pods/node.h"
#include "streaming/server.h"

namespace berth::cri {

Status HandleVersion(pods::Node& node, const ::runtime::v1::VersionRequest& request,
                     ::runtime::v1::VersionResponse* response);
Status HandleStatus(pods::Node& node, const ::runtime::v1::StatusRequest& request,
                    ::runtime::v1::StatusResponse* response);
Status HandleRuntimeConfig(pods::Node& node, const ::runtime::v1::RuntimeConfigRequest& request,
                           ::runtime::v1::RuntimeConfigResponse* response);
Status HandleUpdateRuntimeConfig(pods::Node& node,
                                 const ::runtime::v1::UpdateRuntimeConfigRequest& request,
                                 ::runtime::v1::UpdateRuntimeConfigResponse* response);

Status HandlePullImage(pods::Node& node, const ::runtime::v1::PullImageRequest& request,
                       ::runtime::v1::PullImageResponse* response);
Status HandleListImages(pods::Node& node, const ::runtime::v1::ListImagesRequest& request,
                        ::runtime::v1::ListImagesResponse* response);
Status HandleStreamImages(pods::Node& node, const ::runtime::v1::StreamImagesRequest& request,
                          grpc::ServerWriter<::runtime::v1::StreamImagesResponse>* writer);
Status HandleImageStatus(pods::Node& node, const ::runtime::v1::ImageStatusRequest& request,
                         ::runtime::v1::ImageStatusResponse* response);
Status HandleRemoveImage(pods::Node& node, const ::runtime::v1::RemoveImageRequest& request,
                         ::runtime::v1::RemoveImageResponse* response);
Status HandleRunPodSandbox(pods::Node& node, const ::runtime::v1::RunPodSandboxRequest& request,
    ::runtime::v1::RunPodSandboxResponse* response);
Status HandleStopPodSandbox(pods::Node& node, const ::runtime::v1::StopPodSandboxRequest& request,
    ::runtime::v1::StopPodSandboxResponse* response);
Status HandleRemovePodSandbox(pods::Node& node, const ::runtime::v1::RemovePodSandboxRequest& request,
    ::runtime::v1::RemovePodSandboxResponse* response);
Status HandlePodSandboxStatus(pods::Node& node, const ::runtime::v1::PodSandboxStatusRequest& request,
    ::runtime::v1::PodSandboxStatusResponse* response);
Status HandleListPodSandbox(pods::Node& node, const ::runtime::v1::ListPodSandboxRequest& request,
    ::runtime::v1::ListPodSandboxResponse* response);
Status HandleStreamPodSandboxes(pods::Node& node, const ::runtime::v1::StreamPodSandboxesRequest& request,
    grpc::ServerWriter<::runtime::v1::StreamPodSandboxesResponse>* writer);
Status HandleCreateContainer(pods::Node& node, const ::runtime::v1::CreateContainerRequest& request,
    ::runtime::v1::CreateContainerResponse* response);
Status HandleStartContainer(pods::Node& node, const ::runtime::v1::StartContainerRequest& request,
    ::runtime::v1::StartContainerResponse* response);
Status HandleStopContainer(pods::Node& node, const ::runtime::v1::StopContainerRequest& request,
    ::runtime::v1::StopContainerResponse* response);
Status HandleRemoveContainer(pods::Node& node, const ::runtime::v1::RemoveContainerRequest& request,
    ::runtime::v1::RemoveContainerResponse* response);
Status HandleListContainers(pods::Node& node, const ::runtime::v1::ListContainersRequest& request,
    ::runtime::v1::ListContainersResponse* response);
Status HandleStreamContainers(pods::Node& node, const ::runtime::v1::StreamContainersRequest& request,
    grpc::ServerWriter<::runtime::v1::StreamContainersResponse>* writer);
Status HandleContainerStatus(pods::Node& node, const ::runtime::v1::ContainerStatusRequest& request,
    ::runtime::v1::ContainerStatusResponse* response);
Status HandleExecSync(pods::Node& node, const ::runtime::v1::ExecSyncRequest& request,
    ::runtime::v1::ExecSyncResponse* response);
Status HandleExec(pods::Node& node, streaming::Server& streaming, const ::runtime::v1::ExecRequest& request,
                  ::runtime::v1::ExecResponse* response);
Status HandleAttach(pods::Node& node, streaming::Server& streaming, const ::runtime::v1::AttachRequest& request,
                    ::runtime::v1::AttachResponse* response);
Status HandlePortForward(pods::Node& node, streaming::Server& streaming,
                         const ::runtime::v1::PortForwardRequest& request,
                         ::runtime::v1::PortForwardResponse* response);
Status HandleReopenContainerLog(pods::Node& node, const ::runtime::v1::ReopenContainerLogRequest& request,
    ::runtime::v1::ReopenContainerLogResponse* response);
Status HandleUpdateContainerResources(pods::Node& node, const ::runtime::v1::UpdateContainerResourcesRequest& request,
    ::runtime::v1::UpdateContainerResourcesResponse* response);
Status HandleCheckpointContainer(pods::Node& node, const ::runtime::v1::CheckpointContainerRequest& request,
    ::runtime::v1::CheckpointContainerResponse* response);
Status HandleCheckpointPod(pods::Node& node, const ::runtime::v1::CheckpointPodRequest& request,
    ::runtime::v1::CheckpointPodResponse* response);
Status HandleRestorePod(pods::Node& node, const ::runtime::v1::RestorePodRequest& request,
    ::runtime::v1::RestorePodResponse* response);
Status HandleUpdatePodSandboxResources(pods::Node& node, const ::runtime::v1::UpdatePodSandboxResourcesRequest& request,
    ::runtime::v1::UpdatePodSandboxResourcesResponse* response);

Status HandleContainerStats(pods::Node& node, const ::runtime::v1::ContainerStatsRequest& request,
    ::runtime::v1::ContainerStatsResponse* response);
Status HandleListContainerStats(pods::Node& node, const ::runtime::v1::ListContainerStatsRequest& request,
    ::runtime::v1::ListContainerStatsResponse* response);
Status HandleStreamContainerStats(pods::Node& node, const ::runtime::v1::StreamContainerStatsRequest& request,
    grpc::ServerWriter<::runtime::v1::StreamContainerStatsResponse>* writer);
Status HandlePodSandboxStats(pods::Node& node, const ::runtime::v1::PodSandboxStatsRequest& request,
    ::runtime::v1::PodSandboxStatsResponse* response);
Status HandleListPodSandboxStats(pods::Node& node, const ::runtime::v1::ListPodSandboxStatsRequest& request,
    ::runtime::v1::ListPodSandboxStatsResponse* response);
Status HandleStreamPodSandboxStats(pods::Node& node, const ::runtime::v1::StreamPodSandboxStatsRequest& request,
    grpc::ServerWriter<::runtime::v1::StreamPodSandboxStatsResponse>* writer);
Status HandleListMetricDescriptors(pods::Node& node, const ::runtime::v1::ListMetricDescriptorsRequest& request,
    ::runtime::v1::ListMetricDescriptorsResponse* response);
Status HandleListPodSandboxMetrics(pods::Node& node, const ::runtime::v1::ListPodSandboxMetricsRequest& request,
    ::runtime::v1::ListPodSandboxMetricsResponse* response);
Status HandleStreamPodSandboxMetrics(pods::Node& node, const ::runtime::v1::StreamPodSandboxMetricsRequest& request,
    grpc::ServerWriter<::runtime::v1::StreamPodSandboxMetricsResponse>* writer);
// Streams lifecycle events until the client goes away (or falls too far behind).
Status HandleGetContainerEvents(pods::Node& node, grpc::ServerContext* context,
    const ::runtime::v1::GetEventsRequest& request,
    grpc::ServerWriter<::runtime::v1::ContainerEventResponse>* writer);

// The CRI form of an image record (shared by the image RPCs).
void FillImage(const image::ImageRecord& record, ::runtime::v1::Image* out);

Status HandleImageFsInfo(pods::Node& node, const ::runtime::v1::ImageFsInfoRequest& request,
                         ::runtime::v1::ImageFsInfoResponse* response);

}  // namespace berth::cri

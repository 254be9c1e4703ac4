// CRI messages to berth's pod and container types and back. The only place that
// knows both.
#pragma once

#include "base/status.h"
#include "cri/proto/api.pb.h"
#include "pods/records.h"

namespace berth::cri {

StatusOr<pods::PodSpec> ToPodSpec(const ::runtime::v1::PodSandboxConfig& config, const std::string& runtime_handler);
StatusOr<pods::ContainerSpec> ToContainerSpec(const ::runtime::v1::ContainerConfig& config);
pods::ResourcesSpec ToResources(const ::runtime::v1::LinuxContainerResources& resources);

void FillPodSandbox(const pods::SandboxRecord& record, ::runtime::v1::PodSandbox* out);
void FillPodSandboxStatus(const pods::SandboxRecord& record, ::runtime::v1::PodSandboxStatus* out);
void FillContainer(const pods::ContainerRecord& record, ::runtime::v1::Container* out);
void FillContainerStatus(const pods::ContainerRecord& record, ::runtime::v1::ContainerStatus* out);

}  // namespace berth::cri

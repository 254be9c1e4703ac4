// berth's pod and container stats as CRI's messages (shared by the stats RPCs of
// pods and containers, and their streaming forms).
#pragma once

#include "cri/proto/api.pb.h"
#include "pods/filters.h"
#include "pods/stats.h"

namespace berth::cri {

void FillContainerStats(const pods::ContainerStats& stats, ::runtime::v1::ContainerStats* out);
void FillPodStats(const pods::PodStats& stats, ::runtime::v1::PodSandboxStats* out);

pods::ContainerFilter ToStatsFilter(const ::runtime::v1::ContainerStatsFilter& filter);
pods::SandboxFilter ToStatsFilter(const ::runtime::v1::PodSandboxStatsFilter& filter);

}  // namespace berth::cri

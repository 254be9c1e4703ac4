// The lifecycle as Prometheus sees it: container exits by reason and OOM kills,
// counted as each exit is recorded; pods and containers by state and dropped event
// subscribers, computed at each scrape (a collector, so no count can drift).
#pragma once

#include <memory>

#include <prometheus/collectable.h>

#include "pods/records.h"

namespace berth::pods {

class Lifecycle;

// Called once per container, as its exit is recorded.
void CountContainerExit(const ContainerRecord& record);

// berth_pod_sandboxes{state}, berth_containers{state} and
// berth_container_event_subscribers_dropped_total.
std::shared_ptr<prometheus::Collectable> LifecycleCollector(Lifecycle& lifecycle);

}  // namespace berth::pods
